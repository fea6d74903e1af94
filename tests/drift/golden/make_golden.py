#!/usr/bin/python3
"""Independent reference values for weir's drift tests (tests/drift/).

Two files, each from its own reference implementation:

  stats.json      scipy: ks_2samp(method='asymp') p-values over many (n1, n2, D)
                  including large n and tiny p, and on small samples with ties
                  (statistic and p-value); chi2.sf and chisquare; Wasserstein-1
                  (scipy.stats.wasserstein_distance); PSI and Jensen-Shannon by
                  direct numpy formulas (and scipy's jensenshannon); ROC AUC by
                  the average-rank formula (scipy.stats.rankdata).
  detectors.json  River: drift.binary.DDM, drift.ADWIN and drift.PageHinkley
                  detection indices on seeded error streams (stationary, abrupt
                  change, gradual change, and a real-valued absolute-error stream)
                  with several parameter sets.

Rerun (from the repository root):

    /usr/bin/python3 tests/drift/golden/make_golden.py stats
        Debian 12's python3-scipy (scipy 1.10.1, numpy 1.24.2) was used.
    /usr/bin/python3 -m venv /tmp/rv && /tmp/rv/bin/pip install river==0.26.1
    /tmp/rv/bin/python tests/drift/golden/make_golden.py detectors
        River 0.26.1 (its ADWIN is River's Rust AdaptiveWindowing).

The streams and samples come from numpy's PCG64 with fixed seeds, so a rerun
gives the same files. Both files together stay well under 1 MB.
"""
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def write(name, obj):
    path = os.path.join(HERE, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


def make_stats():
    import scipy
    from scipy import stats
    from scipy.spatial.distance import jensenshannon

    rng = np.random.default_rng(20261126)
    out = {"scipy": scipy.__version__, "numpy": np.__version__}

    # ks_2samp asymptotic p-values: kstwo.sf(d, round(n1*n2/(n1+n2))).
    # d sweeps every region of Simard & L'Ecuyer's method selection.
    sizes = [(1, 2), (3, 5), (10, 10), (20, 30), (50, 200), (140, 141), (150, 150), (100, 5000),
             (281, 281), (1000, 5000), (2500, 5000), (5000, 5000), (10000, 5000), (20000, 3000),
             (100000, 5000), (100000, 100000), (250000, 200000), (1000000, 100000),
             (1000000, 1000000)]
    pvalue_cases = []
    for n1, n2 in sizes:
        m, n = sorted([float(n1), float(n2)], reverse=True)
        en = round(m * n / (m + n))
        en = max(en, 1)
        ds = set()
        for z in [0.02, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3,
                  1.4, 1.5, 1.7, 2.0, 2.5, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 19.0, 25.0]:
            d = z / math.sqrt(en)
            if 0 < d < 1:
                ds.add(round(d, 12))
        for d in [0.5 / en, 0.75 / en, 1.0 / en, 1.5 / en, 0.45, 0.5, 0.55, 0.7, 0.9, 0.99,
                  1 - 1.0 / en, 1.0]:
            if 0 < d <= 1:
                ds.add(round(d, 12))
        for d in rng.uniform(0, 1, 4):
            ds.add(round(float(d) ** 3, 12))
        for d in sorted(ds):
            # the p-value as ks_2samp computes it (the statistic is just passed in)
            p = float(np.clip(stats.kstwo.sf(d, np.round(m * n / (m + n))), 0, 1))
            pvalue_cases.append([d, n1, n2, p])
    out["ks_pvalue"] = pvalue_cases

    # ks_2samp on real samples: continuous, rounded (ties), discrete.
    samples = []
    for i in range(40):
        n1 = int(rng.integers(1, 300))
        n2 = int(rng.integers(1, 300))
        kind = i % 4
        if kind == 0:
            a, b = rng.normal(0, 1, n1), rng.normal(0.2, 1.3, n2)
        elif kind == 1:
            a, b = np.round(rng.normal(0, 1, n1), 1), np.round(rng.normal(0, 1, n2), 1)
        elif kind == 2:
            a, b = rng.integers(0, 6, n1).astype(float), rng.integers(0, 5, n2).astype(float)
        else:
            a, b = np.round(rng.exponential(2, n1), 2), np.round(rng.exponential(2.5, n2), 2)
        a = [float(x) for x in np.round(a, 6)]
        b = [float(x) for x in np.round(b, 6)]
        r = stats.ks_2samp(a, b, method="asymp")
        w1 = stats.wasserstein_distance(a, b)
        samples.append({"a": a, "b": b, "d": float(r.statistic), "p": float(r.pvalue),
                        "w1": float(w1)})
    out["ks_samples"] = samples

    # chi-square upper tail over a grid, down to tiny p, and large df.
    chi2 = []
    for df in [1, 2, 3, 4, 5, 7, 10, 19, 30, 63, 100, 500, 1000, 5000, 20000]:
        for q in [0.01, 0.1, 0.3, 0.5, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0]:
            x = q * df
            chi2.append([x, df, float(stats.chi2.sf(x, df))])
        for x in [1e-6, 0.5, 50.0, 200.0]:
            chi2.append([x, df, float(stats.chi2.sf(x, df))])
    out["chi2_sf"] = chi2

    chisquare = []
    for _ in range(30):
        k = int(rng.integers(2, 25))
        p = rng.dirichlet(np.ones(k))
        n = int(rng.integers(20, 20000))
        obs = rng.multinomial(n, rng.dirichlet(np.ones(k) * 5) if rng.random() < 0.5 else p)
        exp = p * n
        r = stats.chisquare(obs, exp)
        chisquare.append({"observed": [int(o) for o in obs], "expected": [float(e) for e in exp],
                          "statistic": float(r.statistic), "p": float(r.pvalue)})
    out["chisquare"] = chisquare

    # PSI with an epsilon floor (no renormalisation) and JS distance (base 2).
    divergences = []
    for i in range(30):
        k = int(rng.integers(2, 20))
        a = rng.dirichlet(np.ones(k))
        e = rng.dirichlet(np.ones(k))
        if i % 3 == 0:
            a[rng.integers(0, k)] = 0.0  # an empty bin
            a = a / a.sum()
        eps = 1e-4
        af, ef = np.maximum(a, eps), np.maximum(e, eps)
        psi = float(np.sum((af - ef) * np.log(af / ef)))
        js = float(jensenshannon(a, e, base=2))
        divergences.append({"actual": [float(x) for x in a], "expected": [float(x) for x in e],
                            "epsilon": eps, "psi": psi, "js": js})
    out["divergences"] = divergences

    # ROC AUC with ties: Mann-Whitney U from average ranks.
    aucs = []
    for i in range(20):
        n = int(rng.integers(2, 400))
        scores = np.round(rng.uniform(0, 1, n), 1 if i % 2 else 3)
        labels = (rng.uniform(0, 1, n) < np.clip(scores * 0.8 + 0.1, 0, 1)).astype(int)
        if labels.min() == labels.max():
            labels[0] = 1 - labels[0]
        ranks = stats.rankdata(scores)
        npos = labels.sum()
        nneg = n - npos
        auc = (ranks[labels == 1].sum() - npos * (npos + 1) / 2) / (npos * nneg)
        aucs.append({"scores": [float(s) for s in scores], "labels": [int(l) for l in labels],
                     "auc": float(auc)})
    out["auc"] = aucs
    write("stats.json", out)


def make_detectors():
    import river
    from river import drift

    rng = np.random.default_rng(7)
    streams = {}
    n = 6000
    streams["stationary"] = (rng.uniform(size=n) < 0.1).astype(int)
    p = np.where(np.arange(n) < 3000, 0.1, 0.4)
    streams["abrupt"] = (rng.uniform(size=n) < p).astype(int)
    p = np.clip(0.05 + 0.3 * (np.arange(n) - 2000) / 3000, 0.05, 0.35)
    streams["gradual"] = (rng.uniform(size=n) < p).astype(int)
    p = np.where(np.arange(n) % 2000 < 1000, 0.02, 0.3)
    streams["recurring"] = (rng.uniform(size=n) < p).astype(int)
    long_p = np.where((np.arange(30000) // 5000) % 2 == 0, 0.1, 0.25)
    streams["long"] = (rng.uniform(size=30000) < long_p).astype(int)
    real = np.concatenate([np.abs(rng.normal(0, 1, 2500)), np.abs(rng.normal(0.8, 1.5, 2500))])
    real = np.round(real, 4)

    def indices(det, xs):
        found = []
        for i, x in enumerate(xs):
            det.update(x)
            if det.drift_detected:
                found.append(i)
        return found

    ddm_params = [dict(), dict(warm_start=100, warning_threshold=1.5, drift_threshold=2.5)]
    adwin_params = [dict(), dict(delta=0.01, clock=1), dict(delta=0.05, clock=8, max_buckets=3,
                                                          min_window_length=10, grace_period=50),
                    dict(delta=0.002, clock=16, max_buckets=2, min_window_length=1,
                         grace_period=1)]
    ph_params = [dict(), dict(mode="up"), dict(mode="down", threshold=20.0),
                 dict(min_instances=100, delta=0.01, threshold=10.0, alpha=0.999, mode="both")]
    cases = []
    for name, xs in list(streams.items()) + [("real", real)]:
        values = [float(x) for x in xs]
        for prm in (ddm_params if name != "real" else []):
            cases.append({"stream": name, "detector": "ddm", "params": prm,
                          "drifts": indices(drift.binary.DDM(**prm), [int(x) for x in xs])})
        for prm in adwin_params:
            cases.append({"stream": name, "detector": "adwin", "params": prm,
                          "drifts": indices(drift.ADWIN(**prm), values)})
        for prm in ph_params:
            cases.append({"stream": name, "detector": "page_hinkley", "params": prm,
                          "drifts": indices(drift.PageHinkley(**prm), values)})
    out = {"river": river.__version__,
           "streams": {k: "".join(str(int(x)) for x in v) for k, v in streams.items()},
           "real": [float(x) for x in real], "cases": cases}
    write("detectors.json", out)


if __name__ == "__main__":
    what = sys.argv[1:] or ["stats", "detectors"]
    if "stats" in what:
        make_stats()
    if "detectors" in what:
        make_detectors()
