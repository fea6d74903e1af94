"""Every supported estimator: exported, then scored through libweir on a frame
with missing values and unseen categories, against the library's own
predictions (1e-6 relative for linear and MLP, 1e-5 for trees) and decisions
(identical)."""
import json
import warnings

import numpy as np
import pandas as pd
import pytest

import cases
import weir
from conftest import relative_difference, tolerance


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = {}
    folder = tmp_path_factory.mktemp("bundles")

    def get(name):
        if name not in out:
            est, X, y, T = cases.build(name)
            path = folder / f"{name}.json"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bundle = weir.export(est, X, y, name=name.replace("_", "-"), version="1",
                                     path=str(path), training_from="2026-01-01T00:00:00Z",
                                     training_to="2026-02-01T00:00:00Z", training_rows=len(X))
            out[name] = (est, X, y, T, path, bundle)
        return out[name]
    return get


def raw_test_frame(X):
    """The test frame as events carry it: text, not pandas categories."""
    T, _ = cases.test_frame()
    return T[list(X.columns)]


@pytest.mark.parametrize("case", cases.ALL)
def test_bundle_scores_as_the_library_does(exported, case):
    est, X, y, T, path, bundle = exported(case)
    b = weir.Bundle(str(path))
    own = weir.own_prediction(est, T)
    got = b.predict(raw_test_frame(X))
    assert not np.any(np.isnan(got)), b.score(raw_test_frame(X))["reason"]
    assert relative_difference(own, got) <= tolerance(case)
    report = weir.check_parity(est, b, T)
    assert report["unscored"] == 0
    assert report["decisions_equal"] in (True, None), report


@pytest.mark.parametrize("case", cases.ALL)
def test_bundle_validates_against_the_schema_and_the_loader(exported, case):
    *_, path, bundle = exported(case)
    report = weir.validate(str(path))
    assert report["checked_by_libweir"]


def test_missing_values_and_unseen_categories_are_in_the_test_frame():
    T, _ = cases.test_frame()
    assert T["amount"].isna().any() and T["age"].isna().any() and T["code"].isna().any()
    assert (T["category"] == "crypto").any() and (T["channel"] == "kiosk").any()


def test_tree_bundles_route_missing_values_themselves(exported):
    *_, bundle = exported("xgboost_classifier")
    missing = {f["name"]: f.get("missing") for f in bundle["features"]}
    assert missing["amount"] == "nan" and missing["age"] == "nan"
    assert bundle["model"]["kind"] == "trees" and bundle["model"]["split"] == "float32_less"


def test_a_library_that_refuses_missing_values_gets_missing_error(exported):
    *_, bundle = exported("gradient_boosting_classifier")
    amount = next(f for f in bundle["features"] if f["name"] == "amount")
    assert amount["missing"] == "impute"  # the pipeline's SimpleImputer
    *_, bundle = exported("logistic_binary")
    hour = next(f for f in bundle["features"] if f["source"] == "hour")
    assert "missing" not in hour or hour["missing"] == "error"


def test_default_threshold_is_the_libraries_strict_half(exported):
    *_, bundle = exported("logistic_binary")
    assert bundle["threshold"] == np.nextafter(0.5, 1)
    b = weir.Bundle(text=json.dumps(bundle))
    assert b.threshold > 0.5


def test_decision_exactly_at_one_half_matches_the_library():
    """A tree whose leaves sum to a margin of exactly 0: P = 0.5, which every
    library calls class 0; weir must too."""
    import xgboost
    X = pd.DataFrame({"a": [0.0, 1.0, 0.0, 1.0] * 50})
    y = np.array([0, 1, 1, 0] * 50)
    est = xgboost.XGBClassifier(n_estimators=2, max_depth=1, base_score=0.5, n_jobs=1).fit(X, y)
    assert np.all(np.abs(est.predict_proba(X)[:, 1] - 0.5) < 1e-6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = weir.export(est, X, y, name="half", version="1")
    b = weir.Bundle(text=json.dumps(bundle))
    assert list(b.predict_label(X)) == [str(v) for v in est.predict(X)]


def test_training_window_and_reference_split_are_recorded(exported):
    *_, bundle = exported("lightgbm_classifier")
    assert bundle["training"] == {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z",
                                  "rows": 1200, "reference_split": "test"}
    ref = bundle["reference"]
    assert set(ref["features"]) == {f["name"] for f in bundle["features"]}
    assert ref["features"]["amount"]["missing_rate"] > 0
    assert ref["score"]["n"] == 1200
    assert 0.5 < ref["performance"]["auc"] <= 1


def test_a_small_reference_is_warned_about():
    est, X, y, T = cases.build("logistic_binary")
    with pytest.warns(UserWarning, match="fewer than the drift window"):
        weir.export(est, X.iloc[:300], y[:300], name="small", version="1")


def test_numbers_learned_as_floats_are_written_as_weir_writes_them(exported):
    """pandas holds code as 1.0/2.0/3.0; weir formats an event's 1 as "1"."""
    *_, bundle = exported("logistic_binary")
    code = next(f for f in bundle["features"] if f["source"] == "code")
    assert code["transform"][-1]["categories"] == ["1", "2", "3"]
    b = weir.Bundle(text=json.dumps(bundle))
    T, _ = cases.test_frame(10)
    as_int = T.copy()
    as_int["code"] = T["code"].fillna(1).astype(int)
    as_float = T.copy()
    as_float["code"] = T["code"].fillna(1)
    np.testing.assert_array_equal(b.predict(as_int), b.predict(as_float))
