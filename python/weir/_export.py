"""export(): a fitted scikit-learn, XGBoost or LightGBM model to a bundle.

The features come from the preprocessing (_features.py), the model from the
final estimator (_models.py); this file puts them together, decides what a
missing value does for each feature (the library's own behaviour, asked of
the library), records the training window and a reference profile of a
held-out frame, and checks the result against the library through libweir
when it can.
"""
import datetime
import json
import math
import warnings

import numpy as np

from ._categories import category_string, is_missing
from ._features import ExportError, trace_features, layout
from ._models import convert, estimator_kind

__all__ = ["export", "own_prediction", "check_parity", "ExportError", "DEFAULT_THRESHOLD"]

# The libraries decide class 1 when P(positive) > 0.5; weir decides it when
# P >= threshold. The double just above 0.5 makes the two the same decision.
DEFAULT_THRESHOLD = float(np.nextafter(0.5, 1.0))
SAMPLE_SIZE = 5000


def _split(estimator):
    """(pre-steps, final estimator) of a Pipeline, or ([], estimator)."""
    if type(estimator).__name__ == "Pipeline":
        steps = [(n, s) for n, s in estimator.steps if s is not None and s != "passthrough"]
        if not steps:
            raise ExportError("an empty Pipeline")
        pre, (_, final) = steps[:-1], steps[-1]
        for n, s in pre:
            if type(s).__name__ == "Pipeline":
                raise ExportError(f"step {n}: a Pipeline inside a Pipeline before the estimator")
        return pre, final
    return [], estimator


def _task(final):
    library, kind = estimator_kind(final)
    if library == "xgboost" and kind == "Booster":
        objective = json.loads(final.save_config())["learner"]["objective"]["name"]
        if objective.startswith("binary:"):
            return "binary", ["0", "1"]
        if objective.startswith("multi:"):
            k = int(json.loads(final.save_config())["learner"]["learner_model_param"]["num_class"])
            return "multiclass", [str(i) for i in range(k)]
        return "regression", None
    if library == "lightgbm" and kind == "Booster":
        objective = final.dump_model(num_iteration=1)["objective"].split()[0]
        if objective in ("binary", "cross_entropy", "xentropy"):
            return "binary", ["0", "1"]
        if objective in ("multiclass", "softmax"):
            k = int(final.dump_model(num_iteration=1)["num_class"])
            return "multiclass", [str(i) for i in range(k)]
        return "regression", None
    classes = getattr(final, "classes_", None)
    if classes is None:
        return "regression", None
    texts = [category_string(c) for c in classes]
    return ("binary" if len(texts) == 2 else "multiclass"), texts


def own_prediction(estimator, X):
    """What the library itself outputs where weir outputs a score: P(positive)
    for binary, class probabilities for multiclass, the prediction for regression."""
    library, kind = estimator_kind(_split(estimator)[1])
    final = _split(estimator)[1]
    if library == "xgboost" and kind == "Booster":
        import xgboost
        out = final.predict(xgboost.DMatrix(X, enable_categorical=True))
        return np.asarray(out, dtype=np.float64)
    if library == "lightgbm" and kind == "Booster":
        return np.asarray(final.predict(X), dtype=np.float64)
    if hasattr(estimator, "predict_proba") and getattr(final, "classes_", None) is not None:
        proba = np.asarray(estimator.predict_proba(X), dtype=np.float64)
        return proba[:, 1] if proba.shape[1] == 2 else proba
    return np.asarray(estimator.predict(X), dtype=np.float64).reshape(-1)


def _accepts_nan(estimator, X, column):
    """Whether the library scores a row whose @column is missing."""
    import pandas as pd
    row = X.iloc[:1].copy()
    if isinstance(row[column].dtype, pd.CategoricalDtype) or row[column].dtype == object:
        row[column] = row[column].astype(object)
        row.loc[row.index[0], column] = None
        if isinstance(X[column].dtype, pd.CategoricalDtype):
            row[column] = row[column].astype(X[column].dtype)
    else:
        row[column] = row[column].astype(np.float64)
        row.loc[row.index[0], column] = np.nan
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = own_prediction(estimator, row)
        return bool(np.all(np.isfinite(out)))
    except Exception:  # the library refused it: a missing value must be an error
        return False


