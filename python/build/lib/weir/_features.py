"""From a fitted preprocessing (a ColumnTransformer, a Pipeline of per-column
transformers, or nothing) to weir.model/1 features.

Every column the final estimator sees is traced back to one bundle feature:
its source field and the chain of steps that made it. A step weir cannot
write exactly is refused with the step's name and the reason, never
approximated. The result is the bundle's feature list and, for every input
column of the estimator, the bundle column it is (a one-hot column sklearn
dropped is a bundle column the model gives no weight).
"""
import functools
import math

import numpy as np

from ._categories import category_string, is_missing

__all__ = ["ExportError", "Feature", "trace_features"]


class ExportError(ValueError):
    """The estimator or one of its steps cannot be exported exactly."""


# A missing category that sklearn learned as a category of its own (NaN or
# None in categories_) becomes this text through a leading impute step.
MISSING_CATEGORY = "\u001fmissing"


class Feature:
    """One bundle feature under construction."""

    def __init__(self, name, source, ftype):
        self.name = name
        self.source = source
        self.type = ftype  # numeric | categorical | boolean
        self.missing = None  # None (error), "impute", "unknown", "nan"
        self.steps = []
        self.width = 1
        self.encoded = False  # an encoding (or a one_hot bucketize) closed the chain

    def open_numeric(self, step_name):
        if self.encoded or self.type != "numeric":
            raise ExportError(f"step {step_name}: applies to the encoded columns of feature "
                              f"\"{self.name}\"; weir transforms a feature's value before it is "
                              "encoded, not its columns")

    def to_json(self):
        out = {"name": self.name, "source": self.source, "type": self.type}
        if self.missing and not (self.type == "categorical" and self.missing == "impute"):
            out["missing"] = self.missing
        out["transform"] = self.steps
        return out


class Column:
    """One column of the matrix the final estimator sees: a feature and the
    position among that feature's columns."""

    def __init__(self, feature, offset=0):
        self.feature = feature
        self.offset = offset


def _is_check_array(func):
    from sklearn.utils.validation import check_array
    return func is check_array or (isinstance(func, functools.partial) and func.func is check_array)


def _function_step(transformer, step_name):
    """FunctionTransformer of log1p or clip, where recognisable."""
    func = transformer.func
    kw = transformer.kw_args or {}
    if func is None or _is_check_array(func):
        return []
    if transformer.inverse_func is not None and not transformer.check_inverse:
        pass
    if func is np.log1p and not kw:
        return [{"op": "log1p"}]
    if func is np.clip:
        lo = kw.get("a_min", kw.get("min"))
        hi = kw.get("a_max", kw.get("max"))
        extra = set(kw) - {"a_min", "a_max", "min", "max"}
        if extra or (lo is None and hi is None) or not all(
                v is None or np.isscalar(v) for v in (lo, hi)):
            raise ExportError(f"step {step_name}: np.clip with {sorted(kw)} is not a clip weir "
                              "can write (scalar a_min/a_max only)")
        step = {"op": "clip"}
        if lo is not None:
            step["min"] = float(lo)
        if hi is not None:
            step["max"] = float(hi)
        return [step]
    raise ExportError(f"step {step_name}: FunctionTransformer({getattr(func, '__name__', func)}) "
                      "is not a function weir has a step for (np.log1p and np.clip are)")


def _per_column_steps(transformer, j, step_name, feature):
    """The steps a column-wise transformer adds to column j of its input."""
    kind = type(transformer).__name__
    if kind == "StandardScaler":
        mean = float(transformer.mean_[j]) if transformer.with_mean else 0.0
        std = float(transformer.scale_[j]) if transformer.with_std else 1.0
        return [{"op": "standardize", "mean": mean, "std": std}]
    if kind == "RobustScaler":
        mean = float(transformer.center_[j]) if transformer.with_centering else 0.0
        std = float(transformer.scale_[j]) if transformer.with_scaling else 1.0
        return [{"op": "standardize", "mean": mean, "std": std}]
    if kind == "MaxAbsScaler":
        return [{"op": "standardize", "mean": 0.0, "std": float(transformer.scale_[j])}]
    if kind == "MinMaxScaler":
        if tuple(transformer.feature_range) != (0, 1) or getattr(transformer, "clip", False):
            raise ExportError(f"step {step_name}: MinMaxScaler with feature_range="
                              f"{transformer.feature_range} or clip=True has no weir step "
                              "(min_max maps to [0, 1], unclipped)")
        lo, hi = float(transformer.data_min_[j]), float(transformer.data_max_[j])
        if not hi > lo:
            raise ExportError(f"step {step_name}: feature \"{feature.name}\" was constant in "
                              "training (min = max); min_max needs max > min")
        return [{"op": "min_max", "min": lo, "max": hi}]
    if kind == "FunctionTransformer":
        return _function_step(transformer, step_name)
    raise ExportError(f"step {step_name}: {kind} is not a transformer weir can export "
                      "(StandardScaler, MinMaxScaler, RobustScaler, MaxAbsScaler, SimpleImputer, "
                      "OneHotEncoder, OrdinalEncoder, KBinsDiscretizer, FunctionTransformer of "
                      "log1p/clip)")


