"""Helpers of bench/cost/run.sh (run with bench/e2e's venv python).

    cost.py create --bootstrap B [--log-append-time] TOPIC:PARTITIONS...
        Creates the topics (replication 1). With --log-append-time the broker
        stamps every record with its append time, so latency is measured from
        the input's append to the output's append, without any client clock.
    cost.py latency --bootstrap B --input T --output O --since EPOCH_MS
        Reads both topics from the start. The input and output topics have the
        same partition count and every side produces with the input's key and
        librdkafka's default partitioner, so the n-th record of output
        partition p is the output of the n-th record of input partition p
        (checked: the keys must match). Prints the added latency percentiles,
        in ms, of the records appended to the input at or after EPOCH_MS:
            n=N p50=MS p90=MS p99=MS max=MS mismatched=N
    cost.py summary FILE
        FILE holds one line per measurement: `VARIANT ROUND KEY=VALUE...` (the
        keys of bench/e2e/progress.py). Prints, per variant, the medians over
        the rounds and the ratios against the variant named passthrough.
    cost.py half-rate FILE VARIANT
        Prints half of VARIANT's median events/s in FILE, rounded down to a
        hundred: the second rate the latency is measured at.
"""
import argparse
import statistics
import sys
import time

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic


def create(args):
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    config = {"message.timestamp.type": "LogAppendTime"} if args.log_append_time else {}
    topics = []
    for spec in args.topics:
        name, parts = spec.rsplit(":", 1)
        topics.append(NewTopic(name, num_partitions=int(parts), replication_factor=1,
                               config=config))
    for name, future in admin.create_topics(topics, operation_timeout=30).items():
        future.result()


def read_partition(consumer, topic, partition):
    """(timestamp ms, key) of every record of one partition, in offset order."""
    tp = TopicPartition(topic, partition, 0)
    high = consumer.get_watermark_offsets(tp, timeout=10, cached=False)[1]
    consumer.assign([tp])
    out = []
    deadline = time.time() + 120
    while len(out) < high:
        for m in consumer.consume(10000, timeout=1):
            if m.error():
                continue
            out.append((m.timestamp()[1], m.key()))
        if time.time() > deadline:
            sys.exit(f"cost.py: {topic}[{partition}]: read {len(out)} of {high} records")
    return out


def latency(args):
    c = Consumer({"bootstrap.servers": args.bootstrap, "group.id": "cost-latency-reader",
                  "enable.auto.commit": False, "enable.partition.eof": False})
    md = c.list_topics(args.input, timeout=10)
    parts = sorted(md.topics[args.input].partitions)
    added = []
    mismatched = 0
    for p in parts:
        ins = read_partition(c, args.input, p)
        outs = read_partition(c, args.output, p)
        for (t_in, k_in), (t_out, k_out) in zip(ins, outs):
            if k_in != k_out:
                mismatched += 1
                continue
            if t_in >= args.since:
                added.append(t_out - t_in)
        mismatched += abs(len(ins) - len(outs))
    c.close()
    if not added:
        sys.exit("cost.py: no record to measure")
    added.sort()

    def pct(q):
        return added[min(len(added) - 1, int(q * len(added)))]

    print(f"n={len(added)} p50={pct(0.5)} p90={pct(0.9)} p99={pct(0.99)} max={added[-1]} "
          f"mismatched={mismatched}")


def rates(path, variant):
    out = []
    with open(path) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 3 or fields[0] != variant:
                continue
            kv = dict(x.split("=", 1) for x in fields[2:])
            span = float(kv["delivered"]) - float(kv["first"])
            if span > 0:
                out.append(float(kv["events"]) / span)
    return out


def half_rate(args):
    r = rates(args.file, args.variant)
    if not r:
        sys.exit(f"cost.py: no measurement of {args.variant} in {args.file}")
    print(int(statistics.median(r) / 2 // 100 * 100))


def summary(args):
    rows = {}
    order = []
    with open(args.file) as f:
        for line in f:
            fields = line.split()
            if len(fields) < 3:
                continue
            name = fields[0]
            kv = dict(x.split("=", 1) for x in fields[2:])
            if name not in rows:
                rows[name] = []
                order.append(name)
            rows[name].append(kv)

    def med(name, fn):
        values = [fn(kv) for kv in rows[name] if fn(kv) is not None]
        return statistics.median(values) if values else None

    def cpu_us(kv):
        return float(kv["cpu"]) * 1e6 / float(kv["events"])

    def steady_us(kv):
        """CPU after the first output over the events still to come."""
        if "cpu_first" not in kv:
            return None
        rest = float(kv["events"]) - float(kv["outputs_first"])
        return (float(kv["cpu"]) - float(kv["cpu_first"])) * 1e6 / rest if rest > 0 else None

    def rate(kv):
        span = float(kv["delivered"]) - float(kv["first"])
        return float(kv["events"]) / span if span > 0 else None

    def field(key):
        return lambda kv: float(kv[key]) if key in kv else None

    base = "passthrough"
    print(f"{'':24} {'rounds':>6} {'CPU us/ev':>10} {'x':>6} {'steady':>7} {'x':>6} "
          f"{'ev/s deliv':>11} {'x':>6} {'peak RSS MB':>11} {'x':>6}")
    for name in order:
        c, r, m = med(name, cpu_us), med(name, rate), med(name, field("rss_mb"))
        st = med(name, steady_us)
        bc, br, bm = (med(base, cpu_us), med(base, rate), med(base, field("rss_mb"))) \
            if base in rows else (None, None, None)
        bs = med(base, steady_us) if base in rows else None

        def ratio(a, b):
            return f"{a / b:6.2f}" if a is not None and b else f"{'-':>6}"

        steady = f"{st:7.2f}" if st is not None else f"{'-':>7}"
        print(f"{name:24} {len(rows[name]):6d} {c:10.2f} {ratio(c, bc)} {steady} {ratio(st, bs)} "
              f"{r or 0:11.0f} {ratio(r, br)} {m:11.1f} {ratio(m, bm)}")
    print("(medians over the rounds; CPU us/ev: the whole process, start-up included, over the\n"
          " events; steady: from the first output on; ev/s from the first output to as many\n"
          " outputs as events)")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("create")
    c.add_argument("--bootstrap", required=True)
    c.add_argument("--log-append-time", action="store_true")
    c.add_argument("topics", nargs="+")
    lat = sub.add_parser("latency")
    for name in ("--bootstrap", "--input", "--output"):
        lat.add_argument(name, required=True)
    lat.add_argument("--since", type=int, required=True)
    s = sub.add_parser("summary")
    s.add_argument("file")
    h = sub.add_parser("half-rate")
    h.add_argument("file")
    h.add_argument("variant")
    args = ap.parse_args()
    {"create": create, "latency": latency, "summary": summary, "half-rate": half_rate}[args.cmd](args)


if __name__ == "__main__":
    main()
