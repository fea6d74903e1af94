#!/usr/bin/env python3
"""Trains the example fraud model and writes examples/model.json (weir.model/1).

Reproducible: the data comes from `weir gen` with a fixed seed, the split and
the solver are deterministic, so rerunning gives the same features, threshold
and held-out figures (the fitted weights agree to about 1e-5: the last digits
of lbfgs depend on the BLAS numpy uses).

    scripts/setup.sh          # Debian packages, and .venv with numpy, scikit-learn, avro
    cmake -S . -B build -G Ninja && ninja -C build weir
    .venv/bin/python examples/make_model.py --weir build/weir --out model-again.json

What it does:
  1. `weir gen` writes 200,000 transactions (seed 7, ~1% fraud) and their
     labels to Avro files in a temporary folder;
  2. the feature transforms below are fitted on the first 70% (medians,
     means, standard deviations) and applied with examples/weir_reference.py,
     the plain-Python implementation of the bundle semantics;
  3. scikit-learn's LogisticRegression is trained on them; the threshold is
     the one with the best F1 on the next 15% (validation);
  4. the bundle gets a reference profile of every raw feature and of the score
     (samples, decile bins, category frequencies) and the performance at that
     threshold, both from the last 15% (test), which neither the fit nor the
     threshold saw, for weir's drift monitoring;
  5. and, from examples/reference_extras.py, a PCA of the numeric features on
     the test split (multivariate drift) and a calibration map of the scores
     fitted on the validation split (performance estimation without labels).
"""
import argparse
import datetime
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np
from avro.datafile import DataFileReader
from avro.io import DatumReader
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, precision_score, recall_score, roc_auc_score

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference_extras  # noqa: E402
import weir_reference  # noqa: E402

SEED = 7
COUNT = 200_000
TRAIN_SHARE = 0.70  # the first 70% fit the transforms and the model
VALID_SHARE = 0.15  # the next 15% choose the threshold; the last 15% test
SAMPLE = 5000
CATEGORIES = ["grocery", "restaurant", "gas", "online_retail", "travel", "electronics",
              "entertainment", "health", "utilities", "jewelry", "clothing"]


def read_avro(path):
    with open(path, "rb") as f:
        return list(DataFileReader(f, DatumReader()))


def numeric(events, field):
    return np.array([e[field] for e in events if e[field] is not None], dtype=float)


