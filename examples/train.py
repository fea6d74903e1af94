#!/usr/bin/env python3
"""Bring your own model: train a gradient-boosted fraud model on `weir gen`
data with a chronological split, export it with the weir package, and check
that weir scores it as LightGBM does.

    cmake -S . -B build -G Ninja && ninja -C build weir weir_shared
    python3 -m venv ~/weir-env && ~/weir-env/bin/pip install ./python lightgbm pandas
    WEIR_LIBRARY=build/libweir.so.0 ~/weir-env/bin/python examples/train.py --weir build/weir

What it does:
  1. `weir gen` writes 200,000 card transactions (seed 11, ~1% fraud) and their
     labels to Avro files; they are read into a pandas DataFrame.
  2. The rows are sorted by event time and split chronologically: the first
     70% train, the next 15% validate (early stopping and the threshold), the
     last 15% test. A random split would evaluate the model on the past of
     its own training data, which the stream never lets it see.
  3. LightGBM learns from the raw fields, the text ones as pandas categories
     (native categorical splits) and missing values as they come.
  4. weir.export() writes the bundle: the trees, the categories as the model
     learned them, the training window (so `weir replay` refuses to evaluate
     on it), and a reference profile of the test split for drift monitoring.
  5. weir.check_parity() scores the test split through libweir and compares
     with LightGBM's own predict_proba; the decisions must be identical.

Then `weir run -c examples/weir.conf -X model.path=fraud-gbm.json` serves it.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import fastavro
import numpy as np
import pandas as pd

import weir

SEED = 11
COUNT = 200_000
DROP = ["event_id", "event_time", "card_id", "merchant_id"]
CATEGORICAL = ["merchant_category", "currency", "country", "channel"]


def read_avro(path):
    with open(path, "rb") as f:
        return pd.DataFrame.from_records(list(fastavro.reader(f)))


def generate(weir_binary, folder):
    events, labels = os.path.join(folder, "events.avro"), os.path.join(folder, "labels.avro")
    subprocess.run([weir_binary, "gen", "--out", "file:" + events, "--count", str(COUNT),
                    "--seed", str(SEED), "--labels", "file:" + labels, "--label-delay", "0", "-q"],
                   check=True)
    frame = read_avro(events)
    y = read_avro(labels).set_index("event_id")["label"].astype(int)
    frame["label"] = frame["event_id"].map(y).to_numpy()
    return frame


def best_f1_threshold(y, p):
    best_t, best_f1 = 0.5, -1.0
    for t in np.linspace(0.02, 0.9, 89):
        pred = p >= t
        tp = int((pred & (y == 1)).sum())
        f1 = 2 * tp / max(1, int(pred.sum()) + int((y == 1).sum()))
        if f1 > best_f1:
            best_t, best_f1 = float(round(t, 2)), f1
    return best_t


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weir", default="build/weir", help="the weir binary")
    ap.add_argument("--out", default="fraud-gbm.json", help="the bundle to write")
    ap.add_argument("--events", help="write the test split here as Avro, for `weir batch`")
    args = ap.parse_args()
    import lightgbm

    with tempfile.TemporaryDirectory() as folder:
        frame = generate(args.weir, folder)
    frame = frame.sort_values("event_time", kind="stable").reset_index(drop=True)
    n = len(frame)
    train, valid, test = frame[: int(n * 0.70)], frame[int(n * 0.70): int(n * 0.85)], \
        frame[int(n * 0.85):]

    def features(part):
        X = part.drop(columns=DROP + ["label"]).copy()
        for c in CATEGORICAL:  # categories as training saw them; new ones become missing
            X[c] = pd.Categorical(X[c], categories=sorted(train[c].dropna().unique()))
        return X

    Xtr, Xva, Xte = features(train), features(valid), features(test)
    model = lightgbm.LGBMClassifier(n_estimators=600, learning_rate=0.05, num_leaves=31,
                                    min_child_samples=50, subsample=0.8, subsample_freq=1,
                                    colsample_bytree=0.8, n_jobs=1, random_state=SEED, verbose=-1)
    model.fit(Xtr, train["label"], eval_set=[(Xva, valid["label"])],
              callbacks=[lightgbm.early_stopping(50, verbose=False)])
    threshold = best_f1_threshold(valid["label"].to_numpy(), model.predict_proba(Xva)[:, 1])

    t0, t1 = pd.to_datetime(train["event_time"].iloc[[0, -1]], utc=True)
    bundle = weir.export(model, Xte, test["label"], name="fraud-gbm", version="1.0.0",
                         path=args.out, threshold=threshold, training_from=t0, training_to=t1,
                         training_rows=len(train), reference_split="test",
                         description="Example card-fraud model: LightGBM on the raw transaction "
                                     "fields, chronological split (examples/train.py)")
    raw_test = test.drop(columns=["label"])  # as the events carry it: text, not categories
    b = weir.Bundle(args.out)
    mine = b.predict(raw_test)
    own = model.predict_proba(Xte)[:, 1]
    report = weir.check_parity(model, b, Xte)
    perf = bundle["reference"]["performance"]
    print(f"wrote {args.out}: {len(bundle['model']['trees'])} trees, threshold {threshold}, "
          f"test AUC {perf['auc']:.4f}, precision {perf.get('precision', 0):.3f}, "
          f"recall {perf.get('recall', 0):.3f}")
    print(f"parity on the test split ({len(Xte)} rows): largest difference from LightGBM "
          f"{np.max(np.abs(mine - own)):.2g}, decisions at the threshold identical: "
          f"{report['decisions_equal']}")
    if args.events:
        weir.write_avro(raw_test, args.events)
        print(f"wrote {args.events}: the test split, for `weir batch --model {args.out} "
              f"--in {args.events} --out scored.avro`")
    return 0 if report["max_difference"] <= 1e-5 else 1


if __name__ == "__main__":
    sys.exit(main())