def _check_scaler_exactness(transformer, step_name):
    """sklearn's scalers compute (x - mean) / scale in float64, as weir does;
    StandardScaler replaces a zero scale by 1 itself, so scale_ is safe."""
    scale = getattr(transformer, "scale_", None)
    if scale is not None and np.any(~np.isfinite(scale)):
        raise ExportError(f"step {step_name}: a scale that is not finite")


def _apply_imputer(imputer, columns, step_name):
    if imputer.add_indicator:
        raise ExportError(f"step {step_name}: SimpleImputer(add_indicator=True) adds columns weir "
                          "cannot write")
    if not is_missing(imputer.missing_values):
        raise ExportError(f"step {step_name}: SimpleImputer(missing_values="
                          f"{imputer.missing_values!r}) treats a value as missing; weir's missing "
                          "values are null and NaN only")
    stats = imputer.statistics_
    if len(stats) != len(columns):
        raise ExportError(f"step {step_name}: SimpleImputer dropped all-missing columns")
    for j, col in enumerate(columns):
        f = col.feature
        if f.steps:
            raise ExportError(f"step {step_name}: SimpleImputer after other steps of feature "
                              f"\"{f.name}\"; weir imputes first")
        value = stats[j]
        if f.type == "categorical":
            text = category_string(value)
            if text is None:
                raise ExportError(f"step {step_name}: imputes a missing value for \"{f.name}\"")
            f.steps.append({"op": "impute", "value": text})
            f.missing = "impute"
        else:
            f.steps.append({"op": "impute", "value": float(value)})
            f.missing = "impute"
    return columns


def _categories_of(categories, step_name, feature):
    """Category texts; a NaN/None category becomes MISSING_CATEGORY, imputed."""
    texts, has_missing = [], False
    for c in categories:
        text = category_string(c)
        if text is None:
            has_missing = True
            text = MISSING_CATEGORY
        texts.append(text)
    if len(set(texts)) != len(texts):
        raise ExportError(f"step {step_name}: feature \"{feature.name}\" has categories that are "
                          "the same text in weir (such as 1 and 1.0)")
    if has_missing:
        if feature.steps:
            raise ExportError(f"step {step_name}: feature \"{feature.name}\" learned missing as a "
                              "category after an imputer")
        feature.steps.append({"op": "impute", "value": MISSING_CATEGORY})
        feature.missing = "impute"
    return texts


def _as_categorical(col, step_name):
    f = col.feature
    if f.encoded or col.offset != 0:
        raise ExportError(f"step {step_name}: encodes columns already encoded")
    if f.type != "categorical":
        if any(s["op"] != "impute" for s in f.steps):
            raise ExportError(f"step {step_name}: encodes feature \"{f.name}\" after numeric "
                              "steps; weir encodes a category's text")
        if f.steps:
            f.steps[0]["value"] = category_string(f.steps[0]["value"])
        f.type = "categorical"
    return f


