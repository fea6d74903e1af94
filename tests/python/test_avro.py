"""Avro for weir from a DataFrame: nullable unions where values are missing,
id and event-time fields, NaN written as null; and a round trip through
`weir batch` that equals Bundle.predict and the library."""
import json
import subprocess
import warnings

import fastavro
import numpy as np
import pandas as pd
import pytest

import cases
import weir
from conftest import relative_difference, tolerance


def test_schema_has_nullable_unions_only_where_values_are_missing():
    X, _ = cases.frame(50, 1)
    schema = weir.avro_schema(X)
    types = {f["name"]: f["type"] for f in schema["fields"]}
    assert types["event_id"] == "string"
    assert types["event_time"] == {"type": "long", "logicalType": "timestamp-millis"}
    assert types["amount"] == ["null", "double"]
    assert types["hour"] == "long"
    assert types["foreign"] == "boolean"
    assert types["category"] == ["null", "string"]
    assert types["channel"] == "string"


def test_writer_turns_nan_into_null(tmp_path):
    X, _ = cases.frame(50, 1)
    path = tmp_path / "x.avro"
    weir.write_avro(X, str(path))
    with open(path, "rb") as f:
        rows = list(fastavro.reader(f))
    assert len(rows) == 50
    for row, (_, want) in zip(rows, X.iterrows()):
        assert (row["amount"] is None) == bool(np.isnan(want["amount"]))
        assert (row["category"] is None) == bool(pd.isna(want["category"]))


def test_a_column_name_avro_cannot_hold_is_refused():
    with pytest.raises(ValueError, match="not an Avro field name"):
        weir.avro_schema(pd.DataFrame({"bad name": [1.0]}))


ROUND_TRIP = ["logistic_binary", "mlp_regressor", "random_forest_multiclass",
              "hist_gradient_boosting_classifier", "xgboost_classifier", "lightgbm_classifier"]


@pytest.mark.parametrize("case", ROUND_TRIP)
def test_weir_batch_equals_bundle_predict_equals_the_library(tmp_path, weir_binary, case):
    est, X, y, T = cases.build(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weir.export(est, X, y, name="rt", version="1", path=str(tmp_path / "m.json"))
    raw, _ = cases.test_frame()
    raw = raw[list(X.columns)]
    weir.write_avro(raw, str(tmp_path / "in.avro"))
    subprocess.run([weir_binary, "batch", "--model", str(tmp_path / "m.json"), "--in",
                    str(tmp_path / "in.avro"), "--out", str(tmp_path / "out.avro")],
                   check=True, capture_output=True)
    with open(tmp_path / "out.avro", "rb") as f:
        scored = list(fastavro.reader(f))
    assert len(scored) == len(raw)
    b = weir.Bundle(str(tmp_path / "m.json"))
    mine = b.score(raw)
    by_id = {s["event_id"]: s for s in scored}
    for i, key in enumerate(str(k) for k in raw.index):
        s = by_id[key]
        if b.task == "multiclass":
            assert s["scores"] == pytest.approx(list(mine["outputs"][i]), abs=0)
        assert s["score"] == mine["score"][i]
        assert s["label"] == mine["label"][i]
    own = weir.own_prediction(est, T)
    assert relative_difference(own, b.predict(raw)) <= tolerance(case)
