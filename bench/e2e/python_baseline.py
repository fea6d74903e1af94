"""The Python stack people reach for, doing weir run's job: the baseline of
bench/e2e/throughput.sh.

    python_baseline.py --bootstrap HOST:PORT --group G --input T --output O --dlq D
                       --model examples/model.json --scored-schema scored.avsc

What it does, per batch of up to --batch messages (512, weir's batch.max):
  - consumes with confluent-kafka (librdkafka underneath, as weir), a consumer
    group with cooperative-sticky assignment, no auto commit;
  - decodes the Confluent framing (magic byte 0, schema id 1) and the Avro body
    with fastavro.schemaless_reader, one call per record (fastavro's reader is
    compiled; there is no batch API);
  - applies the bundle's feature transforms vectorised with numpy, a column at a
    time: clip, log1p, standardize, min_max, bucketize (numpy.digitize), one-hot
    (numpy.searchsorted over the sorted categories), hashing (32-bit FNV-1a
    computed for the whole column at once over a byte matrix), imputation;
  - scores with a scikit-learn LogisticRegression whose coef_/intercept_ are the
    bundle's (predict_proba on the whole batch; OpenBLAS limited to one thread,
    as in weir) and applies the bundle's threshold;
  - writes one ScoredEvent per event with fastavro.schemaless_writer and the
    schema `weir schema scored --input schemas/transaction.avsc` prints (the
    nested event is re-encoded from the decoded dict: fastavro has no way to
    splice the original bytes, which is what weir does);
  - produces with the same producer settings as weir (idempotent, acks=all,
    linger.ms=5, lz4), key = input key, headers weir.model/weir.model.version;
    a record that cannot be decoded or transformed goes to the DLQ with a
    weir.error header;
  - commits at-least-once like weir: a batch's offsets are committed (every
    second, asynchronously) only after every record it produced was acknowledged.

What it does not do (weir does): drift monitoring (weir run feeds every
scored batch to its drift windows and tests), bounded Avro checking before
decoding, the per-reason dead-letter detail, backpressure by pausing
partitions (it blocks in produce() on a full queue instead), metrics/HTTP,
revoke-time flushing. Each of these favours the baseline.

It checks itself: the first --verify (1000) events are also scored by
examples/weir_reference.py (plain Python, one event at a time) and must agree to
1e-6, so the baseline is known to do the same job.

SIGTERM/SIGINT: stop consuming, flush, commit what was delivered, close.
"""
import argparse
import io
import json
import os
import signal
import struct
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import fastavro  # noqa: E402
import numpy as np  # noqa: E402
from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))
import weir_reference  # noqa: E402



class BadBatchValue(Exception):
    pass


def fnv1a_column(strings, seed):
    """32-bit FNV-1a of every string of a column at once."""
    data = np.array([s.encode() for s in strings])  # fixed-width bytes, NUL padded
    width = data.dtype.itemsize
    if width == 0:
        return np.full(len(strings), (2166136261 ^ seed) & 0xFFFFFFFF, dtype=np.uint64)
    matrix = np.frombuffer(data.tobytes(), dtype=np.uint8).reshape(len(strings), width)
    lengths = np.array([len(s) for s in data], dtype=np.int64)
    h = np.full(len(strings), (2166136261 ^ seed) & 0xFFFFFFFF, dtype=np.uint64)
    for j in range(width):
        live = j < lengths
        mixed = ((h ^ matrix[:, j]) * 16777619) & 0xFFFFFFFF
        h = np.where(live, mixed, h)
    return h


