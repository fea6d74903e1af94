#!/usr/bin/python3
"""Golden vectors for the scoring tests (tests/scoring/test_transform.c, test_model.c).

Rerun from the repository root after changing this script:

    /usr/bin/python3 tests/scoring/golden/make_golden.py

It needs Debian 12's python3-numpy and python3-sklearn (apt-get install -y
python3-numpy python3-sklearn) and nothing else. Every random number comes from
a fixed seed, so a rerun with the same numpy/scikit-learn versions rewrites the
files byte for byte. It writes, next to itself:

  transforms.json  bundles with every transform step and missing/unknown policy,
                   raw events, and the transformed rows (or the error) that a
                   float64 reference implementation written here with numpy
                   gives -- independent of the C code, from docs/bundle.md.
  models.json      one bundle per model kind and activation (linear, logistic,
                   softmax, mlp with relu/tanh/sigmoid/identity/softmax), with
                   parameters drawn at random, input rows, and the outputs numpy
                   computes in float64.
  sklearn.json     real scikit-learn models (LogisticRegression, LinearRegression,
                   multinomial LogisticRegression, MLPClassifier, MLPRegressor)
                   trained on small synthetic data with their preprocessing
                   (SimpleImputer, log1p, StandardScaler, MinMaxScaler,
                   KBinsDiscretizer, OneHotEncoder), exported to weir.model/1, with
                   raw test events and sklearn's own predict_proba/predict.

Weights and model inputs in models.json are rounded to float32 first (and the
reference computed from those float32 values in float64), so the C side, which
stores float, sees exactly the numbers the reference used; what remains is
float32 arithmetic error. sklearn.json keeps sklearn's float64 parameters.
"""

import json
import math
import os
import warnings

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.exceptions import ConvergenceWarning
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import (accuracy_score, f1_score, log_loss, mean_absolute_error,
                             mean_squared_error, precision_score, r2_score, recall_score,
                             roc_auc_score)
from sklearn.neural_network import MLPClassifier, MLPRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (FunctionTransformer, KBinsDiscretizer, MinMaxScaler,
                                   OneHotEncoder, StandardScaler)

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- helpers

def f32(x):
    """x rounded to float32, as (nested lists of) Python floats written in the
    shortest form that reads back as the same float32."""
    a = np.asarray(x, dtype=np.float32)
    if a.ndim == 0:
        return float(str(a))
    return [f32(v) for v in a]


