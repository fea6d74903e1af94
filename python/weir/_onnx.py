"""A weir.model/1 bundle as an ONNX model, for the runtimes people already
ship to phones and browsers (onnxruntime, onnxruntime-mobile, -web).

The graph holds the bundle's transforms and its model, in double precision
as weir computes them: one input per feature source, `[N, 1]`, double for
numeric and boolean features (NaN is a missing value, as in pandas) and
string for categorical ones (the canonical text of weir.category_string();
"" is a missing value), and one output, `outputs`, `[N, k]` doubles — what
weir_model_outputs() gives: P(positive) for binary, the class probabilities
for multiclass, the prediction for regression.

Only what ONNX expresses exactly is exported; anything else is refused with
an ExportError naming the feature or the model and the reason: `hash`
(FNV-1a has no ONNX operator), `ordinal`, the `nan` missing policy and tree
ensembles. ONNX has no way to refuse one row: a row weir would make a dead
letter (a missing value or an unknown category under "error") gets a score
from the ONNX model but none from weir — check such rows before scoring.
"""
import json

import numpy as np

from ._features import ExportError

OPSET = 19  # Equal on strings


class _Graph:
    def __init__(self):
        import onnx
        from onnx import helper
        self.onnx, self.helper = onnx, helper
        self.nodes, self.inits, self.inputs = [], [], []
        self.n = 0

    def name(self, hint):
        self.n += 1
        return f"{hint}_{self.n}"

    def const(self, value, hint="c", dtype=np.float64):
        from onnx import numpy_helper
        name = self.name(hint)
        arr = np.asarray(value, dtype=dtype) if dtype is not object else np.asarray(value, object)
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def op(self, op_type, inputs, hint=None, **attrs):
        out = self.name(hint or op_type.lower())
        self.nodes.append(self.helper.make_node(op_type, list(inputs), [out], **attrs))
        return out


def _numeric(g, x, feature):
    """The numeric chain on x [N, 1] double; returns [N, width]."""
    steps = feature.get("transform", [])
    where = f"feature {feature['name']!r}"
    for i, step in enumerate(steps):
        op = step["op"]
        if op == "impute":
            x = g.op("Where", [g.op("IsNaN", [x]), g.const([[step["value"]]]), x])
        elif op == "clip":
            if step.get("min") is not None:
                x = g.op("Max", [x, g.const([[step["min"]]])])
            if step.get("max") is not None:
                x = g.op("Min", [x, g.const([[step["max"]]])])
        elif op == "log1p":
            x = g.op("Log", [g.op("Add", [x, g.const([[1.0]])])])
        elif op == "standardize":
            x = g.op("Div", [g.op("Sub", [x, g.const([[step["mean"]]])]),
                             g.const([[step["std"]]])])
        elif op == "min_max":
            x = g.op("Div", [g.op("Sub", [x, g.const([[step["min"]]])]),
                             g.const([[step["max"] - step["min"]]])])
        elif op == "bucketize":
            edges = g.const([step["edges"]])
            ge = g.op("Cast", [g.op("GreaterOrEqual", [x, edges])], to=11)
            x = g.op("ReduceSum", [ge, g.const([1], dtype=np.int64)], keepdims=1)
            if step.get("output", "index") == "one_hot":
                buckets = g.const([list(range(len(step["edges"]) + 1))])
                x = g.op("Cast", [g.op("Equal", [x, buckets])], to=11)
        else:
            raise ExportError(f"{where}: transform step {i} ({op}) has no exact ONNX form")
    return x


def _categorical(g, x, feature):
    """The categorical chain on x [N, 1] strings; returns [N, width] double."""
    where = f"feature {feature['name']!r}"
    steps = feature.get("transform", [])
    for step in steps:
        op = step["op"]
        if op == "impute":
            x = g.op("Where", [g.op("Equal", [x, g.const([[""]], dtype=object)]),
                               g.const([[step["value"]]], dtype=object), x])
        elif op == "one_hot":
            cats = g.const([step["categories"]], dtype=object)
            listed = g.op("Cast", [g.op("Equal", [x, cats])], to=11)
            columns = [listed]
            infrequent = step.get("infrequent") or []
            if step.get("unknown", "error") == "extra":
                matched = g.op("ReduceSum", [listed, g.const([1], dtype=np.int64)], keepdims=1)
                columns.append(g.op("Sub", [g.const([[1.0]]), matched]))
            elif infrequent:
                inf = g.op("Cast", [g.op("Equal", [x, g.const([infrequent], dtype=object)])],
                           to=11)
                columns.append(g.op("ReduceMax", [inf, g.const([1], dtype=np.int64)],
                                    keepdims=1))
            x = columns[0] if len(columns) == 1 else g.op("Concat", columns, axis=1)
            return x
        else:
            raise ExportError(f"{where}: the {op} step has no exact ONNX form"
                              + (" (FNV-1a hashing is not an ONNX operator)" if op == "hash"
                                 else ""))
    raise ExportError(f"{where}: no encoding step")


