#!/usr/bin/env python3
"""Golden vectors for weir's evaluation metrics (tests/eval/test_metrics.c).

scikit-learn computes every value the C tests compare against, to 1e-9:
roc_auc_score, average_precision_score, log_loss, brier_score_loss,
precision_recall_fscore_support, confusion_matrix, accuracy_score,
calibration_curve (uniform and quantile bins), the multiclass averages and
one-vs-rest AUC, and the regression metrics; numpy.quantile the quantiles.

Run it in a virtual environment of its own (never the system's packages):

    python3 -m venv /tmp/weir-eval-venv
    /tmp/weir-eval-venv/bin/pip install scikit-learn==1.5.2 numpy==2.4.6
    /tmp/weir-eval-venv/bin/python tests/eval/golden/make_golden.py

It writes metrics.json next to itself. Every input comes from numpy's PCG64
with fixed seeds and is rounded to 6 decimals before anything is computed,
so the file stays small and a rerun with the same versions rewrites it byte
for byte. The C tests need no Python: the file is committed.
"""
import json
import math
import os

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    log_loss,
    max_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    median_absolute_error,
    precision_recall_fscore_support,
    r2_score,
    roc_auc_score,
)

HERE = os.path.dirname(os.path.abspath(__file__))


def num(x):
    x = float(x)
    return None if math.isnan(x) else x