class Transforms:
    """The bundle's transforms over a batch of decoded records (list of dicts)."""

    def __init__(self, bundle):
        self.features = bundle["features"]
        self.columns = 0
        self.plan = []
        for f in self.features:
            steps = f.get("transform", [])
            if f["type"] == "categorical":
                enc = steps[-1]
                if enc["op"] == "one_hot":
                    cats = enc["categories"]
                    order = np.argsort(np.array(cats))
                    sorted_cats = np.array(cats)[order]
                    width = len(cats) + (1 if enc.get("unknown", "error") == "extra" else 0)
                    self.plan.append(("one_hot", f, sorted_cats, order, width))
                else:
                    width = enc["buckets"]
                    self.plan.append(("hash", f, enc.get("seed", 0), width))
            else:
                width = len(steps[-1]["edges"]) + 1 if steps and steps[-1]["op"] == "bucketize" and \
                    steps[-1].get("output", "index") == "one_hot" else 1
                self.plan.append(("numeric", f, width))
            self.columns += width

    def __call__(self, records):
        n = len(records)
        x = np.zeros((n, self.columns), dtype=np.float64)
        ok = np.ones(n, dtype=bool)
        col = 0
        for entry in self.plan:
            kind, f = entry[0], entry[1]
            src = f["source"]
            missing = f.get("missing", "error")
            raw = [r.get(src) for r in records]
            if kind == "numeric":
                width = entry[2]
                v = np.array([np.nan if a is None else float(a) for a in raw], dtype=np.float64)
                absent = np.isnan(v)
                if f["type"] == "boolean":
                    v = np.where(absent, v, (v != 0).astype(np.float64))
                for step in f.get("transform", []):
                    op = step["op"]
                    if op == "impute":
                        fill = float(step["value"])
                        if f["type"] == "boolean":
                            fill = 1.0 if fill != 0 else 0.0
                        v = np.where(absent, fill, v)
                        absent = np.zeros(n, dtype=bool)
                    elif op == "clip":
                        v = np.clip(v, step.get("min", -np.inf), step.get("max", np.inf))
                    elif op == "log1p":
                        bad = v <= -1
                        ok &= ~bad
                        v = np.log1p(np.where(bad, 0.0, v))
                    elif op == "standardize":
                        v = (v - step["mean"]) / step["std"]
                    elif op == "min_max":
                        v = (v - step["min"]) / (step["max"] - step["min"])
                    elif op == "bucketize":
                        bucket = np.digitize(v, step["edges"], right=False)
                        if step.get("output", "index") == "one_hot":
                            x[np.arange(n), col + bucket] = 1.0
                            v = None
                            break
                        v = bucket.astype(np.float64)
                if missing != "impute":
                    ok &= ~absent
                if v is not None:
                    ok &= np.isfinite(v) | absent
                    x[:, col] = np.where(absent, 0.0, v)
                col += width
            elif kind == "one_hot":
                sorted_cats, order, width = entry[2], entry[3], entry[4]
                values = np.array(["" if a is None else a for a in raw])
                pos = np.searchsorted(sorted_cats, values)
                pos_c = np.minimum(pos, len(sorted_cats) - 1)
                known = sorted_cats[pos_c] == values
                absent = np.array([a is None for a in raw])
                if missing == "error":
                    ok &= ~absent
                rows = np.arange(n)
                x[rows[known], col + order[pos_c[known]]] = 1.0
                unknown = ~known & ~absent
                if width > len(sorted_cats):
                    x[rows[unknown], col + width - 1] = 1.0
                elif f["transform"][-1].get("unknown", "error") == "error":
                    ok &= ~unknown
                col += width
            else:  # hash
                seed, width = entry[2], entry[3]
                absent = np.array([a is None for a in raw])
                if missing == "error":
                    ok &= ~absent
                strings = ["" if a is None else a for a in raw]
                bucket = (fnv1a_column(strings, seed) % width).astype(np.int64)
                rows = np.arange(n)[~absent]
                x[rows, col + bucket[~absent]] = 1.0
                col += width
        return x, ok


def logistic_from_bundle(bundle):
    model = bundle["model"]
    if model["kind"] != "logistic":
        sys.exit("python_baseline: only logistic bundles (the example)")
    clf = LogisticRegression()
    clf.classes_ = np.array([0, 1])
    clf.coef_ = np.array([model["weights"]], dtype=np.float64)
    clf.intercept_ = np.array([model["bias"]], dtype=np.float64)
    clf.n_features_in_ = len(model["weights"])
    return clf


