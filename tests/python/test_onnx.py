"""weir.to_onnx(): a bundle as an ONNX model, run in onnxruntime, gives the
scores `weir batch` gives (1e-5, relative to the larger of 1 and weir's
value) on every row weir scores, for each dense estimator; what ONNX cannot
express exactly (hashing, tree ensembles) is refused with the reason."""
import os
import subprocess
import warnings

import fastavro
import numpy as np
import pytest

import cases
import weir

ONNX_TOLERANCE = 1e-5
EXAMPLE_MODEL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples",
                             "model.json")


def batch_outputs(weir_binary, bundle, frame, tmp_path):
    """weir batch's outputs per event id, as weir_model_outputs() has them."""
    weir.write_avro(frame, str(tmp_path / "in.avro"))
    subprocess.run([weir_binary, "batch", "--model", bundle, "--in", str(tmp_path / "in.avro"),
                    "--out", str(tmp_path / "out.avro"), "-q"], check=True, capture_output=True)
    with open(tmp_path / "out.avro", "rb") as f:
        scored = list(fastavro.reader(f))
    out = {}
    for s in scored:
        if len(s["scores"]) == 2:
            out[s["event_id"]] = [s["scores"][1]]
        elif s["scores"]:
            out[s["event_id"]] = list(s["scores"])
        else:
            out[s["event_id"]] = [s["score"]]
    return out


@pytest.mark.parametrize("case", cases.DENSE)
def test_onnx_model_scores_as_weir_batch(tmp_path, weir_binary, case):
    import onnxruntime as ort
    est, X, y, T = cases.build(case)
    bundle = str(tmp_path / "m.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weir.export(est, X, y, name="onnx", version="1", path=bundle)
    raw, _ = cases.test_frame()
    raw = raw[list(X.columns)]
    weir.to_onnx(bundle, str(tmp_path / "m.onnx"))
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(["outputs"], weir.onnx_inputs(bundle, raw))
    want = batch_outputs(weir_binary, bundle, raw, tmp_path)
    assert len(want) >= len(raw) // 2, "weir scores most rows of the test frame"
    worst = 0.0
    for i, key in enumerate(str(k) for k in raw.index):
        if key not in want:
            continue  # a dead letter in weir: ONNX cannot refuse a row
        w = np.asarray(want[key], dtype=np.float64)
        diff = np.max(np.abs(got[i] - w) / np.maximum(1.0, np.abs(w)))
        worst = max(worst, float(diff))
    print(f"onnx parity {case}: {worst:.3g}")
    assert worst <= ONNX_TOLERANCE, f"{case}: largest relative difference {worst:.3g}"


def test_hashing_is_refused_with_the_reason():
    with pytest.raises(weir.ExportError, match="hash"):
        weir.to_onnx(EXAMPLE_MODEL)


def test_tree_ensembles_are_refused_with_the_reason(tmp_path):
    est, X, y, _ = cases.build("random_forest_classifier")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        weir.export(est, X, y, name="trees", version="1", path=str(tmp_path / "t.json"))
    with pytest.raises(weir.ExportError, match="tree"):
        weir.to_onnx(str(tmp_path / "t.json"))
