#!/usr/bin/python3
"""The parts of the example bundle's reference added for multivariate drift
and performance estimation: `reference.pca` and `reference.calibration`
(docs/bundle.md). examples/make_model.py calls these functions; run alone,
this script adds them to an existing examples/model.json without touching
anything else in it (the same data as make_model.py: `weir gen` seed 7, the
validation split for the calibration, the held-out split for the PCA).

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install numpy scikit-learn avro
    cmake -S . -B build -G Ninja && ninja -C build weir
    /tmp/venv/bin/python examples/reference_extras.py --weir build/weir

PCA: the numeric (non-boolean) raw features with no missing values in the
reference, standardised, components explaining 65% of the variance (NannyML's
default); the reconstruction error's mean and standard deviation are measured
on rows the components were not fitted on (two halves, each fitted on the
other), because in-sample errors are smaller than those of new rows.
Calibration: an isotonic regression of the validation labels on the scores,
as its knots.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from avro.datafile import DataFileReader
from avro.io import DatumReader
from sklearn.isotonic import IsotonicRegression

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import weir_reference  # noqa: E402

SEED = 7
COUNT = 200_000
VARIANCE = 0.65


def _fit(z):
    cov = z.T @ z / len(z)
    values, vectors = np.linalg.eigh(cov)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    k = int(np.searchsorted(np.cumsum(values) / values.sum(), VARIANCE) + 1)
    return vectors[:, :min(k, z.shape[1] - 1)].T


def _errors(z, w):
    kept = (z @ w.T) ** 2
    return np.sqrt(np.maximum((z ** 2).sum(axis=1) - kept.sum(axis=1), 0.0))


def pca_reference(features, events):
    """reference.pca from the raw values of the reference events."""
    names, columns = [], []
    for f in features:
        if f["type"] != "numeric":
            continue
        raw = [weir_reference._get(e, f["source"]) for e in events]
        if any(v is None for v in raw):
            continue
        values = np.array(raw, dtype=float)
        if values.std() > 0:
            names.append(f["name"])
            columns.append(values)
    x = np.array(columns).T
    center, scale = x.mean(axis=0), x.std(axis=0)
    z = (x - center) / scale
    w = _fit(z)
    half = len(z) // 2
    errors = np.concatenate([_errors(z[half:], _fit(z[:half])[: len(w)]),
                             _errors(z[:half], _fit(z[half:])[: len(w)])])
    return {"features": names, "center": [float(v) for v in center],
            "scale": [float(v) for v in scale], "components": [[float(v) for v in row] for row in w],
            "error": {"n": int(len(errors)), "mean": float(errors.mean()),
                      "std": float(errors.std(ddof=1))}}


def calibration(scores, labels):
    """reference.calibration: isotonic knots of labels on scores."""
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0.0, y_max=1.0).fit(scores, labels)
    xs, ys = iso.X_thresholds_, iso.y_thresholds_
    keep = np.concatenate([[True], np.diff(xs) > 0])
    return {"scores": [float(v) for v in xs[keep]], "probabilities": [float(v) for v in ys[keep]]}


def _read(path):
    with open(path, "rb") as f:
        return list(DataFileReader(f, DatumReader()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weir", default="build/weir")
    ap.add_argument("--bundle", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "model.json"))
    args = ap.parse_args()
    with open(args.bundle) as f:
        bundle = json.load(f)
    with tempfile.TemporaryDirectory() as tmp:
        ev, lb = os.path.join(tmp, "e.avro"), os.path.join(tmp, "l.avro")
        subprocess.run([args.weir, "gen", "--out", "file:" + ev, "--count", str(COUNT), "--seed", str(SEED),
                        "--labels", "file:" + lb, "--label-delay", "0", "-q"], check=True)
        events = _read(ev)
        labels = {r["event_id"]: int(r["label"]) for r in _read(lb)}
    split, valid = int(len(events) * 0.70), int(len(events) * 0.85)
    validation = events[split:valid]
    scores = np.array([weir_reference.predict(bundle, weir_reference.transform(bundle, e))[0]
                       for e in validation])
    y = np.array([labels[e["event_id"]] for e in validation])
    bundle["reference"]["pca"] = pca_reference(bundle["features"], events[valid:])
    bundle["reference"]["calibration"] = calibration(scores, y)
    with open(args.bundle, "w") as f:
        json.dump(bundle, f, indent=1)
        f.write("\n")
    p = bundle["reference"]["pca"]
    print(f"wrote {args.bundle}: pca of {len(p['features'])} features, {len(p['components'])} components, "
          f"error {p['error']['mean']:.4f} +- {p['error']['std']:.4f}; calibration of "
          f"{len(bundle['reference']['calibration']['scores'])} points")


if __name__ == "__main__":
    main()