def _apply_one_hot(encoder, columns, step_name):
    if getattr(encoder, "max_categories", None) is None and getattr(
            encoder, "min_frequency", None) is None:
        infrequent_all = None
    else:
        infrequent_all = getattr(encoder, "infrequent_categories_", None)
    out = []
    drop_idx = getattr(encoder, "_drop_idx_after_grouping", None)
    if drop_idx is None:
        drop_idx = getattr(encoder, "drop_idx_", None)
    for j, col in enumerate(columns):
        f = _as_categorical(col, step_name)
        infrequent = [] if infrequent_all is None or infrequent_all[j] is None else list(
            infrequent_all[j])
        frequent = [c for c in encoder.categories_[j] if not any(
            (c is i) or (c == i) for i in infrequent)]
        step = {"op": "one_hot", "categories": _categories_of(frequent, step_name, f)}
        if infrequent:
            step["infrequent"] = [category_string(c) for c in infrequent]
        if encoder.handle_unknown == "error":
            step["unknown"] = "error"
        elif encoder.handle_unknown == "ignore":
            step["unknown"] = "ignore"
        elif encoder.handle_unknown in ("infrequent_if_exist", "warn"):
            if encoder.handle_unknown == "warn" and not infrequent:
                step["unknown"] = "ignore"
            else:
                step["unknown"] = "extra" if infrequent else "ignore"
        else:
            raise ExportError(f"step {step_name}: handle_unknown={encoder.handle_unknown!r}")
        if f.missing is None:
            f.missing = "unknown" if step["unknown"] != "error" else None
        f.steps.append(step)
        f.encoded = True
        width = len(frequent) + (1 if infrequent or step["unknown"] == "extra" else 0)
        f.width = width
        dropped = None if drop_idx is None or drop_idx[j] is None else int(drop_idx[j])
        if dropped is not None and step["unknown"] == "extra" and not infrequent:
            dropped = dropped
        for k in range(width):
            if dropped is not None and k == dropped:
                continue
            out.append(Column(f, k))
    return out


def _apply_ordinal(encoder, columns, step_name):
    if getattr(encoder, "max_categories", None) is not None or getattr(
            encoder, "min_frequency", None) is not None:
        raise ExportError(f"step {step_name}: OrdinalEncoder with infrequent categories")
    out = []
    for j, col in enumerate(columns):
        f = _as_categorical(col, step_name)
        # A missing value is not one of the codes: it is encoded_missing_value.
        present = [c for c in encoder.categories_[j] if category_string(c) is not None]
        step = {"op": "ordinal", "categories": _categories_of(present, step_name, f)}
        unknown = None
        if encoder.handle_unknown == "error":
            step["unknown"] = "error"
        else:
            unknown = encoder.unknown_value
            if unknown is None or (isinstance(unknown, float) and math.isnan(unknown)):
                step["unknown"] = "missing"
                unknown = math.nan
            else:
                step["unknown"] = "value"
                step["value"] = float(unknown)
        missing_value = getattr(encoder, "encoded_missing_value", np.nan)
        nan_missing = isinstance(missing_value, float) and math.isnan(missing_value)
        if f.missing is None:
            if nan_missing:
                f.missing = "nan"
            elif unknown is not None and not math.isnan(unknown) and missing_value == unknown:
                f.missing = "unknown"  # a missing category takes the unknown value
            else:
                raise ExportError(f"step {step_name}: encoded_missing_value={missing_value!r} "
                                  f"differs from unknown_value={encoder.unknown_value!r}; weir "
                                  "writes a missing category as NaN or as the unknown value")
        f.steps.append(step)
        f.encoded = True
        out.append(Column(f, 0))
    return out


def _apply_kbins(kbins, columns, step_name):
    if kbins.encode not in ("ordinal", "onehot-dense", "onehot"):
        raise ExportError(f"step {step_name}: KBinsDiscretizer(encode={kbins.encode!r})")
    out = []
    for j, col in enumerate(columns):
        f = col.feature
        f.open_numeric(step_name)
        edges = [float(e) for e in kbins.bin_edges_[j][1:-1]]
        if not edges:
            raise ExportError(f"step {step_name}: feature \"{f.name}\" has a single bin")
        if any(b <= a for a, b in zip(edges, edges[1:])):
            raise ExportError(f"step {step_name}: feature \"{f.name}\" has bins of zero width")
        onehot = kbins.encode != "ordinal"
        f.steps.append({"op": "bucketize", "edges": edges,
                        "output": "one_hot" if onehot else "index"})
        if onehot:
            f.encoded = True
            f.width = len(edges) + 1
            out.extend(Column(f, k) for k in range(f.width))
        else:
            out.append(col)
    return out


