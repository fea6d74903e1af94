"""Scoring through libweir, the C engine `weir run` and `weir batch` use.

The shared library (libweir.so.0, CMake target weir_shared) is found in this
order: $WEIR_LIBRARY, a libweir.so.0 beside this package, then the system's
library path. A frame goes in as named columns (weir_engine_score_columns()):
each bundle feature reads the column named as its source, numbers as doubles
(NaN is a missing value, as in pandas), text as UTF-8 (None is missing).
"""
import ctypes
import ctypes.util
import os

import numpy as np

from ._categories import category_string, is_missing

__all__ = ["Bundle", "library", "WeirError"]

REASONS = ["none", "empty_value", "bad_framing", "unknown_schema_id", "truncated",
           "trailing_bytes", "bad_length", "bad_union_index", "bad_enum_index", "too_large",
           "missing_value", "unknown_category", "invalid_value", "decode_error",
           "unregistered_schema_id", "incompatible_schema"]
TASKS = ["binary", "multiclass", "regression"]
FEATURE_TYPES = ["numeric", "categorical", "boolean"]


class WeirError(Exception):
    """libweir refused something; .code is its negative WEIR_E* code."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class _FeatureInfo(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("source", ctypes.c_char_p), ("type", ctypes.c_int),
                ("missing", ctypes.c_int), ("column", ctypes.c_size_t), ("width", ctypes.c_size_t)]


class _Column(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("numbers", ctypes.POINTER(ctypes.c_double)),
                ("strings", ctypes.POINTER(ctypes.c_char_p))]


_library = None


def _find_library():
    candidates = []
    if os.environ.get("WEIR_LIBRARY"):
        candidates.append(os.environ["WEIR_LIBRARY"])
    candidates.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "libweir.so.0"))
    found = ctypes.util.find_library("weir")
    if found:
        candidates.append(found)
    candidates.append("libweir.so.0")
    errors = []
    for path in candidates:
        try:
            return ctypes.CDLL(path)
        except OSError as e:
            errors.append(f"{path}: {e}")
    raise WeirError("cannot load libweir (build it with `ninja -C build weir_shared` and set "
                    "WEIR_LIBRARY to build/libweir.so.0): " + "; ".join(errors))


def library():
    """The loaded libweir, with the signatures this package calls."""
    global _library
    if _library is not None:
        return _library
    lib = _find_library()
    P, S, I, D = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_double
    sigs = {
        "weir_engine_version": (ctypes.c_char_p, []),
        "weir_model_load": (I, [ctypes.c_char_p, ctypes.POINTER(P), ctypes.c_char_p, S]),
        "weir_model_parse": (I, [ctypes.c_char_p, S, ctypes.c_char_p, ctypes.POINTER(P),
                                 ctypes.c_char_p, S]),
        "weir_model_destroy": (None, [P]),
        "weir_model_name": (ctypes.c_char_p, [P]),
        "weir_model_version": (ctypes.c_char_p, [P]),
        "weir_model_task": (I, [P]),
        "weir_model_threshold": (D, [P]),
        "weir_model_class_count": (S, [P]),
        "weir_model_class": (ctypes.c_char_p, [P, S]),
        "weir_model_feature_count": (S, [P]),
        "weir_model_feature": (ctypes.POINTER(_FeatureInfo), [P, S]),
        "weir_model_columns": (S, [P]),
        "weir_model_outputs": (S, [P]),
        "weir_model_warning_count": (S, [P]),
        "weir_model_warning": (ctypes.c_char_p, [P, S]),
        "weir_category_format": (S, [D, ctypes.c_char_p, S]),
        "weir_engine_score_columns": (I, [P, ctypes.POINTER(_Column), S, S,
                                          ctypes.POINTER(ctypes.c_float),
                                          ctypes.POINTER(ctypes.c_double),
                                          ctypes.POINTER(ctypes.c_int),
                                          ctypes.POINTER(ctypes.c_int),
                                          ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p, S]),
    }
    for name, (restype, argtypes) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    _library = lib
    return lib


def c_category_string(x):
    """weir_category_format() itself, for the test that the two texts agree."""
    buf = ctypes.create_string_buffer(64)
    n = library().weir_category_format(float(x), buf, len(buf))
    return buf.raw[:n].decode()


class Bundle:
    """A weir.model/1 bundle loaded by libweir.

    Bundle(path) or Bundle(text=json_text). predict(frame) gives what weir
    writes as scores: P(positive) for binary models (shape (n,)), the class
    probabilities for multiclass (n, k), the prediction for regression (n,),
    computed in double and returned as the float32 weir writes; a row weir
    would send to the dead-letter topic is NaN (score() says why).
    """

    def __init__(self, path=None, *, text=None):
        lib = library()
        err = ctypes.create_string_buffer(1024)
        handle = ctypes.c_void_p()
        if text is not None:
            data = text.encode() if isinstance(text, str) else text
            rc = lib.weir_model_parse(data, len(data), b"<memory>", ctypes.byref(handle), err,
                                      len(err))
        else:
            rc = lib.weir_model_load(os.fsencode(path), ctypes.byref(handle), err, len(err))
        if rc != 0:
            raise WeirError(err.value.decode(errors="replace"), rc)
        self._lib = lib
        self._handle = handle
        self.path = path
        self.name = lib.weir_model_name(handle).decode()
        self.version = lib.weir_model_version(handle).decode()
        self.task = TASKS[lib.weir_model_task(handle)]
        self.threshold = lib.weir_model_threshold(handle)
        self.classes = [lib.weir_model_class(handle, i).decode()
                        for i in range(lib.weir_model_class_count(handle))]
        self.outputs = lib.weir_model_outputs(handle)
        self.features = []
        for i in range(lib.weir_model_feature_count(handle)):
            f = lib.weir_model_feature(handle, i).contents
            self.features.append({"name": f.name.decode(), "source": f.source.decode(),
                                  "type": FEATURE_TYPES[f.type], "column": f.column,
                                  "width": f.width})
        self.warnings = [lib.weir_model_warning(handle, i).decode()
                         for i in range(lib.weir_model_warning_count(handle))]

    def close(self):
        if getattr(self, "_handle", None):
            self._lib.weir_model_destroy(self._handle)
            self._handle = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _columns(self, frame):
        """The frame's columns that features read, as weir_column_t."""
        keep = []  # owners of the memory the C side borrows
        columns = []
        sources = []
        for f in self.features:
            if f["source"] not in sources:
                sources.append(f["source"])
        types = {}
        for f in self.features:
            types.setdefault(f["source"], set()).add(f["type"])
        for source in sources:
            if source not in frame.columns:
                raise WeirError(f"the frame has no column \"{source}\" (a feature's source)")
            series = frame[source]
            numbers, strings = _encode_column(series, "categorical" in types[source])
            col = _Column(source.encode())
            if numbers is not None:
                keep.append(numbers)
                col.numbers = numbers.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
            else:
                array = (ctypes.c_char_p * len(strings))(*strings)
                keep.append(array)
                col.strings = ctypes.cast(array, ctypes.POINTER(ctypes.c_char_p))
            columns.append(col)
        return (_Column * len(columns))(*columns), keep

    def score(self, frame):
        """Scores every row: a dict of numpy arrays "outputs", "score", "class"
        (index, -1 for regression or a row not scored), "label", "reason" (the
        dead-letter reason weir would give, "none" when scored) and
        "feature" (the feature at fault, or None)."""
        n = len(frame)
        columns, keep = self._columns(frame)
        outputs = np.empty((n, self.outputs), dtype=np.float32)
        scores = np.empty(n, dtype=np.float64)
        classes = np.empty(n, dtype=np.intc)
        reasons = np.empty(n, dtype=np.intc)
        bad = np.empty(n, dtype=np.uintp)
        err = ctypes.create_string_buffer(1024)
        rc = self._lib.weir_engine_score_columns(
            self._handle, columns, len(columns), n,
            outputs.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            scores.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
            classes.ctypes.data_as(ctypes.POINTER(ctypes.c_int)),
            reasons.ctypes.data_as(ctypes.POINTER(ctypes.c_int)),
            bad.ctypes.data_as(ctypes.POINTER(ctypes.c_size_t)), err, len(err))
        del keep
        if rc != 0:
            raise WeirError(err.value.decode(errors="replace"), rc)
        reason_names = np.array([REASONS[r] if 0 <= r < len(REASONS) else "unknown" for r in reasons],
                                dtype=object)
        labels = np.array([self.classes[c] if c >= 0 else None for c in classes], dtype=object)
        feature = np.array([self.features[b]["name"] if r != 0 else None
                            for r, b in zip(reasons, bad)], dtype=object)
        return {"outputs": outputs, "score": scores, "class": classes, "label": labels,
                "reason": reason_names, "feature": feature}

    def predict(self, frame):
        """The scores weir writes (see the class); NaN for rows it would not score."""
        out = self.score(frame)["outputs"].astype(np.float64)
        return out if self.task == "multiclass" else out[:, 0]

    def predict_label(self, frame):
        """The class weir decides (after the bundle's threshold), or None."""
        return self.score(frame)["label"]


def _encode_column(series, categorical):
    """(doubles, None) for a numeric column, (None, [bytes or None]) for text."""
    import pandas as pd

    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        values = series.astype(object)
        return None, [None if is_missing(v) else category_string(v).encode() for v in values]
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        return np.ascontiguousarray(series.to_numpy(dtype=np.float64, na_value=np.nan)), None
    values = series.to_numpy(dtype=object)
    present = [v for v in values if not is_missing(v)]
    if present and all(isinstance(v, (int, float, np.integer, np.floating, bool, np.bool_))
                       for v in present) and not categorical:
        return np.array([np.nan if is_missing(v) else float(v) for v in values],
                        dtype=np.float64), None
    return None, [None if is_missing(v) else category_string(v).encode() for v in values]