def feature_specs(train):
    """The feature list with transform parameters fitted on the training part."""
    def std_after(field, pre):
        values = numeric(train, field)
        for fn in pre:
            values = fn(values)
        return float(values.mean()), float(values.std() or 1.0)

    def logged(field, lo=0.0, hi=None, impute=None):
        pre_clip = (lambda v: np.clip(v, lo, hi if hi is not None else np.inf))
        mean, std = std_after(field, [pre_clip, np.log1p])
        steps = []
        if impute is not None:
            steps.append({"op": "impute", "value": impute})
        clip = {"op": "clip", "min": lo}
        if hi is not None:
            clip["max"] = hi
        steps += [clip, {"op": "log1p"}, {"op": "standardize", "mean": mean, "std": std}]
        return steps

    def standardized(field, impute=None, lo=None, hi=None):
        values = numeric(train, field)
        steps = []
        if impute is not None:
            steps.append({"op": "impute", "value": impute})
        if lo is not None or hi is not None:
            clip = {"op": "clip"}
            if lo is not None:
                clip["min"] = lo
            if hi is not None:
                clip["max"] = hi
            steps.append(clip)
            values = np.clip(values, lo if lo is not None else -np.inf, hi if hi is not None else np.inf)
        steps.append({"op": "standardize", "mean": float(values.mean()), "std": float(values.std() or 1.0)})
        return steps

    age_median = float(np.median(numeric(train, "customer_age")))
    gap_median = float(np.median(numeric(train, "seconds_since_last_tx")))
    dist_median = float(np.median(numeric(train, "distance_from_last_tx_km")))

    def num(name, transform, missing="error", ftype="numeric"):
        return {"name": name, "source": name, "type": ftype, "missing": missing, "transform": transform}

    def cat(name, transform, missing="error"):
        return {"name": name, "source": name, "type": "categorical", "missing": missing, "transform": transform}

    return [
        num("amount", logged("amount", 0.0, 50000.0)),
        num("amount_avg_30d", logged("amount_avg_30d", 0.0, 50000.0)),
        cat("merchant_category", [{"op": "one_hot", "categories": CATEGORIES, "unknown": "extra"}]),
        cat("channel", [{"op": "one_hot", "categories": ["pos", "online", "atm", "moto"], "unknown": "error"}]),
        num("card_present", [], ftype="boolean"),
        num("local_hour", [{"op": "bucketize", "edges": [6, 12, 18, 22], "output": "one_hot"}]),
        num("day_of_week", [{"op": "min_max", "min": 0, "max": 6}]),
        num("customer_age", standardized("customer_age", impute=age_median), missing="impute"),
        num("account_age_days", logged("account_age_days", 0.0, 20000.0)),
        num("distance_from_home_km", logged("distance_from_home_km", 0.0)),
        num("distance_from_last_tx_km", logged("distance_from_last_tx_km", 0.0, impute=dist_median), missing="impute"),
        num("seconds_since_last_tx", logged("seconds_since_last_tx", 0.0, impute=gap_median), missing="impute"),
        num("tx_count_1h", standardized("tx_count_1h", lo=0, hi=20)),
        num("tx_count_24h", standardized("tx_count_24h", lo=0, hi=50)),
        num("failed_pin_attempts", [{"op": "clip", "min": 0, "max": 5}]),
        num("is_foreign", [], ftype="boolean"),
        num("device_trust_score", [{"op": "impute", "value": 0.75}, {"op": "min_max", "min": 0, "max": 1}], missing="impute"),
        num("ip_risk_score", standardized("ip_risk_score")),
        num("chargebacks_90d", [{"op": "clip", "min": 0, "max": 10}]),
        num("credit_limit", logged("credit_limit", 0.0)),
        num("balance_utilization", [{"op": "min_max", "min": 0, "max": 1}]),
        cat("country", [{"op": "hash", "buckets": 16, "seed": 0}]),
        cat("currency", [{"op": "one_hot", "categories": ["USD", "EUR", "GBP", "CAD", "BRL", "INR"], "unknown": "extra"}]),
        cat("merchant_id", [{"op": "hash", "buckets": 64, "seed": 17}]),
    ]


def deciles(values):
    qs = np.quantile(values, np.linspace(0.1, 0.9, 9))
    edges = sorted(set(float(q) for q in qs))
    counts = np.zeros(len(edges) + 1)
    idx = np.searchsorted(np.array(edges), values, side="left")  # edges strictly below v
    for i in idx:
        counts[i] += 1
    return {"edges": edges, "proportions": [float(c) for c in counts / counts.sum()]}


def numeric_reference(values, n_total, rng):
    values = np.asarray(values, dtype=float)
    sample = rng.choice(values, size=min(SAMPLE, len(values)), replace=False)
    return {
        "n": int(n_total),
        "missing_rate": float(1 - len(values) / n_total),
        "sample": [float(v) for v in sample],
        "bins": deciles(values),
        "mean": float(values.mean()),
        "std": float(values.std()),
    }


