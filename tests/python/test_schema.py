"""The JSON Schema of weir.model/1 in step with the C loader: the same keys
and choices as scoring/bundle.c's tables, and the same verdict on the
bundles the repository holds and on broken ones."""
import json
import os
import re

import jsonschema
import pytest

import weir

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LOADER = open(os.path.join(ROOT, "scoring", "bundle.c")).read()


def c_table(name):
    """The strings of `static const char *const NAME[] = {...}` in bundle.c."""
    m = re.search(r"static const char \*const " + re.escape(name) + r"\[\] = \{(.*?)\};", LOADER,
                  re.S)
    assert m, name
    return [s for s in re.findall(r'"([^"]*)"', m.group(1))]


def c_step_keys():
    out = {}
    for op, body in re.findall(r"\[WEIR_STEP_(\w+)\] = \(const char \*const\[\]\)\{(.*?)\}",
                               LOADER):
        out[op.lower()] = re.findall(r'"([^"]*)"', body)
    return out


def c_local_table(function, variable):
    body = LOADER[LOADER.index(f"static int {function}("):]
    m = re.search(r"const char \*const " + variable + r"\[\] = \{(.*?)\};", body, re.S)
    return re.findall(r'"([^"]*)"', m.group(1))


SCHEMA = weir.bundle_schema()
DEFS = SCHEMA["$defs"]


def test_top_level_keys_and_choices_are_the_loaders():
    assert set(SCHEMA["properties"]) == set(c_table("bundle_keys"))
    assert set(SCHEMA["properties"]["training"]["properties"]) == set(c_table("training_keys"))
    assert SCHEMA["properties"]["task"]["enum"] == c_table("task_names")


def test_feature_keys_and_choices_are_the_loaders():
    f = DEFS["feature"]["properties"]
    assert set(f) == set(c_table("feature_keys"))
    assert f["type"]["enum"] == c_table("feature_type_names")
    assert f["missing"]["enum"] == c_table("missing_names")


def test_every_step_and_its_keys_are_the_loaders():
    assert list(DEFS["steps"]) == c_table("step_names")
    keys = c_step_keys()
    for op, step in DEFS["steps"].items():
        assert set(step["properties"]) == set(keys[op]), op
    assert DEFS["steps"]["one_hot"]["properties"]["unknown"]["enum"] == c_table("unknown_names")
    assert DEFS["steps"]["ordinal"]["properties"]["unknown"]["enum"] == \
        c_table("ordinal_unknown_names")
    assert DEFS["steps"]["bucketize"]["properties"]["output"]["enum"] == \
        c_table("bucketize_output_names")


def test_every_model_kind_and_its_keys_are_the_loaders():
    assert list(DEFS["models"]) == c_table("kind_names")
    assert set(DEFS["models"]["mlp"]["properties"]) == set(c_local_table("parse_model", "mlp_keys"))
    for kind in ("linear", "logistic", "softmax"):
        assert set(DEFS["models"][kind]["properties"]) == set(
            c_local_table("parse_model", "dense_keys"))
    assert set(DEFS["layer"]["properties"]) == set(c_local_table("parse_layer", "layer_keys"))
    assert DEFS["layer"]["properties"]["activation"]["enum"] == c_table("activation_names")
    trees = DEFS["models"]["trees"]["properties"]
    assert set(trees) == set(c_local_table("parse_trees", "keys"))
    assert trees["split"]["enum"] == c_table("split_names")
    assert trees["category_side"]["enum"] == c_table("side_names")
    assert trees["link"]["enum"] == c_table("link_names")
    assert set(DEFS["tree"]["properties"]) == set(c_local_table("parse_tree", "tree_keys"))


def test_reference_keys_are_the_loaders():
    assert set(DEFS["reference"]["properties"]) == set(c_table("reference_keys"))
    assert set(DEFS["distribution"]["properties"]) == set(c_table("distribution_keys"))
    assert set(DEFS["distribution"]["properties"]["bins"]["properties"]) == set(
        c_table("bins_keys"))
    assert set(DEFS["performance"]["properties"]) == set(
        c_local_table("parse_performance", "keys"))


def repository_bundles():
    out = [os.path.join(ROOT, "examples", "model.json")]
    for name in ("models.json", "sklearn.json", "transforms.json", "estimators.json"):
        path = os.path.join(ROOT, "tests", "scoring", "golden", name)
        if os.path.exists(path):
            for case in json.load(open(path))["cases"]:
                out.append(case["bundle"])
    return out


def test_every_bundle_of_the_repository_passes_both(tmp_path):
    validator = jsonschema.Draft202012Validator(SCHEMA)
    for i, bundle in enumerate(repository_bundles()):
        if isinstance(bundle, str):
            bundle = json.load(open(bundle))
        errors = list(validator.iter_errors(bundle))
        assert not errors, (bundle.get("name"), errors[0].message)
        weir.Bundle(text=json.dumps(bundle)).close()


BROKEN = [
    ("features", 0, "transform", 0, "stdev"),
    ("model", "kind", "forest"),
    ("features", 0, "missing", "skip"),
    ("model", "trees_extra"),
]


def mutate(bundle, how):
    b = json.loads(json.dumps(bundle))
    if how == "unknown step key":
        b["features"][0]["transform"] = [{"op": "log1p", "stdev": 1}]
    elif how == "unknown kind":
        b["model"]["kind"] = "forest"
    elif how == "unknown missing":
        b["features"][0]["missing"] = "skip"
    elif how == "unknown top key":
        b["model_path"] = "x"
    elif how == "bad tree key":
        b["model"] = {"kind": "trees", "link": "identity",
                      "trees": [{"feature": [-1], "threshold": [0], "left": [-1], "right": [-1],
                                 "value": [1], "weights": []}]}
    elif how == "regression with classes":
        b["classes"] = ["a", "b"]
    return b


@pytest.mark.parametrize("how", ["unknown step key", "unknown kind", "unknown missing",
                                 "unknown top key", "bad tree key", "regression with classes"])
def test_a_broken_bundle_fails_both(how, tmp_path):
    good = {"format": "weir.model/1", "name": "m", "version": "1", "task": "regression",
            "features": [{"name": "x", "source": "x", "type": "numeric"}],
            "model": {"kind": "linear", "weights": [1], "bias": 0}}
    weir.Bundle(text=json.dumps(good)).close()
    bad = mutate(good, how)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(bad))
    with pytest.raises(weir.WeirError):
        weir.Bundle(text=json.dumps(bad))
    with pytest.raises(weir.Invalid):
        weir.validate(str(path))
