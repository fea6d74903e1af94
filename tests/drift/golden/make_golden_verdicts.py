#!/usr/bin/env python3
"""Reference values for the statistics added with the calibrated verdicts:
scipy's chi2_contingency (Yates' correction by default at one degree of
freedom), the beta-binomial tail (exact rationals up to n = 300, scipy beyond), and the CBPE expected ROC AUC as
scikit-learn's roc_auc_score with fractional labels (each prediction counted
as a positive of weight p and a negative of weight 1 - p). Writes
verdicts.json beside this file; stats.json (make_golden.py) is untouched.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy scipy scikit-learn
    /tmp/venv/bin/python tests/drift/golden/make_golden_verdicts.py
"""
import json
import os

import numpy as np
import scipy
import sklearn
from scipy import stats
from sklearn.metrics import roc_auc_score


def exact_betabinom_sf(k, n, a, b):
    from fractions import Fraction
    from math import comb, factorial

    def beta(x, y):
        return Fraction(factorial(x - 1) * factorial(y - 1), factorial(x + y - 1))
    return float(sum(Fraction(comb(n, x)) * beta(x + a, n - x + b) for x in range(k, n + 1)) / beta(a, b))


def main():
    rng = np.random.default_rng(11)
    out = {"scipy": scipy.__version__, "sklearn": sklearn.__version__,
           "contingency": [], "betabinom": [], "cbpe": []}
    for k in [2, 2, 2, 3, 5, 8, 12, 20]:
        for scale in [1, 30, 1000]:
            a = rng.integers(0, 50, size=k) * scale / 10 + rng.integers(1, 5, size=k)
            b = rng.integers(0, 50, size=k) * scale + rng.integers(1, 5, size=k) * 0.5
            if rng.random() < 0.3:
                b = a * (b.sum() / a.sum())  # no change
            chi2, p, dof, _ = stats.chi2_contingency(np.array([a, b]))
            out["contingency"].append({"a": a.tolist(), "b": b.tolist(), "statistic": chi2,
                                       "p": p, "dof": int(dof)})
    for n in [1, 10, 100, 300, 1000, 5000]:
        for r in [100, 170, 1000, 5000]:
            for k in sorted({0, 1, 2, 3, 5, 10, 30, 100, n // 2, n}):
                if k <= n:
                    # exact rational arithmetic where it is quick: scipy's far tail is off
                    # by up to 3e-4 relative (k 3, n 10, beta 4999)
                    exact = exact_betabinom_sf(k, n, 2, r - 1) if n <= 300 else None
                    out["betabinom"].append({"k": k, "n": n, "alpha": 2.0, "beta": r - 1.0,
                                             "sf": exact if exact is not None else
                                             float(stats.betabinom.sf(k - 1, n, 2, r - 1)),
                                             "exact": exact is not None})
    for n in [50, 300, 800]:
        for ties in [False, True]:
            s = rng.random(n)
            if ties:
                s = np.round(s * 20) / 20
            p = np.clip(s ** 1.5 + rng.normal(0, 0.02, n), 0, 1)
            pred = (s >= 0.4).astype(int)
            y = np.concatenate([np.ones(n), np.zeros(n)])
            w = np.concatenate([p, 1 - p])
            auc = roc_auc_score(y, np.concatenate([s, s]), sample_weight=w)
            tp = float((p * pred).sum()); fp = float(((1 - p) * pred).sum())
            fn = float((p * (1 - pred)).sum()); tn = float(((1 - p) * (1 - pred)).sum())
            out["cbpe"].append({"score": s.tolist(), "p": p.tolist(), "predicted": pred.tolist(),
                                "auc": auc, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
                                "f1": 2 * tp / (2 * tp + fp + fn)})
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "verdicts.json")
    with open(path, "w") as f:
        json.dump(out, f)
    print(path)


if __name__ == "__main__":
    main()