def f32_array(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def encode_value(v):
    """A raw event value in the golden files: null = missing, number, string, or
    {"number": "nan"|"inf"|"-inf"} for what JSON cannot write."""
    if v is None or isinstance(v, str):
        return v
    v = float(v)
    if math.isnan(v):
        return {"number": "nan"}
    if math.isinf(v):
        return {"number": "inf" if v > 0 else "-inf"}
    return v


def bundle(name, task, features, model, **extra):
    b = {"format": "weir.model/1", "name": name, "version": "1.0.0",
         "created": "2026-11-26T00:00:00Z", "task": task}
    b.update(extra)
    b["features"] = features
    b["model"] = model
    return b


def numeric(name, transform=(), missing=None, source=None):
    f = {"name": name, "source": source or name, "type": "numeric", "transform": list(transform)}
    if missing:
        f["missing"] = missing
    return f


def write(name, obj):
    path = os.path.join(HERE, name)
    with open(path, "w") as out:
        json.dump(obj, out, separators=(",", ":"))
        out.write("\n")
    print(f"{name}: {os.path.getsize(path)} bytes")


# ---------------------------------------------- transforms: the reference

class TransformError(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code  # "missing" | "category" | "type" | "nonfinite"


def fnv1a(data, seed):
    h = (2166136261 ^ seed) & 0xFFFFFFFF
    for byte in data:
        h ^= byte
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def category_text(v):
    if isinstance(v, str):
        return v
    if not math.isfinite(v):
        raise TransformError("nonfinite")
    if v == math.trunc(v) and abs(v) < 2.0**63:
        return "%d" % int(v)
    return "%.17g" % v


def checked(x):
    if not np.isfinite(x):
        raise TransformError("nonfinite")
    return x


def transform_feature(f, v):
    """The columns one feature writes, in float64, per docs/bundle.md."""
    steps = f.get("transform", [])
    missing = f.get("missing", "error")
    # NaN is a missing value where the feature says what a missing value becomes.
    if isinstance(v, float) and math.isnan(v) and (
            missing in ("impute", "unknown") or (steps and steps[0]["op"] == "impute"
                                                 and f["type"] == "categorical")):
        v = None
    if f["type"] in ("numeric", "boolean"):
        if v is None:
            if missing != "impute":
                raise TransformError("missing")
            x = float(steps[0]["value"])
        elif isinstance(v, str):
            raise TransformError("type")
        else:
            x = checked(float(v))
        if f["type"] == "boolean":
            return [1.0 if x != 0 else 0.0]
        for s in steps:
            op = s["op"]
            if op == "impute":
                continue
            if op == "clip":
                x = float(np.clip(x, s.get("min", -np.inf), s.get("max", np.inf)))
            elif op == "log1p":
                with np.errstate(all="ignore"):
                    x = float(np.log1p(x))
            elif op == "standardize":
                x = (x - s["mean"]) / s["std"]
            elif op == "min_max":
                x = (x - s["min"]) / (s["max"] - s["min"])
            elif op == "bucketize":
                b = int(np.digitize(x, s["edges"], right=False))
                if s.get("output", "index") == "one_hot":
                    cols = [0.0] * (len(s["edges"]) + 1)
                    cols[b] = 1.0
                    return cols
                x = float(b)
            checked(x)
        if abs(x) > float(np.finfo(np.float32).max):
            raise TransformError("nonfinite")
        return [x]

    encoding = steps[-1]
    if v is None:
        if steps[0]["op"] == "impute":
            text = steps[0]["value"]
        elif missing == "unknown":
            text = None
        else:
            raise TransformError("missing")
    else:
        text = category_text(v)
    if encoding["op"] == "hash":
        cols = [0.0] * encoding["buckets"]
        if text is not None:
            cols[fnv1a(text.encode(), encoding.get("seed", 0)) % encoding["buckets"]] = 1.0
        return cols
    cats = encoding["categories"]
    policy = encoding.get("unknown", "error")
    cols = [0.0] * (len(cats) + (1 if policy == "extra" else 0))
    if text in cats:
        cols[cats.index(text)] = 1.0
    elif policy == "error":
        raise TransformError("category")
    elif policy == "extra":
        cols[-1] = 1.0
    return cols


def transform_row(features, values):
    row = []
    for i, (f, v) in enumerate(zip(features, values)):
        try:
            row += transform_feature(f, v)
        except TransformError as e:
            e.feature = i
            raise
    return row


def transform_case(name, features, events):
    """A bundle around @features (a zero linear model, so any width loads) and
    the expected row or error of every event."""
    width = sum(columns_of(f) for f in features)
    b = bundle(name, "regression", features, {"kind": "linear", "weights": [0] * width, "bias": 0})
    rows = []
    for values in events:
        entry = {"values": [encode_value(v) for v in values]}
        try:
            entry["row"] = transform_row(features, values)
        except TransformError as e:
            entry["error"] = e.code
            entry["feature"] = e.feature
        rows.append(entry)
    return {"name": name, "bundle": b, "columns": width, "events": rows}


def columns_of(f):
    steps = f.get("transform", [])
    last = steps[-1] if steps else {}
    if last.get("op") == "bucketize" and last.get("output") == "one_hot":
        return len(last["edges"]) + 1
    if last.get("op") == "one_hot":
        return len(last["categories"]) + (1 if last.get("unknown") == "extra" else 0)
    if last.get("op") == "hash":
        return last["buckets"]
    return 1


def make_transforms():
    rng = np.random.default_rng(20261126)
    cases = []

    # Numeric chains: every step, in the orders people use them.
    features = [
        numeric("amount", [{"op": "impute", "value": 10.0}, {"op": "clip", "min": 0, "max": 5000},
                           {"op": "log1p"}, {"op": "standardize", "mean": 3.0, "std": 2.0}],
                missing="impute"),
        numeric("age", [{"op": "min_max", "min": 18, "max": 90}]),
        numeric("balance", [{"op": "clip", "min": -1.0}, {"op": "standardize", "mean": 0.5, "std": 3.0}]),
        numeric("velocity", [{"op": "clip", "max": 4.0}]),
        numeric("count", [{"op": "bucketize", "edges": [0, 10, 100]}]),
        numeric("distance", [{"op": "impute", "value": -5.0},
                             {"op": "bucketize", "edges": [0, 1, 2.5], "output": "one_hot"}],
                missing="impute"),
        numeric("ratio", [{"op": "log1p"}]),
        numeric("raw", []),
        {"name": "is_foreign", "source": "card.foreign", "type": "boolean", "missing": "impute",
         "transform": [{"op": "impute", "value": 0}]},
        {"name": "is_online", "source": "online", "type": "boolean"},
    ]
    events = []
    for i in range(40):
        events.append([
            None if i % 7 == 3 else float(np.round(rng.lognormal(3, 2), 2)) * (-1 if i % 11 == 5 else 1),
            float(rng.integers(10, 100)),
            float(np.round(rng.normal(0, 4), 3)),
            float(np.round(rng.normal(2, 3), 3)),
            [0, 10, 100, -3, 9.99, 10.01, 55, 1000][i % 8] if i % 3 else float(rng.integers(0, 200)),
            None if i % 5 == 0 else [0, 1, 2.5, -0.1, 0.5, 2.49, 3][i % 7],
            float(np.round(rng.uniform(-0.9, 5), 4)),
            float(np.round(rng.normal(0, 1), 5)),
            None if i % 4 == 1 else [0, 1, 2.5, -3][i % 4],
            [0, 1, 1.0, 0.0, 7][i % 5],
        ])
    good = events[1]
    for position, value in [(1, None), (0, "12.5"), (1, float("nan")), (2, float("inf")),
                            (6, -1.0), (6, -2.0), (7, 1e300), (9, float("-inf")), (9, "yes")]:
        bad = list(good)
        bad[position] = value
        events.append(bad)
    cases.append(transform_case("numeric_chains", features, events))

    # Categorical encodings and the unknown/missing policies.
    shops = ["grocery", "travel", "online", "fuel"]
    features = [
        {"name": "category", "source": "merchant.category", "type": "categorical",
         "transform": [{"op": "one_hot", "categories": shops}]},
        {"name": "category_ignore", "source": "merchant.category", "type": "categorical",
         "missing": "unknown", "transform": [{"op": "one_hot", "categories": shops, "unknown": "ignore"}]},
        {"name": "category_extra", "source": "merchant.category", "type": "categorical",
         "missing": "unknown", "transform": [{"op": "one_hot", "categories": shops, "unknown": "extra"}]},
        {"name": "country", "source": "card.country", "type": "categorical", "missing": "unknown",
         "transform": [{"op": "hash", "buckets": 8, "seed": 42}]},
        {"name": "device", "source": "device", "type": "categorical",
         "transform": [{"op": "hash", "buckets": 5}]},
        {"name": "channel", "source": "channel", "type": "categorical",
         "transform": [{"op": "impute", "value": "none"},
                       {"op": "one_hot", "categories": ["none", "web", "app"], "unknown": "extra"}]},
        {"name": "mcc", "source": "mcc", "type": "categorical",
         "transform": [{"op": "one_hot", "categories": ["5411", "0.10000000000000001", "-3", "1.0000000000000001e+300"],
                        "unknown": "ignore"}]},
    ]
    countries = ["DE", "FR", "US", "GB", "BR", "JP", "", "Ünïcode"]
    devices = ["ios", "android", "web", "kiosk", "pos-terminal-7"]
    mccs = [5411.0, 5411, 0.1, -3.0, -3, 2.5, 1e300, 12345678901234567890.0, "5411", "0.1"]
    events = []
    for i in range(40):
        shop = shops[i % 4]
        events.append([
            shop,
            None if i % 6 == 2 else (shop if i % 5 else "crypto"),
            None if i % 6 == 4 else (shop if i % 3 else "casino"),
            None if i % 9 == 0 else countries[int(rng.integers(0, len(countries)))],
            devices[i % len(devices)] if i % 4 else float(i),
            None if i % 4 == 0 else ["web", "app", "kiosk", "none"][i % 4],
            mccs[i % len(mccs)],
        ])
    good = events[1]
    for position, value in [(0, "crypto"), (0, None), (4, None), (3, float("nan")),
                            (6, float("inf")), (0, 17.0)]:
        bad = list(good)
        bad[position] = value
        events.append(bad)
    cases.append(transform_case("categorical_encodings", features, events))

    # A step that overflows: finite input, an infinite double or a double past float's range.
    features = [numeric("tiny_std", [{"op": "standardize", "mean": 0, "std": 1e-300}])]
    cases.append(transform_case("overflow", features, [[0.0], [1e-310], [1e-10], [1e10], [-1e10]]))
    return {"cases": cases}


def write_transforms_only():
    """Rewrites transforms.json alone (its reference needs numpy only)."""
    write("transforms.json", make_transforms())


# --------------------------------------------- models: numpy in float64

def sigmoid(z):
    return np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z))))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