def _xgboost_categories(final):
    """Per input column, the categories XGBoost recorded at training, or None."""
    import xgboost
    booster = final if isinstance(final, xgboost.Booster) else final.get_booster()
    model = json.loads(booster.save_raw(raw_format="json"))
    cats = model["learner"]["gradient_booster"]["model"].get("cats")
    if not cats:
        return {}
    out = {}
    for j, enc in enumerate(cats.get("enc", [])):
        values = enc.get("values", [])
        if "offsets" in enc:
            offsets = enc["offsets"]
            if len(offsets) < 2:
                continue
            raw = bytes(values)
            out[j] = [raw[a:b].decode("utf-8") for a, b in zip(offsets, offsets[1:])]
        elif values:
            out[j] = list(values)
    return out


def _lightgbm_categories(final, X_est):
    import lightgbm
    booster = final if isinstance(final, lightgbm.Booster) else final.booster_
    cats = getattr(booster, "pandas_categorical", None) or []
    import pandas as pd
    columns = [j for j, c in enumerate(X_est.columns)
               if isinstance(X_est[c].dtype, pd.CategoricalDtype)] if hasattr(X_est, "columns") else []
    return dict(zip(columns, cats))


def _native_categories(final, columns, X_est):
    """Gives every categorical feature the model encodes natively (pandas
    category columns fed straight to XGBoost or LightGBM) its ordinal step."""
    import pandas as pd
    library, _ = estimator_kind(final)
    recorded = {}
    if library == "xgboost":
        recorded = _xgboost_categories(final)
    elif library == "lightgbm":
        recorded = _lightgbm_categories(final, X_est)
    for j, col in enumerate(columns):
        f = col.feature
        if f.type != "categorical" or f.encoded:
            continue
        cats = recorded.get(j)
        if cats is None and hasattr(X_est, "columns") and isinstance(
                X_est.iloc[:, j].dtype, pd.CategoricalDtype):
            cats = list(X_est.iloc[:, j].dtype.categories)
        if cats is None:
            raise ExportError(f"feature \"{f.name}\": text, and nothing encodes it (add an "
                              "encoder, or give the model a pandas category column)")
        texts = [category_string(c) for c in cats]
        if len(set(texts)) != len(texts):
            raise ExportError(f"feature \"{f.name}\": categories that are the same text in weir")
        f.steps.append({"op": "ordinal", "categories": texts, "unknown": "missing"})
        if f.missing is None:
            f.missing = "nan"
        f.encoded = True


def _iso(t):
    if t is None:
        return None
    if isinstance(t, str):
        return t
    import pandas as pd
    ts = pd.Timestamp(t)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# ---------------------------------------------------------------- reference

def _deciles(values):
    qs = np.quantile(values, np.linspace(0.1, 0.9, 9))
    edges = sorted(set(float(q) for q in qs))
    counts = np.bincount(np.searchsorted(np.array(edges), values, side="left"),
                         minlength=len(edges) + 1)
    props = counts / counts.sum()
    return {"edges": edges, "proportions": [float(p) for p in props]}


def _numeric_reference(values, n, rng, sample_size):
    values = np.asarray(values, dtype=np.float64)
    ref = {"n": int(n), "missing_rate": float(1 - len(values) / n) if n else 0.0}
    if len(values):
        k = min(sample_size, len(values))
        ref["sample"] = [float(v) for v in rng.choice(values, size=k, replace=False)]
        if len(values) > 1 and np.ptp(values) > 0:
            ref["bins"] = _deciles(values)
        ref["mean"] = float(values.mean())
        ref["std"] = float(values.std())
    return ref