class Ledger:
    """At-least-once bookkeeping: per batch, the records still in flight and
    the offsets to commit once none is."""

    def __init__(self):
        self.batches = []  # [pending count, {(topic, partition): next offset}]
        self.committable = {}
        self.delivery_errors = 0

    def open_batch(self, offsets):
        entry = [0, offsets]
        self.batches.append(entry)
        return entry

    def settle(self):
        while self.batches and self.batches[0][0] == 0:
            self.committable.update(self.batches.pop(0)[1])

    def commit_list(self):
        return [TopicPartition(t, p, o) for (t, p), o in self.committable.items()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bootstrap", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--dlq", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--scored-schema", required=True)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--verify", type=int, default=1000)
    ap.add_argument("--consumer", action="append", default=[], metavar="KEY=VALUE",
                    help="an extra librdkafka consumer property")
    args = ap.parse_args()

    bundle = weir_reference.load(args.model)
    transforms = Transforms(bundle)
    clf = logistic_from_bundle(bundle)
    threshold = bundle.get("threshold", 0.5)
    classes = bundle.get("classes", ["0", "1"])
    name, version = bundle["name"], bundle["version"]
    # The Transaction schema as nested in the scored one: avro-c prints no
    # logicalType, so event_time stays a long (no datetime conversion).
    with open(args.scored_schema) as f:
        scored_json = json.load(f)
    event_json = next(fl["type"] for fl in scored_json["fields"] if fl["name"] == "event")
    reader_schema = fastavro.parse_schema(event_json)
    scored_schema = fastavro.parse_schema(scored_json)

    consumer_conf = {
        "bootstrap.servers": args.bootstrap,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "partition.assignment.strategy": "cooperative-sticky",
        "queued.max.messages.kbytes": 16384,
    }
    consumer_conf.update(kv.split("=", 1) for kv in args.consumer)
    consumer = Consumer(consumer_conf)
    producer = Producer({
        "bootstrap.servers": args.bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "compression.type": "lz4",
    })
    consumer.subscribe([args.input])
    ledger = Ledger()
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(1))
    headers = [("weir.model", name.encode()), ("weir.model.version", version.encode())]
    verified, verify_seconds = 0, 0.0
    last_commit = time.monotonic()
    framing = struct.Struct(">bI")

    def produce(topic, key, value, hdrs, entry):
        entry[0] += 1

        def delivered(err, msg):
            if err is not None:
                ledger.delivery_errors += 1
                return  # never settles: its offsets are not committed
            entry[0] -= 1

        while True:
            try:
                producer.produce(topic, value=value, key=key, headers=hdrs, on_delivery=delivered)
                return
            except BufferError:
                producer.poll(0.05)

    while not stopping:
        msgs = consumer.consume(args.batch, timeout=0.2)
        if msgs:
            good, records, offsets = [], [], {}
            entry = ledger.open_batch(offsets)
            for m in msgs:
                if m.error():
                    continue
                offsets[(m.topic(), m.partition())] = m.offset() + 1
                value = m.value()
                try:
                    if value is None or len(value) < 5:
                        raise BadBatchValue("bad_framing")
                    magic, schema_id = framing.unpack_from(value)
                    if magic != 0:
                        raise BadBatchValue("bad_framing")
                    if schema_id != 1:
                        raise BadBatchValue("unknown_schema_id")
                    buf = io.BytesIO(value)
                    buf.seek(5)
                    record = fastavro.schemaless_reader(buf, reader_schema)
                    if buf.tell() != len(value):
                        raise BadBatchValue("trailing_bytes")
                except Exception as e:  # noqa: BLE001 — every decode failure is a dead letter
                    reason = str(e) if isinstance(e, BadBatchValue) else "decode_error"
                    produce(args.dlq, m.key(), value, (m.headers() or []) + [("weir.error", reason.encode())], entry)
                    continue
                good.append(m)
                records.append(record)
            if records:
                x, ok = transforms(records)
                scores = clf.predict_proba(x)[:, 1]
                now_ms = int(time.time() * 1000)
                out = io.BytesIO()
                for i, (m, record) in enumerate(zip(good, records)):
                    if not ok[i]:
                        produce(args.dlq, m.key(), m.value(), (m.headers() or []) + [("weir.error", b"invalid_value")], entry)
                        continue
                    s = float(scores[i])
                    if verified < args.verify:
                        t0 = time.monotonic()
                        ref, ref_label = weir_reference.score(bundle, record)
                        verify_seconds += time.monotonic() - t0
                        label = classes[1] if s >= threshold else classes[0]
                        if abs(ref - s) > 1e-6 or ref_label != label:
                            sys.exit(f"python_baseline: {record['event_id']}: {s} ({label}) but the "
                                     f"reference says {ref} ({ref_label})")
                        verified += 1
                    out.seek(0)
                    out.truncate()
                    out.write(b"\x00\x00\x00\x00\x02")
                    fastavro.schemaless_writer(out, scored_schema, {
                        "event_id": record["event_id"],
                        "event_time": record["event_time"],
                        "model_name": name,
                        "model_version": version,
                        "score": s,
                        "scores": [1.0 - s, s],
                        "label": classes[1] if s >= threshold else classes[0],
                        "scored_at": now_ms,
                        "event": record,
                    })
                    produce(args.output, m.key(), out.getvalue(), headers, entry)
        producer.poll(0)
        ledger.settle()
        if time.monotonic() - last_commit >= 1.0 and ledger.committable:
            try:
                consumer.commit(offsets=ledger.commit_list(), asynchronous=True)
            except KafkaException:
                pass
            last_commit = time.monotonic()

    producer.flush(30)
    ledger.settle()
    if ledger.committable:
        consumer.commit(offsets=ledger.commit_list(), asynchronous=False)
    consumer.close()
    print(f"python_baseline: verified {verified} scores against weir_reference.py "
          f"({verify_seconds:.2f} s of the run); {ledger.delivery_errors} delivery errors",
          file=sys.stderr)


if __name__ == "__main__":
    main()
