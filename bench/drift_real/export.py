#!/usr/bin/env python3
"""Exports the real datasets of the drift false-alarm benchmark and test.

Four datasets that Python packages ship inside their wheels (nothing is
downloaded): scikit-learn's breast cancer (569 x 30, continuous) and digits
(8x8 images: 20 pixel columns with many ties, 1200 of the 1797 rows),
statsmodels' `fair` (affairs survey: 2000 of 6366 rows, 4 categorical and 5
numeric columns) and `anes96` (944 voters, 6 categorical and 5 numeric
columns). They are written as small CSV files under tests/drift/golden/real/
so that the C benchmark (bench/drift_real) and the CI test
(tests/drift/test_false_alarms.c) need no Python. The header names each
column and its type (`name:numeric` or `name:categorical`); rows are in the
dataset's order (the benchmark shuffles them with its own seed).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy scikit-learn statsmodels
    /tmp/venv/bin/python bench/drift_real/export.py
"""
import os

import numpy as np
import sklearn
import statsmodels
import statsmodels.datasets as smd
from sklearn import datasets as skd

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "drift", "golden", "real")


def write(name, columns, rows, note):
    path = os.path.join(OUT, name + ".csv")
    with open(path, "w") as f:
        f.write("# " + note + "\n")
        f.write(",".join(f"{c}:{t}" for c, t in columns) + "\n")
        for r in rows:
            f.write(",".join("" if v is None else (f"{v:.6g}" if isinstance(v, float) else str(v)) for v in r) + "\n")
    print(f"{path}: {len(rows)} rows, {len(columns)} columns")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(2024)
    bc = skd.load_breast_cancer()
    names = [n.replace(" ", "_") for n in bc.feature_names]
    write("breast_cancer", [(n, "numeric") for n in names], [[float(v) for v in r] for r in bc.data],
          f"scikit-learn {sklearn.__version__} load_breast_cancer()")

    dg = skd.load_digits()
    cols = [2, 3, 4, 5, 10, 11, 12, 13, 18, 19, 20, 21, 26, 27, 28, 29, 34, 35, 36, 37]
    keep = np.sort(rng.choice(len(dg.data), 1200, replace=False))
    write("digits", [(f"pixel_{c}", "numeric") for c in cols],
          [[float(dg.data[i, c]) for c in cols] for i in keep],
          f"scikit-learn {sklearn.__version__} load_digits(): 20 pixels, 1200 random rows")

    fair = smd.fair.load_pandas().data
    keep = np.sort(rng.choice(len(fair), 2000, replace=False))
    fair = fair.iloc[keep]
    cat = ["rate_marriage", "religious", "occupation", "occupation_husb"]
    num = ["age", "yrs_married", "children", "educ", "affairs"]
    write("fair", [(c, "categorical") for c in cat] + [(c, "numeric") for c in num],
          [[str(int(r[c])) for c in cat] + [float(r[c]) for c in num] for _, r in fair.iterrows()],
          f"statsmodels {statsmodels.__version__} datasets.fair: 2000 random rows")

    anes = smd.anes96.load_pandas().data
    cat = ["TVnews", "selfLR", "ClinLR", "DoleLR", "PID", "educ"]
    num = ["popul", "age", "income", "logpopul", "vote"]
    write("anes96", [(c, "categorical") for c in cat] + [(c, "numeric") for c in num],
          [[str(int(r[c])) for c in cat] + [float(r[c]) for c in num] for _, r in anes.iterrows()],
          f"statsmodels {statsmodels.__version__} datasets.anes96")


if __name__ == "__main__":
    main()