def _reference(features, X, scores, rng, sample_size):
    out = {}
    n = len(X)
    for f in features:
        if f.name in out or f.source not in X.columns:
            continue
        column = X[f.source]
        if f.type == "categorical":
            texts = [category_string(v) for v in column.astype(object)]
            present = [t for t in texts if t is not None]
            ref = {"n": n, "missing_rate": float(1 - len(present) / n) if n else 0.0}
            if present:
                names, counts = np.unique(np.array(present, dtype=object), return_counts=True)
                order = np.argsort(-counts, kind="stable")
                ref["categories"] = {str(names[i]): float(counts[i] / len(present)) for i in order}
                total = sum(ref["categories"].values())
                if abs(total - 1) > 1e-9:  # keep the sum within the loader's 1e-6
                    first = next(iter(ref["categories"]))
                    ref["categories"][first] += 1 - total
            out[f.name] = ref
        else:
            values = column.to_numpy(dtype=np.float64, na_value=np.nan)
            present = values[~np.isnan(values)]
            out[f.name] = _numeric_reference(present, n, rng, sample_size)
    ref = {"features": out}
    s = np.asarray(scores, dtype=np.float64)
    s = s[np.isfinite(s)]
    if len(s):
        ref["score"] = _numeric_reference(s, len(s), rng, sample_size)
    return ref


