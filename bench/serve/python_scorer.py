"""POST /score in Python, as people write it: FastAPI, the bundle's feature
transforms in plain Python (examples/weir_reference.py, the same semantics
weir's tests check against) and scikit-learn's LogisticRegression built from
the bundle's weights. The baseline of bench/serve/run.sh.

    uvicorn --app-dir bench/serve python_scorer:app --port P  (WEIR_BUNDLE=model.json)

It answers what weir's /score answers: event id, model, version, score,
label and class probabilities; 400 for an event it cannot score. It does
not check the event against an Avro schema (weir does), which favours it.
"""
import os
import sys

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from fastapi import FastAPI, HTTPException, Request  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))
import weir_reference  # noqa: E402

BUNDLE = weir_reference.load(os.environ["WEIR_BUNDLE"])
if BUNDLE["model"]["kind"] != "logistic":
    raise SystemExit("python_scorer: the baseline serves logistic bundles")
MODEL = LogisticRegression()
MODEL.coef_ = np.array([BUNDLE["model"]["weights"]], dtype=np.float64)
MODEL.intercept_ = np.array([BUNDLE["model"]["bias"]], dtype=np.float64)
MODEL.classes_ = np.array([0, 1])
CLASSES = BUNDLE["classes"]
THRESHOLD = BUNDLE["threshold"]

app = FastAPI()


@app.post("/score")
async def score(request: Request):
    try:
        event = await request.json()
    except ValueError as e:
        raise HTTPException(status_code=400, detail=f"malformed JSON: {e}")
    if not isinstance(event, dict):
        raise HTTPException(status_code=400, detail="the event must be a JSON object")
    try:
        row = weir_reference.transform(BUNDLE, event)
    except weir_reference.Rejected as e:
        raise HTTPException(status_code=400, detail={"error": e.reason, "detail": e.detail})
    p = MODEL.predict_proba(np.array([row], dtype=np.float64))[0]
    return {
        "event_id": str(event.get("event_id")),
        "model": BUNDLE["name"],
        "version": BUNDLE["version"],
        "score": float(p[1]),
        "label": CLASSES[1] if p[1] >= THRESHOLD else CLASSES[0],
        "probabilities": {CLASSES[0]: float(p[0]), CLASSES[1]: float(p[1])},
    }
