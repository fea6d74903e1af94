#!/usr/bin/env python3
"""weir's dataset verdicts side by side with Evidently's DataDriftPreset and
alibi-detect's TabularDrift, on the same windows (not run in CI: the peers are
heavy packages).

bench/drift_real writes every window it judges (the reference rows, the
window's rows, weir's verdict, and weir's verdict on the same window with each
numeric column moved by half its reference standard deviation); this script
loads the same CSV files, builds the same reference and window data frames,
and asks the peers:

- Evidently 0.7 DataDriftPreset: per column its default test (K-S or
  chi-square p-values below 1000 rows, Wasserstein or Jensen-Shannon
  distances above); the dataset drifts when the share of drifted columns
  reaches 0.5, as weir's `drift.share`;
- alibi-detect TabularDrift: K-S per numeric and chi-square per categorical
  column, Bonferroni across columns, drift when any column drifts (p < 0.05).

    ninja -C build drift_real && build/bench/drift_real --windows /tmp/windows.json
    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install evidently alibi-detect pandas
    /tmp/venv/bin/python bench/drift_real/peers.py /tmp/windows.json [WINDOWS_PER_CONFIGURATION]

(Evidently takes about a second a window: the optional second argument keeps
the first few windows of each configuration.)
"""
import json
import os
import sys
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "drift", "golden", "real")


def load(name):
    with open(os.path.join(DATA, name + ".csv")) as f:
        lines = [line for line in f if not line.startswith("#")]
    header = [h.split(":") for h in lines[0].strip().split(",")]
    rows = [line.rstrip("\n").split(",") for line in lines[1:]]
    cols = {}
    for j, (col, kind) in enumerate(header):
        values = [r[j] if r[j] != "" else None for r in rows]
        cols[col] = values if kind == "categorical" else [float(v) if v is not None else np.nan for v in values]
    return pd.DataFrame(cols), [c for c, k in header if k == "categorical"], [c for c, k in header if k != "categorical"]


def evidently_verdict(ref, cur, cat, num):
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset
    dd = DataDefinition(numerical_columns=num, categorical_columns=cat)
    snap = Report([DataDriftPreset()]).run(Dataset.from_pandas(cur, data_definition=dd),
                                           Dataset.from_pandas(ref, data_definition=dd))
    metrics = snap.dict()["metrics"]
    share = next(m["value"]["share"] for m in metrics if m["metric_name"].startswith("DriftedColumnsCount"))
    return share >= 0.5, share


def alibi_verdict(ref, cur, cat, num):
    from alibi_detect.cd import TabularDrift
    cols = list(ref.columns)
    codes = {}
    x_ref = np.zeros((len(ref), len(cols)), dtype=np.float32)
    x_cur = np.zeros((len(cur), len(cols)), dtype=np.float32)
    for j, c in enumerate(cols):
        if c in cat:
            levels = {v: i for i, v in enumerate(sorted(set(ref[c].dropna()) | set(cur[c].dropna())))}
            codes[j] = None
            x_ref[:, j] = [levels.get(v, -1) for v in ref[c]]
            x_cur[:, j] = [levels.get(v, -1) for v in cur[c]]
        else:
            med = np.nanmedian(ref[c])
            x_ref[:, j] = np.nan_to_num(ref[c].to_numpy(), nan=med)
            x_cur[:, j] = np.nan_to_num(cur[c].to_numpy(), nan=med)
    cd = TabularDrift(x_ref, p_val=0.05, categories_per_feature=codes)
    out = cd.predict(x_cur, drift_type="batch")["data"]
    return bool(out["is_drift"]), int(np.sum(out["p_val"] < out["threshold"]))


def main():
    windows = json.load(open(sys.argv[1]))
    if len(sys.argv) > 2:
        windows = [w for w in windows if w["window"] < int(sys.argv[2])]
    tables = {}
    rows = []
    for w in windows:
        if w["dataset"] not in tables:
            tables[w["dataset"]] = load(w["dataset"])
        df, cat, num = tables[w["dataset"]]
        ref = df.iloc[w["reference"]].reset_index(drop=True)
        cur = df.iloc[w["rows"]].reset_index(drop=True)
        shifted = cur.copy()
        for c, s in zip(df.columns, w["shift"]):
            if c in num:
                shifted[c] = shifted[c] + s
        for variant, data, weir in (("same", cur, w["weir_dataset"]), ("shifted", shifted, w["weir_shifted_dataset"])):
            ev, share = evidently_verdict(ref, data, cat, num)
            al, _ = alibi_verdict(ref, data, cat, num)
            rows.append({"dataset": w["dataset"], "R": w["R"], "n": w["n"], "variant": variant,
                         "weir": bool(weir), "evidently": ev, "alibi": al})
    r = pd.DataFrame(rows)
    print("dataset-level drift verdicts (windows flagged / windows)\n")
    table = r.groupby(["variant", "dataset", "R", "n"]).agg(
        windows=("weir", "size"), weir=("weir", "sum"), evidently=("evidently", "sum"), alibi=("alibi", "sum"))
    print(table.to_string())
    print("\nagreement (share of windows with the same verdict)")
    for variant in ("same", "shifted"):
        v = r[r.variant == variant]
        print(f"  {variant:8s} weir=evidently {np.mean(v.weir == v.evidently):.3f}  "
              f"weir=alibi {np.mean(v.weir == v.alibi):.3f}  evidently=alibi {np.mean(v.evidently == v.alibi):.3f}  "
              f"(flagged: weir {v.weir.sum()}, evidently {v.evidently.sum()}, alibi {v.alibi.sum()} of {len(v)})")


if __name__ == "__main__":
    main()