def _auc(y, p):
    """Area under the ROC curve by ranks (ties averaged), as scikit-learn's."""
    y = np.asarray(y, dtype=bool)
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    sorted_p = np.asarray(p)[order]
    i = 0
    while i < len(p):
        j = i
        while j + 1 < len(p) and sorted_p[j + 1] == sorted_p[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = y.sum()
    neg = len(y) - pos
    if pos == 0 or neg == 0:
        return None
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def _performance(task, classes, y, outputs, threshold):
    out = {}
    if y is None:
        return out
    y = np.asarray(y)
    keep = np.all(np.isfinite(np.atleast_2d(outputs.T).T), axis=1) if outputs.ndim > 1 else \
        np.isfinite(outputs)
    outputs, y = outputs[keep], y[keep]
    out["n"] = int(len(y))
    if not len(y):
        return out
    eps = 1e-15
    if task == "regression":
        err = outputs - y.astype(np.float64)
        out["mae"] = float(np.abs(err).mean())
        out["rmse"] = float(math.sqrt((err ** 2).mean()))
        ss = float(((y - y.mean()) ** 2).sum())
        if ss > 0:
            out["r2"] = float(min(1.0, 1 - (err ** 2).sum() / ss))
        return out
    labels = np.array([category_string(v) for v in y], dtype=object)
    if task == "binary":
        truth = labels == classes[1]
        pred = outputs >= threshold
        tp = int((truth & pred).sum())
        auc = _auc(truth, outputs)
        if auc is not None:
            out["auc"] = auc
        if pred.sum():
            out["precision"] = tp / int(pred.sum())
        if truth.sum():
            out["recall"] = tp / int(truth.sum())
        if "precision" in out and "recall" in out and out["precision"] + out["recall"] > 0:
            out["f1"] = 2 * out["precision"] * out["recall"] / (out["precision"] + out["recall"])
        out["accuracy"] = float((truth == pred).mean())
        out["positive_rate"] = float(truth.mean())
        p = np.clip(outputs, eps, 1 - eps)
        out["log_loss"] = float(-np.mean(np.where(truth, np.log(p), np.log(1 - p))))
        return out
    index = {c: i for i, c in enumerate(classes)}
    truth = np.array([index.get(v, -1) for v in labels])
    known = truth >= 0
    pred = outputs.argmax(axis=1)
    out["accuracy"] = float((pred[known] == truth[known]).mean()) if known.any() else 0.0
    p = np.clip(outputs[known, truth[known]], eps, 1)
    out["log_loss"] = float(-np.mean(np.log(p))) if known.any() else 0.0
    return out


# ---------------------------------------------------------------- export

def export(estimator, X_reference, y_reference=None, *, name, version, path=None,
           description=None, threshold=None, classes=None, training_from=None,
           training_to=None, training_rows=None, reference_split="test", created=None,
           sample_size=SAMPLE_SIZE, drift_window=5000, seed=0, check=True):
    """Writes a weir.model/1 bundle for a fitted estimator and returns it as a dict.

    estimator: a fitted scikit-learn Pipeline (ColumnTransformer and per-column
        transformers, then the final estimator), a bare estimator, or an
        XGBoost/LightGBM model or Booster.
    X_reference, y_reference: a held-out frame (pandas.DataFrame with the raw
        input columns) and its labels. The reference profile for drift (every
        feature's raw distribution, the score's distribution, the performance)
        comes from it; use the last chronological split, which the model never
        saw. Its name goes into training.reference_split.
    training_from, training_to, training_rows: the training window (times as
        datetimes or RFC 3339 text), which `weir replay` uses to refuse
        evaluating on the training period.
    threshold: binary decision threshold; by default the library's own rule
        (class 1 when P > 0.5).
    check: score X_reference through libweir and compare with the library
        (raises if they differ by more than 1e-5); skipped when libweir is not
        available.
    Anything that cannot be exported exactly raises ExportError naming the
    step and why.
    """
    import pandas as pd
    if not isinstance(X_reference, pd.DataFrame):
        raise ExportError("X_reference must be a pandas DataFrame of the raw input columns")
    if len(X_reference) == 0:
        raise ExportError("X_reference is empty")
    pre, final = _split(estimator)
    library, kind = estimator_kind(final)
    if library == "sklearn" and kind.startswith("HistGradientBoosting") and \
            getattr(final, "_preprocessor", None) is not None:
        if pre:
            raise ExportError(f"{kind} with categorical features after other steps: its own "
                              "encoder must see the raw columns")
        pre = [("categorical_encoder", final._preprocessor)]
    task, library_classes = _task(final)
    features, columns = trace_features(pre, X_reference)
    X_est = X_reference
    for _, step in pre:
        X_est = step.transform(X_est)
    _native_categories(final, columns, X_est)
    colmap, width = layout(features, columns)
    model = convert(final, colmap, width, task, X_est)
    if model["kind"] == "trees":
        for f in features:
            if f.missing is None and f.source in X_reference.columns and f.type != "categorical":
                if _accepts_nan(estimator, X_reference, f.source):
                    f.missing = "nan"
    classes = classes or library_classes
    bundle = {"format": "weir.model/1", "name": name, "version": str(version),
              "created": created or _iso(datetime.datetime.now(datetime.timezone.utc))}
    training = {}
    if training_from is not None:
        training["from"] = _iso(training_from)
    if training_to is not None:
        training["to"] = _iso(training_to)
    if training_rows is not None:
        training["rows"] = int(training_rows)
    if reference_split:
        training["reference_split"] = str(reference_split)
    bundle["training"] = training
    bundle["description"] = description or (
        f"{type(final).__module__.split('.')[0]} {kind}, exported by the weir Python package")
    bundle["task"] = task
    if task == "binary":
        bundle["threshold"] = DEFAULT_THRESHOLD if threshold is None else float(threshold)
    if task != "regression":
        bundle["classes"] = classes
    bundle["features"] = [f.to_json() for f in features]
    bundle["model"] = model

    own = own_prediction(estimator, X_reference)
    scores, outputs = None, own
    try:
        from ._engine import Bundle
        with Bundle(text=json.dumps(bundle, allow_nan=False)) as b:
            outputs = b.predict(X_reference)
            scored = b.score(X_reference)["score"]
        scores = scored
        if check:
            report = _compare(own, outputs, task)
            if report["max_difference"] > 1e-5 * max(1.0, report["max_abs_library"]):
                raise ExportError(f"the exported bundle scores X_reference differently from the "
                                  f"library: largest difference {report['max_difference']:.3g} "
                                  f"(row {report['row']})")
    except ImportError:
        pass
    except Exception as e:  # libweir missing: profile from the library's own outputs
        from ._engine import WeirError
        if not isinstance(e, WeirError) or "cannot load libweir" not in str(e):
            raise
        warnings.warn(f"libweir not available ({e}); the bundle was not checked against it")
    if scores is None:
        scores = outputs if task != "multiclass" else np.max(outputs, axis=1)
    rng = np.random.default_rng(seed)
    reference = _reference(features, X_reference, scores, rng, sample_size)
    reference["performance"] = _performance(task, classes, y_reference, np.asarray(outputs),
                                            bundle.get("threshold", 0.5))
    if not reference["performance"]:
        del reference["performance"]
    bundle["reference"] = reference
    if len(X_reference) < drift_window:
        warnings.warn(f"the reference ({reference_split}) has {len(X_reference)} rows, fewer than "
                      f"the drift window ({drift_window}): drift tests will compare windows "
                      "against a small sample")
    text = json.dumps(bundle, allow_nan=False)
    try:
        from ._engine import Bundle
        with Bundle(text=text) as b:
            for w in b.warnings:
                warnings.warn(w)
    except Exception:
        pass
    if path is not None:
        with open(path, "w") as out:
            out.write(json.dumps(bundle, allow_nan=False, indent=1))
            out.write("\n")
    return bundle


def _compare(own, outputs, task):
    own = np.asarray(own, dtype=np.float64)
    got = np.asarray(outputs, dtype=np.float64)
    if own.shape != got.shape:
        got = got.reshape(own.shape)
    diff = np.abs(own - got)
    diff = np.where(np.isnan(diff), np.inf, diff)
    flat = diff.reshape(len(diff), -1).max(axis=1) if diff.ndim > 1 else diff
    row = int(np.argmax(flat)) if len(flat) else 0
    rel = diff / np.maximum(np.abs(own), 1e-300)
    return {"max_difference": float(flat.max()) if len(flat) else 0.0,
            "max_relative": float(np.nanmax(rel)) if rel.size else 0.0,
            "max_abs_library": float(np.abs(own).max()) if own.size else 0.0, "row": row}


def check_parity(estimator, bundle, frame):
    """The largest difference between the library's own predictions on @frame
    and weir's (through libweir), and whether the decisions agree.

    bundle: a weir.Bundle or a path. Returns a dict: max_difference (absolute),
    max_relative, row (where the largest is), rows, unscored (rows weir would
    dead-letter), decisions_equal (class decisions identical, None for
    regression), and decision_mismatches.
    """
    from ._engine import Bundle
    b = bundle if isinstance(bundle, Bundle) else Bundle(bundle)
    own = own_prediction(estimator, frame)
    scored = b.score(frame)
    got = scored["outputs"].astype(np.float64)
    got = got if b.task == "multiclass" else got[:, 0]
    report = _compare(own, got, b.task)
    report["rows"] = int(len(frame))
    report["unscored"] = int((scored["reason"] != "none").sum())
    report["decisions_equal"] = None
    if b.task != "regression":
        # weir decides on the double it computed; its float output keeps that side.
        library = _library_decisions(estimator, frame, b)
        mismatches = int(sum(1 for a, c in zip(library, scored["label"]) if a != c))
        report["decisions_equal"] = mismatches == 0
        report["decision_mismatches"] = mismatches
    return report


def _library_decisions(estimator, frame, b):
    """The class the library's own output gives at the bundle's rule: P >=
    threshold for binary (with the default threshold, the libraries' P > 0.5),
    the most probable class for multiclass."""
    own = own_prediction(estimator, frame)
    if own.ndim > 1:
        return [b.classes[i] for i in own.argmax(axis=1)]
    return [b.classes[1] if p >= b.threshold else b.classes[0] for p in own]