def binary_case(name, scores, labels, thresholds):
    scores = np.round(np.asarray(scores, dtype=np.float64), 6)
    labels = np.asarray(labels, dtype=np.int64)
    case = {"name": name, "scores": scores.tolist(), "labels": labels.tolist()}
    both = len(set(labels.tolist())) == 2
    case["roc_auc"] = num(roc_auc_score(labels, scores)) if both else None
    case["average_precision"] = num(average_precision_score(labels, scores)) if labels.sum() else None
    case["log_loss"] = num(log_loss(labels, scores, labels=[0, 1]))
    case["brier"] = num(brier_score_loss(labels, scores))
    at = []
    for t in thresholds:
        pred = (scores >= t).astype(np.int64)
        p, r, f, _ = precision_recall_fscore_support(
            labels, pred, average="binary", zero_division=0)
        tn, fp, fn, tp = confusion_matrix(labels, pred, labels=[0, 1]).ravel()
        at.append({"threshold": t, "precision": num(p), "recall": num(r), "f1": num(f),
                   "accuracy": num(accuracy_score(labels, pred)),
                   "tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn)})
    case["at_threshold"] = at
    cal = []
    for strategy, bins in (("uniform", 10), ("uniform", 5), ("quantile", 10)):
        prob_true, prob_pred = calibration_curve(labels, scores, n_bins=bins, strategy=strategy)
        cal.append({"strategy": strategy, "bins": bins, "prob_true": prob_true.tolist(),
                    "prob_pred": prob_pred.tolist()})
    case["calibration"] = cal
    return case


def multiclass_case(name, rng, n, k):
    logits = rng.normal(size=(n, k)) * 1.5
    proba = np.exp(logits)
    proba /= proba.sum(axis=1, keepdims=True)
    proba = np.round(proba, 6)
    pred = proba.argmax(axis=1)
    noise = rng.random(n) < 0.35
    labels = np.where(noise, rng.integers(0, k, n), pred)
    classes = list(range(k))
    case = {"name": name, "k": k, "proba": proba.tolist(), "predicted": pred.tolist(),
            "labels": labels.tolist()}
    p, r, f, s = precision_recall_fscore_support(labels, pred, labels=classes, zero_division=0)
    case["precision"], case["recall"], case["f1"] = p.tolist(), r.tolist(), f.tolist()
    case["support"] = s.tolist()
    for avg in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(labels, pred, labels=classes, average=avg,
                                                     zero_division=0)
        case[avg] = {"precision": num(p), "recall": num(r), "f1": num(f)}
    case["accuracy"] = num(accuracy_score(labels, pred))
    case["confusion"] = confusion_matrix(labels, pred, labels=classes).tolist()
    case["log_loss"] = num(log_loss(labels, proba, labels=classes))
    # roc_auc_score checks that the rows sum to 1; rounding moved them a little
    case["roc_auc_ovr"] = num(np.mean([roc_auc_score(labels == c, proba[:, c]) for c in classes]))
    return case


def regression_case(name, y, p):
    y = np.round(np.asarray(y, dtype=np.float64), 6)
    p = np.round(np.asarray(p, dtype=np.float64), 6)
    mse = mean_squared_error(y, p)
    return {"name": name, "labels": y.tolist(), "predicted": p.tolist(),
            "mae": num(mean_absolute_error(y, p)), "mse": num(mse), "rmse": num(math.sqrt(mse)),
            "r2": num(r2_score(y, p)), "mape": num(mean_absolute_percentage_error(y, p)),
            "median_ae": num(median_absolute_error(y, p)), "max_error": num(max_error(y, p))}


def main():
    rng = np.random.Generator(np.random.PCG64(20261201))
    binary = []
    # separable-ish scores, 30% positives
    y = (rng.random(1000) < 0.3).astype(int)
    s = 1 / (1 + np.exp(-(rng.normal(size=1000) + 1.2 * (2 * y - 1))))
    binary.append(binary_case("logistic_1000", s, y, [0.5, 0.3, 0.13, 0.9]))
    # heavy ties: scores on a 0.05 grid
    y = (rng.random(2000) < 0.4).astype(int)
    s = np.clip(np.round((rng.random(2000) * 0.6 + 0.4 * y) / 0.05) * 0.05, 0, 1)
    binary.append(binary_case("ties_on_a_grid_2000", s, y, [0.5, 0.45, 0.05]))
    # imbalanced, as fraud is
    y = (rng.random(5000) < 0.02).astype(int)
    s = 1 / (1 + np.exp(-(rng.normal(size=5000) * 1.3 - 4 + 2.5 * y)))
    binary.append(binary_case("imbalanced_2pct_5000", s, y, [0.5, 0.13, 0.05, 0.01]))
    # scores of exactly 0 and 1: log loss clips them
    y = np.array([1, 0, 1, 0, 1, 1, 0, 0, 1, 0])
    s = np.array([1.0, 0.0, 0.0, 1.0, 0.7, 0.3, 0.3, 0.7, 1.0, 0.0])
    binary.append(binary_case("zeros_and_ones", s, y, [0.5, 1.0, 0.0]))
    # every score equal
    y = np.array([0, 1, 0, 1, 1, 0, 0])
    s = np.full(7, 0.42)
    binary.append(binary_case("constant_score", s, y, [0.42, 0.5]))
    # one class only: AUC is undefined
    y = np.zeros(50, dtype=int)
    s = rng.random(50)
    binary.append(binary_case("negatives_only", s, y, [0.5]))

    multiclass = [multiclass_case("three_classes_600", rng, 600, 3),
                  multiclass_case("five_classes_1000", rng, 1000, 5)]

    x = rng.normal(size=800) * 10 + 50
    regression = [
        regression_case("noisy_800", x, x + rng.normal(size=800) * 3 + 0.5),
        regression_case("zeros_in_labels", [0.0, 1.0, 2.0, 0.0, 5.0], [0.1, 1.2, 1.8, -0.2, 4.0]),
        regression_case("constant_labels", [3.0] * 6, [2.0, 3.0, 4.0, 3.0, 3.5, 2.5]),
        regression_case("perfect_constant", [2.0] * 4, [2.0] * 4),
    ]

    quantiles = []
    for n in (1, 2, 7, 100, 1001):
        a = np.sort(np.round(rng.normal(size=n) * 5, 6))
        qs = [0.0, 0.01, 0.05, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 0.95, 0.99, 1.0]
        quantiles.append({"values": a.tolist(), "q": qs,
                          "quantiles": [float(np.quantile(a, q)) for q in qs]})

    out = {"generator": "scikit-learn %s, numpy %s" % (sklearn.__version__, np.__version__),
           "binary": binary, "multiclass": multiclass, "regression": regression,
           "quantiles": quantiles}
    with open(os.path.join(HERE, "metrics.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
