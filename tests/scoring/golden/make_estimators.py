#!/usr/bin/env python3
"""Golden predictions of every estimator the weir Python package exports
(tests/scoring/test_estimators.c checks them in C, with no Python needed).

Run it through the test environment, from the repository root:

    WEIR_PYTHON_VENV=... scripts/python-tests.sh build    (creates the environment)
    ~/.cache/weir/venv-*/bin/python tests/scoring/golden/make_estimators.py

It trains each case of tests/python/cases.py (scikit-learn, XGBoost and
LightGBM at the versions python/requirements-test.txt pins), exports it with
weir.export(), and writes estimators.json next to itself: per case, the
bundle, the test events (raw values by field: null for a missing value,
categories the training never saw included) and the library's own outputs
(P(positive), class probabilities or the prediction) and decided classes.
Reference samples are cut to 50 values to keep the file small.
"""
import json
import math
import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
sys.path.insert(0, os.path.join(ROOT, "python"))

import cases  # noqa: E402
import weir  # noqa: E402
from weir._export import _library_decisions  # noqa: E402


def event_value(v):
    if weir.category_string(v) is None:
        return None
    if isinstance(v, (bool, np.bool_)):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float, np.integer, np.floating)):
        return float(v)
    return str(v)


def make_case(name):
    est, X, y, T = cases.build(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bundle = weir.export(est, X, y, name=name.replace("_", "-"), version="1",
                             created="2026-11-26T00:00:00Z", sample_size=50, check=False,
                             training_from="2026-01-01T00:00:00Z",
                             training_to="2026-02-01T00:00:00Z")
    raw, _ = cases.test_frame()
    raw = raw[list(X.columns)]
    events = [{c: event_value(v) for c, v in row.items()} for _, row in raw.iterrows()]
    own = weir.own_prediction(est, T)
    expected = own.reshape(len(T), -1).tolist()
    decisions = []
    if bundle["task"] != "regression":
        b = weir.Bundle(text=json.dumps(bundle))
        labels = _library_decisions(est, T, b)
        decisions = [bundle["classes"].index(label) for label in labels]
    return {"name": name, "kind": "dense" if name in cases.DENSE else "trees",
            "bundle": bundle, "events": events, "expected": expected, "decisions": decisions}


def main():
    out = {"cases": [make_case(name) for name in cases.ALL]}
    path = os.path.join(HERE, "estimators.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"estimators.json: {os.path.getsize(path)} bytes, {len(out['cases'])} cases")


if __name__ == "__main__":
    main()