ACTIVATIONS = {"identity": lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
               "sigmoid": sigmoid, "softmax": softmax}


def model_case(name, task, d, layers, rng, kind="mlp", classes=None, threshold=None, rows=24,
               extreme_rows=0):
    """layers: [(out, activation)]; parameters drawn at random, rounded to float32."""
    x = rng.normal(0, 1, (rows, d))
    if extreme_rows:
        x[-extreme_rows:] *= 60  # logits in the hundreds: stable sigmoid/softmax
    x = f32_array(x)
    params, h, fan_in = [], x, d
    for out, activation in layers:
        w = f32_array(rng.normal(0, 1.5 / math.sqrt(fan_in), (out, fan_in)))
        b = f32_array(rng.normal(0, 0.5, out))
        h = ACTIVATIONS[activation](h @ w.T + b)
        params.append((w, b, activation))
        fan_in = out
    if task == "binary" and h.shape[1] == 2:
        expected = h[:, 1:2]
    else:
        expected = h
    if kind == "mlp":
        model = {"kind": "mlp", "layers": [{"weights": f32(w), "bias": f32(b), "activation": a}
                                           for w, b, a in params]}
    elif kind == "softmax":
        w, b, _ = params[0]
        model = {"kind": "softmax", "weights": f32(w), "bias": f32(b)}
    else:
        w, b, _ = params[0]
        model = {"kind": kind, "weights": f32(w[0]), "bias": f32(b[0])}
    extra = {}
    if classes:
        extra["classes"] = classes
    if threshold is not None:
        extra["threshold"] = threshold
    features = [numeric(f"x{j}") for j in range(d)]
    return {"name": name, "bundle": bundle(name, task, features, model, **extra),
            "x": f32(x), "expected": expected.tolist()}


