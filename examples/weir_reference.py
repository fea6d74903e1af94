"""A plain-Python reference implementation of the weir.model/1 bundle.

It applies a bundle's feature transforms and model to event dictionaries in
float64, one event at a time, with nothing shared with weir's C code. Two
users: examples/make_model.py (training needs the transformed matrix) and the
integration tests (every score weir writes is checked against this).

Semantics follow docs/bundle.md.
"""
import json
import math
import struct


class Rejected(Exception):
    """The event would be a dead letter; .reason is weir's reason code."""

    def __init__(self, reason, detail):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def fnv1a(data: bytes, seed: int) -> int:
    h = (2166136261 ^ seed) & 0xFFFFFFFF
    for b in data:
        h ^= b
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def _get(event, dotted):
    value = event
    for part in dotted.split("."):
        if value is None:
            return None
        value = value.get(part)
    return value


def _category_string(value):
    """A source value as the category string weir matches: numbers (and
    booleans, which weir reads as 0/1) as "%lld" when integral and within
    64 bits, "%.17g" otherwise."""
    if isinstance(value, str):
        return value
    x = float(value)
    if x.is_integer() and abs(x) < 2.0 ** 63:
        return "%d" % int(x)
    return "%.17g" % x


def _finite(x, name):
    if not math.isfinite(x):
        raise Rejected("invalid_value", f"feature {name}: non-finite")
    return x


def transform_feature(feature, raw):
    """The columns one feature writes, as a list of floats."""
    name = feature["name"]
    ftype = feature["type"]
    missing = feature.get("missing", "error")
    steps = feature.get("transform", [])
    if ftype == "categorical":
        value = None if raw is None else _category_string(raw)
        for step in steps:
            op = step["op"]
            if op == "impute":
                if value is None:
                    value = step["value"]
            elif op == "one_hot":
                cats = step["categories"]
                unknown = step.get("unknown", "error")
                width = len(cats) + (1 if unknown == "extra" else 0)
                out = [0.0] * width
                if value is None and missing == "error":
                    raise Rejected("missing_value", f"feature {name}: missing")
                if value is not None and value in cats:
                    out[cats.index(value)] = 1.0
                elif unknown == "error":
                    raise Rejected("unknown_category", f"feature {name}: {value!r}")
                elif unknown == "extra":
                    out[-1] = 1.0
                return out
            elif op == "hash":
                n = step["buckets"]
                out = [0.0] * n
                if value is None:
                    if missing == "error":
                        raise Rejected("missing_value", f"feature {name}: missing")
                    return out
                out[fnv1a(value.encode(), step.get("seed", 0)) % n] = 1.0
                return out
        raise ValueError(f"feature {name}: no encoding step")
    # numeric and boolean
    if raw is None:
        if missing != "impute":
            raise Rejected("missing_value", f"feature {name}: missing")
        x = None
    elif isinstance(raw, str):
        raise Rejected("invalid_value", f"feature {name}: a string")
    else:
        x = float(raw)
        if ftype == "boolean":
            x = 1.0 if x != 0 else 0.0
        _finite(x, name)
    for step in steps:
        op = step["op"]
        if op == "impute":
            if x is None:
                x = float(step["value"])
                if ftype == "boolean":
                    x = 1.0 if x != 0 else 0.0
        elif op == "clip":
            if "min" in step:
                x = max(x, step["min"])
            if "max" in step:
                x = min(x, step["max"])
        elif op == "log1p":
            if x <= -1:
                raise Rejected("invalid_value", f"feature {name}: log1p of {x}")
            x = math.log1p(x)
        elif op == "standardize":
            x = (x - step["mean"]) / step["std"]
        elif op == "min_max":
            x = (x - step["min"]) / (step["max"] - step["min"])
        elif op == "bucketize":
            edges = step["edges"]
            bucket = sum(1 for e in edges if e <= x)
            if step.get("output", "index") == "one_hot":
                out = [0.0] * (len(edges) + 1)
                out[bucket] = 1.0
                return out
            x = float(bucket)
        _finite(x, name)
    return [x]


def transform(bundle, event):
    row = []
    for feature in bundle["features"]:
        row.extend(transform_feature(feature, _get(event, feature["source"])))
    return row


def _sigmoid(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def _softmax(zs):
    m = max(zs)
    es = [math.exp(z - m) for z in zs]
    s = sum(es)
    return [e / s for e in es]


def _activate(name, zs):
    if name == "relu":
        return [max(0.0, z) for z in zs]
    if name == "tanh":
        return [math.tanh(z) for z in zs]
    if name == "sigmoid":
        return [_sigmoid(z) for z in zs]
    if name == "softmax":
        return _softmax(zs)
    return list(zs)


def predict(bundle, row):
    """Model outputs: [P(positive)] (binary), class probabilities, or [prediction]."""
    model = bundle["model"]
    kind = model["kind"]
    if kind in ("linear", "logistic"):
        z = model["bias"] + sum(w * x for w, x in zip(model["weights"], row))
        return [_sigmoid(z)] if kind == "logistic" else [z]
    if kind == "softmax":
        zs = [b + sum(w * x for w, x in zip(ws, row)) for ws, b in zip(model["weights"], model["bias"])]
        return _softmax(zs)
    values = row
    for layer in model["layers"]:
        zs = [b + sum(w * x for w, x in zip(ws, values))
              for ws, b in zip(layer["weights"], layer["bias"])]
        values = _activate(layer["activation"], zs)
    if bundle["task"] == "binary" and len(values) == 2:
        return [values[1]]
    return values


def score(bundle, event):
    """(score, predicted label) as weir writes them."""
    out = predict(bundle, transform(bundle, event))
    task = bundle["task"]
    if task == "binary":
        classes = bundle.get("classes", ["0", "1"])
        threshold = bundle.get("threshold", 0.5)
        return out[0], classes[1] if out[0] >= threshold else classes[0]
    if task == "multiclass":
        best = max(range(len(out)), key=lambda i: out[i])
        return out[best], bundle["classes"][best]
    return out[0], None


def load(path):
    with open(path) as f:
        return json.load(f)


def as_float32(x):
    """x rounded to float32, the precision of float fields in Avro."""
    return struct.unpack("f", struct.pack("f", x))[0]