def _apply(transformer, columns, step_name):
    """The columns after one fitted transformer, given the columns before."""
    if isinstance(transformer, str):
        if transformer == "passthrough":
            return columns
        if transformer == "drop":
            return []
        raise ExportError(f"step {step_name}: {transformer!r}")
    kind = type(transformer).__name__
    if kind == "Pipeline":
        for sub_name, sub in transformer.steps:
            columns = _apply(sub, columns, f"{step_name}.{sub_name}")
        return columns
    if kind == "ColumnTransformer":
        raise ExportError(f"step {step_name}: a ColumnTransformer inside another step")
    if kind == "SimpleImputer":
        return _apply_imputer(transformer, columns, step_name)
    if kind == "OneHotEncoder":
        return _apply_one_hot(transformer, columns, step_name)
    if kind == "OrdinalEncoder":
        return _apply_ordinal(transformer, columns, step_name)
    if kind == "KBinsDiscretizer":
        return _apply_kbins(transformer, columns, step_name)
    if kind == "FunctionTransformer" and (transformer.func is None or
                                          _is_check_array(transformer.func)):
        return columns
    _check_scaler_exactness(transformer, step_name)
    for j, col in enumerate(columns):
        steps = _per_column_steps(transformer, j, step_name, col.feature)
        if steps:
            col.feature.open_numeric(step_name)
            col.feature.steps.extend(steps)
    return columns


def _input_names(frame_columns, n):
    if frame_columns is not None:
        return [str(c) for c in frame_columns]
    return [f"x{j}" for j in range(n)]


def _raw_feature(name, dtype, used):
    import pandas as pd
    fname = name
    k = 2
    while fname in used:
        fname = f"{name}_{k}"
        k += 1
    used.add(fname)
    if dtype is not None and pd.api.types.is_bool_dtype(dtype):
        ftype = "boolean"
    elif dtype is not None and (isinstance(dtype, pd.CategoricalDtype) or
                                pd.api.types.is_object_dtype(dtype) or
                                pd.api.types.is_string_dtype(dtype)):
        ftype = "categorical"
    else:
        ftype = "numeric"
    return Feature(fname, name, ftype)


def _column_transformer(ct, names, dtypes, used, step_name):
    """ColumnTransformer → output columns, in its output order."""
    out = []
    transformers = list(ct.transformers_)
    for branch, transformer, selection in transformers:
        if branch == "remainder" and (isinstance(transformer, str) and transformer == "drop"):
            continue
        idx = _selected(selection, names)
        if not idx:
            continue
        cols = [Column(_raw_feature(names[i], dtypes.get(names[i]), used)) for i in idx]
        out.extend(_apply(transformer, cols, f"{step_name}.{branch}"))
    return out


def _selected(selection, names):
    if selection is None:
        return []
    if isinstance(selection, slice):
        return list(range(len(names)))[selection]
    sel = list(np.atleast_1d(selection)) if not isinstance(selection, str) else [selection]
    if sel and isinstance(sel[0], (bool, np.bool_)):
        return [i for i, s in enumerate(sel) if s]
    if sel and isinstance(sel[0], (int, np.integer)):
        return [int(i) for i in sel]
    return [names.index(str(s)) for s in sel]


def trace_features(pre_steps, X_reference):
    """(features, columns): the bundle features, and for every column the
    final estimator sees, its Column. @pre_steps are (name, fitted transformer)."""
    import pandas as pd
    frame_columns = X_reference.columns if isinstance(X_reference, pd.DataFrame) else None
    n = X_reference.shape[1]
    names = _input_names(frame_columns, n)
    dtypes = dict(zip(names, X_reference.dtypes)) if frame_columns is not None else {}
    used = set()
    columns = None
    for step_name, step in pre_steps:
        if type(step).__name__ == "ColumnTransformer":
            if columns is not None:
                raise ExportError(f"step {step_name}: a ColumnTransformer after other steps")
            columns = _column_transformer(step, names, dtypes, used, step_name)
            continue
        if columns is None:
            columns = [Column(_raw_feature(nm, dtypes.get(nm), used)) for nm in names]
        columns = _apply(step, columns, step_name)
    if columns is None:
        columns = [Column(_raw_feature(nm, dtypes.get(nm), used)) for nm in names]
    features = []
    for c in columns:
        if c.feature not in features:
            features.append(c.feature)
    # A feature's columns must be contiguous and in order (weir lays them out so).
    seen = []
    for c in columns:
        if seen and seen[-1] is not c.feature and c.feature in seen:
            raise ExportError(f"the columns of feature \"{c.feature.name}\" are not next to each "
                              "other in the estimator's input")
        if not seen or seen[-1] is not c.feature:
            seen.append(c.feature)
    return features, columns


def layout(features, columns):
    """Bundle column of each estimator input column, and the bundle width."""
    start, at = {}, 0
    for f in features:
        start[id(f)] = at
        at += f.width
    return [start[id(c.feature)] + c.offset for c in columns], at