def make_models():
    rng = np.random.default_rng(7)
    cases = [
        model_case("linear", "regression", 6, [(1, "identity")], rng, kind="linear"),
        model_case("logistic", "binary", 5, [(1, "sigmoid")], rng, kind="logistic",
                   classes=["legit", "fraud"], threshold=0.3, extreme_rows=4),
        model_case("softmax", "multiclass", 7, [(4, "softmax")], rng, kind="softmax",
                   classes=["a", "b", "c", "d"], extreme_rows=4),
        model_case("mlp_relu_tanh_sigmoid", "binary", 9,
                   [(8, "relu"), (6, "tanh"), (1, "sigmoid")], rng),
        model_case("mlp_sigmoid_softmax2", "binary", 4, [(5, "sigmoid"), (2, "softmax")], rng),
        model_case("mlp_identity_relu_softmax", "multiclass", 6,
                   [(7, "identity"), (5, "relu"), (3, "softmax")], rng, classes=["x", "y", "z"],
                   extreme_rows=3),
        model_case("mlp_tanh_identity", "regression", 3, [(8, "tanh"), (1, "identity")], rng),
        model_case("mlp_one_column", "regression", 1, [(4, "relu"), (3, "sigmoid"), (1, "identity")], rng),
    ]
    return {"cases": cases}


# ------------------------------------------------- scikit-learn models

