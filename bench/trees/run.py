#!/usr/bin/env python3
"""Tree-ensemble inference: weir against XGBoost's and LightGBM's own
single-threaded CPU prediction of the same batch of rows, one run, as a ratio.

    cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release
    ninja -C build-release tree_bench weir_shared
    WEIR_LIBRARY=build-release/libweir.so.0 ~/.cache/weir/venv-*/bin/python \\
        bench/trees/run.py --bench build-release/bench/tree_bench

(the environment is the one scripts/python-tests.sh makes; any with the
weir package, numpy, pandas, xgboost and lightgbm will do.)

It trains a binary classifier of each library on 100,000 synthetic rows of 30
numeric features with missing values (300 trees; XGBoost depth 6, LightGBM 63
leaves), exports it with weir.export(), checks that weir's outputs equal the
library's on the batch (1e-5), and times the prediction of 20,000 rows: the
library's predict on a float64 numpy array with one thread (XGBoost's
inplace_predict with the booster's nthread=1, LightGBM predict with num_threads=1), and
tree_bench (weir_model_predict over the rows, which hold the raw features
since the bundle has no transforms). Each side is the best of 7 runs.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

import weir

ROWS, FEATURES, BATCH, TREES = 100_000, 30, 20_000, 300


def data(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(ROWS + BATCH, FEATURES))
    X[:, :10] = np.round(X[:, :10] * 4) / 4  # some ties, as real data has
    logit = X[:, 0] - 0.5 * X[:, 1] ** 2 + np.sin(X[:, 2] * 2) + 0.3 * X[:, 3] * X[:, 4]
    y = (rng.random(len(X)) < 1 / (1 + np.exp(-logit))).astype(int)
    X[rng.random(X.shape) < 0.03] = np.nan
    cols = [f"f{j}" for j in range(FEATURES)]
    return pd.DataFrame(X[:ROWS], columns=cols), y[:ROWS], pd.DataFrame(X[ROWS:], columns=cols)


def best_of(fn, runs=7):
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def run_weir(bench, bundle_path, batch, folder):
    rows = os.path.join(folder, "rows.f64")
    np.ascontiguousarray(batch.to_numpy(dtype=np.float64)).tofile(rows)
    out = subprocess.run([bench, bundle_path, rows, "512"], check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[out.index("ns_per_row") + 1])


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bench", default="build-release/bench/tree_bench")
    args = ap.parse_args()
    import lightgbm
    import xgboost
    X, y, batch = data()
    models = {
        "XGBoost": xgboost.XGBClassifier(n_estimators=TREES, max_depth=6, tree_method="hist",
                                         n_jobs=1, random_state=0).fit(X, y),
        "LightGBM": lightgbm.LGBMClassifier(n_estimators=TREES, num_leaves=63, n_jobs=1,
                                            random_state=0, verbose=-1).fit(X, y),
    }
    library_predict = {
        "XGBoost": lambda m: m.get_booster().inplace_predict(batch.to_numpy()),
        "LightGBM": lambda m: m.booster_.predict(batch.to_numpy(), num_threads=1),
    }
    models["XGBoost"].get_booster().set_param({"nthread": 1})
    print(f"{BATCH} rows x {FEATURES} features, {TREES} trees, single-threaded, best of 7\n")
    print(f"{'model':10} {'library ns/row':>15} {'weir ns/row':>12} {'library/weir':>13}")
    with tempfile.TemporaryDirectory() as folder:
        for name, model in models.items():
            path = os.path.join(folder, f"{name}.json")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                weir.export(model, batch, name=name.lower(), version="1", path=path)
            parity = weir.check_parity(model, path, batch)
            assert parity["max_difference"] <= 1e-5, parity
            seconds, _ = best_of(lambda: library_predict[name](model))
            library_ns = seconds * 1e9 / BATCH
            weir_ns = run_weir(args.bench, path, batch, folder)
            print(f"{name:10} {library_ns:15.1f} {weir_ns:12.1f} {library_ns / weir_ns:12.2f}x")


if __name__ == "__main__":
    main()