def _dense(g, x, weights, bias, activation):
    w = g.const(np.asarray(weights, dtype=np.float64).T)
    z = g.op("Add", [g.op("MatMul", [x, w]), g.const(np.asarray(bias, dtype=np.float64))])
    if activation == "identity":
        return z
    if activation == "softmax":
        return g.op("Softmax", [z], axis=1)
    return g.op({"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}[activation], [z])


def to_onnx(bundle, path=None):
    """Writes @bundle (a path to a weir.model/1 JSON file, or its dict) as an
    ONNX model to @path (if given) and returns the onnx.ModelProto.

    Raises ExportError, with the reason, for what ONNX cannot express exactly.
    """
    if not isinstance(bundle, dict):
        with open(bundle) as f:
            bundle = json.load(f)
    if bundle["model"]["kind"] not in ("linear", "logistic", "softmax", "mlp"):
        raise ExportError(f"model: kind {bundle['model']['kind']!r} is not exported to ONNX "
                          "(linear, logistic, softmax and mlp are; tree ensembles are not)")
    g = _Graph()
    from onnx import TensorProto, helper
    columns, seen = [], {}
    for feature in bundle["features"]:
        where = f"feature {feature['name']!r}"
        if feature.get("missing") == "nan":
            raise ExportError(f"{where}: the \"nan\" missing policy (tree models) is not exported")
        source = feature["source"]
        kind = feature["type"]
        if source not in seen:
            elem = TensorProto.STRING if kind == "categorical" else TensorProto.DOUBLE
            g.inputs.append(helper.make_tensor_value_info(source, elem, [None, 1]))
            seen[source] = kind
        elif (seen[source] == "categorical") != (kind == "categorical"):
            raise ExportError(f"{where}: source {source!r} is read both as text and as a number")
        if kind == "categorical":
            columns.append(_categorical(g, source, feature))
        elif kind == "boolean":
            x = source
            for step in feature.get("transform", []):
                if step["op"] != "impute":
                    raise ExportError(f"{where}: a boolean takes only impute")
                x = g.op("Where", [g.op("IsNaN", [x]), g.const([[step["value"]]]), x])
            columns.append(g.op("Cast", [g.op("Not", [g.op("Equal", [x, g.const([[0.0]])])])],
                                to=11))
        else:
            columns.append(_numeric(g, source, feature))
    x = g.op("Concat", columns, axis=1, hint="row") if len(columns) > 1 else columns[0]

    model, task = bundle["model"], bundle["task"]
    kind = model["kind"]
    if kind in ("linear", "logistic"):
        out = _dense(g, x, [model["weights"]], [model["bias"]],
                     "sigmoid" if kind == "logistic" else "identity")
    elif kind == "softmax":
        out = _dense(g, x, model["weights"], model["bias"], "softmax")
    else:  # mlp
        out = x
        for layer in model["layers"]:
            out = _dense(g, out, layer["weights"], layer["bias"], layer["activation"])
        if task == "binary" and len(model["layers"][-1]["bias"]) == 2:
            out = g.op("Slice", [out, g.const([1], dtype=np.int64), g.const([2], dtype=np.int64),
                                 g.const([1], dtype=np.int64)])
    g.nodes.append(helper.make_node("Identity", [out], ["outputs"]))
    k = len(bundle.get("classes") or []) if task == "multiclass" else 1
    graph = helper.make_graph(g.nodes, f"{bundle['name']}-{bundle['version']}", g.inputs,
                              [helper.make_tensor_value_info("outputs", TensorProto.DOUBLE,
                                                             [None, k])],
                              initializer=g.inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="weir", producer_version=bundle["version"])
    proto.ir_version = 9
    proto.doc_string = (f"weir bundle {bundle['name']} {bundle['version']} ({task}); "
                        "inputs by feature source, outputs as weir_model_outputs()")
    g.onnx.checker.check_model(proto)
    if path:
        g.onnx.save(proto, path)
    return proto


def onnx_inputs(bundle, frame):
    """The input feed of to_onnx()'s model for a pandas frame: numbers as
    [N, 1] doubles (missing as NaN), categories as their canonical text
    ("" when missing)."""
    from ._categories import category_string
    import pandas as pd
    if not isinstance(bundle, dict):
        with open(bundle) as f:
            bundle = json.load(f)
    feed = {}
    for feature in bundle["features"]:
        col = frame[feature["source"]]
        if feature["type"] == "categorical":
            values = ["" if v is None or (not isinstance(v, str) and pd.isna(v))
                      else v if isinstance(v, str) else category_string(v) for v in col]
            feed[feature["source"]] = np.asarray(values, dtype=object).reshape(-1, 1)
        else:
            feed[feature["source"]] = pd.to_numeric(col, errors="coerce").astype(
                np.float64).to_numpy().reshape(-1, 1)
    return feed