def transactions(rng, n, unknown_rate=0.0):
    """Synthetic card transactions: amount (sometimes missing), hour, category, foreign."""
    cats = np.array(["grocery", "travel", "online", "fuel"])
    amount = np.round(rng.lognormal(3.5, 1.2, n), 2)
    hour = rng.integers(0, 24, n).astype(float)
    category = cats[rng.integers(0, 4, n)].astype(object)
    if unknown_rate:
        category[rng.random(n) < unknown_rate] = "crypto"
    foreign = (rng.random(n) < 0.2).astype(float)
    amount_missing = rng.random(n) < 0.08
    night = hour < 6
    logit = (0.9 * (np.log1p(amount) - 3.5) + 0.3 * night + 1.2 * foreign
             + np.where(category == "online", 0.8, 0.0) - 1.5)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    amount = amount.astype(object)
    amount[amount_missing] = np.nan
    return amount, hour, category, foreign, y


def events_of(columns, rows):
    events = []
    for i in range(rows):
        values = []
        for c in columns:
            v = c[i]
            if isinstance(v, float) and math.isnan(v):
                v = None
            values.append(v if isinstance(v, str) or v is None else float(v))
        events.append(values)
    return events


def reference_of(values, kind):
    """A reference distribution block the way an exporter would write it."""
    present = [v for v in values if v is not None]
    ref = {"n": len(values), "missing_rate": 1 - len(present) / len(values)}
    if kind == "categorical":
        names, counts = np.unique(np.array(present, dtype=object).astype(str), return_counts=True)
        ref["categories"] = {str(k): float(c) / len(present) for k, c in zip(names, counts)}
        return ref
    a = np.array(present, dtype=float)
    ref["sample"] = [float(v) for v in np.random.default_rng(3).choice(a, 60, replace=False)]
    ref["mean"] = float(a.mean())
    ref["std"] = float(a.std())
    if kind == "numeric":
        edges = np.unique(np.quantile(a, np.linspace(0.1, 0.9, 9)))
        # bins are (e[i-1], e[i]]: bin = number of edges strictly below the value
        counts = np.bincount(np.searchsorted(edges, a, side="left"), minlength=len(edges) + 1)
        ref["bins"] = {"edges": edges.tolist(), "proportions": (counts / len(a)).tolist()}
    return ref


def sk_logistic(rng):
    amount, hour, category, foreign, y = transactions(rng, 1500)
    cats = ["grocery", "travel", "online", "fuel"]
    X = np.column_stack([amount, hour, category, foreign]).astype(object)
    pre = ColumnTransformer([
        ("amount", Pipeline([("impute", SimpleImputer(strategy="median")),
                             ("log", FunctionTransformer(np.log1p)),
                             ("scale", StandardScaler())]), [0]),
        ("hour", StandardScaler(), [1]),
        ("category", OneHotEncoder(categories=[cats], handle_unknown="ignore", sparse_output=False), [2]),
        ("foreign", "passthrough", [3]),
    ])
    clf = Pipeline([("pre", pre), ("lr", LogisticRegression(C=0.5, max_iter=1000))]).fit(X, y)
    amount_steps = clf.named_steps["pre"].named_transformers_["amount"]
    imputed = float(amount_steps.named_steps["impute"].statistics_[0])
    amount_scale = amount_steps.named_steps["scale"]
    hour_scale = clf.named_steps["pre"].named_transformers_["hour"]
    lr = clf.named_steps["lr"]
    features = [
        {"name": "amount", "source": "amount", "type": "numeric", "missing": "impute",
         "transform": [{"op": "impute", "value": imputed}, {"op": "log1p"},
                       {"op": "standardize", "mean": float(amount_scale.mean_[0]),
                        "std": float(amount_scale.scale_[0])}]},
        numeric("hour", [{"op": "standardize", "mean": float(hour_scale.mean_[0]),
                          "std": float(hour_scale.scale_[0])}]),
        {"name": "category", "source": "merchant.category", "type": "categorical", "missing": "unknown",
         "transform": [{"op": "one_hot", "categories": cats, "unknown": "ignore"}]},
        {"name": "is_foreign", "source": "card.foreign", "type": "boolean"},
    ]
    model = {"kind": "logistic", "weights": lr.coef_[0].tolist(), "bias": float(lr.intercept_[0])}

    ta, th, tc, tf, ty = transactions(np.random.default_rng(99), 40, unknown_rate=0.15)
    Xt = np.column_stack([ta, th, tc, tf]).astype(object)
    proba = clf.predict_proba(Xt)[:, 1]
    train_proba = clf.predict_proba(X)[:, 1]
    predicted = (train_proba >= 0.5).astype(int)
    reference = {
        "features": {
            "amount": reference_of([None if isinstance(v, float) and math.isnan(v) else v for v in amount], "numeric"),
            "hour": reference_of(list(hour), "numeric"),
            "category": reference_of(list(category), "categorical"),
            "is_foreign": reference_of(list(foreign), "boolean"),
        },
        "score": reference_of(list(train_proba), "numeric"),
        "performance": {"auc": roc_auc_score(y, train_proba), "precision": precision_score(y, predicted),
                        "recall": recall_score(y, predicted), "f1": f1_score(y, predicted),
                        "accuracy": accuracy_score(y, predicted), "positive_rate": float(predicted.mean()),
                        "log_loss": log_loss(y, train_proba), "n": len(y)},
    }
    b = bundle("sk-logistic", "binary", features, model, classes=["legit", "fraud"],
               training={"from": "2026-01-01T00:00:00Z", "to": "2026-10-31T23:59:59Z", "rows": len(y)},
               description="LogisticRegression on imputed log1p amount, hour, one-hot category",
               reference=reference)
    return {"name": "sk_logistic", "bundle": b, "events": events_of([ta, th, tc, tf], 40),
            "expected": [[float(p)] for p in proba]}


