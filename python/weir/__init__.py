"""weir: the training-side half of the weir scoring service.

    export(estimator, X_reference, y_reference, name=..., version=..., path=...)
        a fitted scikit-learn / XGBoost / LightGBM model → a weir.model/1 bundle
    Bundle(path).predict(frame)        scores through libweir, the engine of `weir run`
    check_parity(estimator, bundle, frame)
                                       the largest difference from the library itself
    validate(path)                     the JSON Schema, then libweir's own loader
    avro_schema(frame), write_avro(frame, path)
                                       events for `weir batch` / a topic, NaN as null
    category_string(value)             the one text a number has as a category
    to_onnx(bundle, path), onnx_inputs(bundle, frame)
                                       a bundle as an ONNX model (onnx package), and its feed
"""
from ._avro import avro_schema, write_avro
from ._categories import category_string
from ._engine import Bundle, WeirError, library
from ._export import DEFAULT_THRESHOLD, check_parity, export, own_prediction
from ._features import ExportError
from ._onnx import onnx_inputs, to_onnx
from ._validate import Invalid, bundle_schema, validate

__version__ = "0.1.0"
__all__ = ["export", "Bundle", "check_parity", "validate", "avro_schema", "write_avro",
           "category_string", "own_prediction", "bundle_schema", "library", "ExportError",
           "WeirError", "Invalid", "DEFAULT_THRESHOLD", "to_onnx", "onnx_inputs"]