def reference_profile(features, events, scores, rng):
    out = {}
    for f in features:
        raw = [weir_reference._get(e, f["source"]) for e in events]
        present = [v for v in raw if v is not None]
        if f["type"] == "categorical":
            strings = [weir_reference._category_string(v) for v in present]
            uniq, counts = np.unique(strings, return_counts=True)
            order = np.argsort(-counts, kind="stable")
            out[f["name"]] = {
                "n": len(raw),
                "missing_rate": float(1 - len(present) / len(raw)),
                "categories": {str(uniq[i]): float(counts[i] / counts.sum()) for i in order},
            }
        else:
            values = [float(v) for v in present]
            out[f["name"]] = numeric_reference(values, len(raw), rng)
    return {"features": out, "score": numeric_reference(scores, len(scores), rng)}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weir", default="build/weir", help="path of the weir binary")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.json"))
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        events_path = os.path.join(tmp, "train.avro")
        labels_path = os.path.join(tmp, "labels.avro")
        subprocess.run([args.weir, "gen", "--out", "file:" + events_path, "--count", str(COUNT),
                        "--seed", str(SEED), "--labels", "file:" + labels_path, "--label-delay", "0", "-q"],
                       check=True)
        events = read_avro(events_path)
        labels = {l["event_id"]: int(l["label"]) for l in read_avro(labels_path)}
    y = np.array([labels[e["event_id"]] for e in events])
    split = int(len(events) * TRAIN_SHARE)
    valid = int(len(events) * (TRAIN_SHARE + VALID_SHARE))
    train, held = events[:split], events[valid:]
    features = feature_specs(train)
    bundle = {"format": "weir.model/1", "features": features, "task": "binary"}
    X = np.array([weir_reference.transform(bundle, e) for e in events])
    Xtr, Xva, Xte = X[:split], X[split:valid], X[valid:]
    ytr, yva, yte = y[:split], y[split:valid], y[valid:]

    clf = LogisticRegression(C=0.5, max_iter=5000, solver="lbfgs")
    clf.fit(Xtr, ytr)
    pva = clf.predict_proba(Xva)[:, 1]
    best_t, best_f1 = 0.5, -1.0
    for t in np.linspace(0.05, 0.95, 91):
        f1 = f1_score(yva, pva >= t, zero_division=0)
        if f1 > best_f1:
            best_t, best_f1 = float(round(t, 2)), f1
    p = clf.predict_proba(Xte)[:, 1]
    pred = p >= best_t
    rng = np.random.default_rng(SEED)

    bundle = {
        "format": "weir.model/1",
        "name": "fraud-lr",
        "version": "1.0.0",
        "created": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc).isoformat().replace("+00:00", "Z"),
        "description": "Example card-fraud model: logistic regression over 24 transaction features (examples/make_model.py).",
        "training": {"from": "2026-01-01T00:00:00Z", "to": "2026-01-01T01:56:40Z", "rows": split},
        "task": "binary",
        "threshold": best_t,
        "classes": ["legit", "fraud"],
        "features": features,
        "model": {"kind": "logistic", "weights": [float(w) for w in clf.coef_[0]], "bias": float(clf.intercept_[0])},
        "reference": reference_profile(features, held, p, rng),
    }
    bundle["reference"]["pca"] = reference_extras.pca_reference(features, held)
    bundle["reference"]["calibration"] = reference_extras.calibration(pva, yva)
    bundle["reference"]["performance"] = {
        "n": int(len(yte)),
        "auc": float(roc_auc_score(yte, p)),
        "precision": float(precision_score(yte, pred, zero_division=0)),
        "recall": float(recall_score(yte, pred)),
        "f1": float(f1_score(yte, pred)),
        "accuracy": float(accuracy_score(yte, pred)),
        "positive_rate": float(yte.mean()),
        "log_loss": float(log_loss(yte, p)),
    }
    with open(args.out, "w") as f:
        json.dump(bundle, f, indent=1)
        f.write("\n")
    perf = bundle["reference"]["performance"]
    print(f"wrote {args.out}: {X.shape[1]} columns, threshold {best_t}, held-out AUC {perf['auc']:.4f}, "
          f"precision {perf['precision']:.3f}, recall {perf['recall']:.3f}, F1 {perf['f1']:.3f}")


if __name__ == "__main__":
    main()