def regression_data(rng, n):
    x1 = rng.normal(50, 12, n)
    x2 = rng.uniform(-3, 7, n)
    x3 = rng.exponential(2.0, n)
    y = 0.03 * (x1 - 50) + 0.2 * x2 - 0.4 * np.minimum(x3, 4) + 0.3 * np.sin(x2) + rng.normal(0, 0.1, n)
    return x1, x2, x3, y


def sk_linear(rng):
    x1, x2, x3, y = regression_data(rng, 800)
    X = np.column_stack([x1, x2, x3])
    pre = ColumnTransformer([
        ("x1", StandardScaler(), [0]),
        ("x2", MinMaxScaler(), [1]),
        ("x3", KBinsDiscretizer(n_bins=5, encode="onehot-dense", strategy="quantile"), [2]),
    ])
    reg = Pipeline([("pre", pre), ("lr", LinearRegression())]).fit(X, y)
    t = reg.named_steps["pre"].named_transformers_
    mm = t["x2"]
    features = [
        numeric("x1", [{"op": "standardize", "mean": float(t["x1"].mean_[0]), "std": float(t["x1"].scale_[0])}]),
        numeric("x2", [{"op": "min_max", "min": float(mm.data_min_[0]), "max": float(mm.data_max_[0])}]),
        numeric("x3", [{"op": "bucketize", "edges": t["x3"].bin_edges_[0][1:-1].tolist(), "output": "one_hot"}]),
    ]
    lr = reg.named_steps["lr"]
    model = {"kind": "linear", "weights": lr.coef_.tolist(), "bias": float(lr.intercept_)}
    tx1, tx2, tx3, ty = regression_data(np.random.default_rng(98), 40)
    predicted = reg.predict(X)
    reference = {"performance": {"mae": mean_absolute_error(y, predicted),
                                 "rmse": math.sqrt(mean_squared_error(y, predicted)),
                                 "r2": r2_score(y, predicted), "n": len(y)}}
    b = bundle("sk-linear", "regression", features, model, reference=reference)
    return {"name": "sk_linear", "bundle": b, "events": events_of([tx1, tx2, tx3], 40),
            "expected": [[float(p)] for p in reg.predict(np.column_stack([tx1, tx2, tx3]))]}


def multiclass_data(rng, n):
    centers = np.array([[0, 0, 0, 0], [2, 1, -1, 0.5], [-1, 2, 1, -1]])
    label = rng.integers(0, 3, n)
    X = centers[label] + rng.normal(0, 1.1, (n, 4))
    names = np.array(["high", "low", "mid"])
    return X, names[label]


def standardized_features(scaler, d):
    return [numeric(f"v{j}", [{"op": "standardize", "mean": float(scaler.mean_[j]),
                               "std": float(scaler.scale_[j])}]) for j in range(d)]


def mlp_layers(net):
    last = {"logistic": "sigmoid", "softmax": "softmax", "identity": "identity"}[net.out_activation_]
    hidden = {"relu": "relu", "tanh": "tanh", "logistic": "sigmoid", "identity": "identity"}[net.activation]
    layers = []
    for i, (w, b) in enumerate(zip(net.coefs_, net.intercepts_)):
        layers.append({"weights": w.T.tolist(), "bias": b.tolist(),
                       "activation": last if i == len(net.coefs_) - 1 else hidden})
    return {"kind": "mlp", "layers": layers}


def sk_softmax(rng):
    X, y = multiclass_data(rng, 900)
    scaler = StandardScaler().fit(X)
    clf = LogisticRegression(multi_class="multinomial", max_iter=2000).fit(scaler.transform(X), y)
    model = {"kind": "softmax", "weights": clf.coef_.tolist(), "bias": clf.intercept_.tolist()}
    b = bundle("sk-softmax", "multiclass", standardized_features(scaler, 4), model,
               classes=[str(c) for c in clf.classes_])
    Xt, _ = multiclass_data(np.random.default_rng(97), 40)
    return {"name": "sk_softmax", "bundle": b, "events": Xt.tolist(),
            "expected": clf.predict_proba(scaler.transform(Xt)).tolist()}


def sk_mlp_binary(rng):
    X, y = multiclass_data(rng, 900)
    yb = (y == "mid").astype(int)
    scaler = StandardScaler().fit(X)
    clf = MLPClassifier(hidden_layer_sizes=(16, 8), activation="relu", random_state=0,
                        max_iter=400).fit(scaler.transform(X), yb)
    b = bundle("sk-mlp-binary", "binary", standardized_features(scaler, 4), mlp_layers(clf),
               classes=["other", "mid"], threshold=0.4)
    Xt, _ = multiclass_data(np.random.default_rng(96), 40)
    return {"name": "sk_mlp_binary", "bundle": b, "events": Xt.tolist(),
            "expected": clf.predict_proba(scaler.transform(Xt))[:, 1:2].tolist()}


def sk_mlp_multiclass(rng):
    X, y = multiclass_data(rng, 900)
    scaler = StandardScaler().fit(X)
    clf = MLPClassifier(hidden_layer_sizes=(12,), activation="logistic", random_state=1,
                        max_iter=400).fit(scaler.transform(X), y)
    b = bundle("sk-mlp-multiclass", "multiclass", standardized_features(scaler, 4), mlp_layers(clf),
               classes=[str(c) for c in clf.classes_])
    Xt, _ = multiclass_data(np.random.default_rng(95), 40)
    return {"name": "sk_mlp_multiclass", "bundle": b, "events": Xt.tolist(),
            "expected": clf.predict_proba(scaler.transform(Xt)).tolist()}


def sk_mlp_regressor(rng):
    x1, x2, x3, y = regression_data(rng, 800)
    X = np.column_stack([x1, x2, x3])
    scaler = StandardScaler().fit(X)
    reg = MLPRegressor(hidden_layer_sizes=(10, 6), activation="tanh", random_state=2,
                       max_iter=600).fit(scaler.transform(X), y)
    b = bundle("sk-mlp-regressor", "regression", standardized_features(scaler, 3), mlp_layers(reg))
    tx1, tx2, tx3, _ = regression_data(np.random.default_rng(94), 40)
    Xt = np.column_stack([tx1, tx2, tx3])
    return {"name": "sk_mlp_regressor", "bundle": b, "events": Xt.tolist(),
            "expected": [[float(p)] for p in reg.predict(scaler.transform(Xt))]}


def make_sklearn():
    warnings.simplefilter("ignore", ConvergenceWarning)
    rng = np.random.default_rng(42)
    return {"cases": [sk_logistic(rng), sk_linear(rng), sk_softmax(rng), sk_mlp_binary(rng),
                      sk_mlp_multiclass(rng), sk_mlp_regressor(rng)]}


if __name__ == "__main__":
    write("transforms.json", make_transforms())
    write("models.json", make_models())
    write("sklearn.json", make_sklearn())
