"""Helpers of bench/e2e/throughput.sh (run with the venv's python).

    progress.py wait --bootstrap B --group G --input T --output O --dlq D --pid PID --start EPOCH
        Polls, every 100 ms, the output and DLQ topics' record counts and the
        group's committed offsets on the input topic, until the offsets reach
        every partition's high watermark. At that moment it reads the
        process's CPU time (utime + stime, /proc/PID/stat) and peak RSS
        (VmHWM, /proc/PID/status), and prints one line:
            first=S delivered=S committed=S cpu=S rss_mb=M events=N outputs=N dead=N
            cpu_first=S outputs_first=N
        first, delivered, committed: seconds from EPOCH (just before the
        process was started) to the first output record, to as many output
        and dead-letter records as input events, and to the final commit.
        cpu_first and outputs_first: the process's CPU seconds and the output
        count when the first output was seen, so that start-up (loading the
        model, joining the group) can be told from the cost per event.
    progress.py delete --bootstrap B TOPIC...
        Deletes the benchmark's topics.
"""
import argparse
import os
import sys
import time

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient


def partitions(consumer, topic):
    md = consumer.list_topics(topic, timeout=10)
    return [TopicPartition(topic, p) for p in sorted(md.topics[topic].partitions)]


def total(consumer, parts):
    return sum(consumer.get_watermark_offsets(tp, timeout=10, cached=False)[1] for tp in parts)


def proc_usage(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    rss_kb = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss_kb = int(line.split()[1])
    return cpu, rss_kb / 1024


def wait(args):
    c = Consumer({"bootstrap.servers": args.bootstrap, "group.id": args.group,
                  "enable.auto.commit": False})
    inputs = partitions(c, args.input)
    outputs = partitions(c, args.output)
    highs = [c.get_watermark_offsets(tp, timeout=10, cached=False)[1] for tp in inputs]
    events = sum(highs)
    dlqs = partitions(c, args.dlq)
    first_output = delivered = None
    cpu_first, outputs_first = 0.0, 0
    deadline = time.time() + args.timeout
    while True:
        now = time.time()
        if delivered is None:
            produced = total(c, outputs)
            if first_output is None and produced > 0:
                first_output = now
                cpu_first, _ = proc_usage(args.pid)
                outputs_first = produced
            if produced >= events or produced + total(c, dlqs) >= events:
                delivered = now
        committed = c.committed(inputs, timeout=10)
        if all(tp.offset >= high for tp, high in zip(committed, highs)):
            break
        if now > deadline:
            sys.exit(f"progress.py: {args.group} did not commit {args.input} in {args.timeout}s")
        if not os.path.exists(f"/proc/{args.pid}"):
            sys.exit(f"progress.py: process {args.pid} exited before it was done")
        time.sleep(0.1)
    done = time.time()
    cpu, rss_mb = proc_usage(args.pid)
    outs = total(c, outputs)
    dead = total(c, dlqs)
    c.close()
    first_output = first_output or done
    delivered = delivered or done
    print(f"first={first_output - args.start:.3f} delivered={delivered - args.start:.3f} "
          f"committed={done - args.start:.3f} cpu={cpu:.2f} rss_mb={rss_mb:.1f} events={events} "
          f"outputs={outs} dead={dead} cpu_first={cpu_first:.2f} outputs_first={outputs_first}")


def delete(args):
    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    for topic, future in admin.delete_topics(args.topics, operation_timeout=30).items():
        try:
            future.result()
        except Exception as e:  # noqa: BLE001 — report and go on with the others
            print(f"progress.py: delete {topic}: {e}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    w = sub.add_parser("wait")
    for name in ("--bootstrap", "--group", "--input", "--output", "--dlq"):
        w.add_argument(name, required=True)
    w.add_argument("--pid", type=int, required=True)
    w.add_argument("--start", type=float, required=True)
    w.add_argument("--timeout", type=float, default=1800)
    d = sub.add_parser("delete")
    d.add_argument("--bootstrap", required=True)
    d.add_argument("topics", nargs="+")
    args = ap.parse_args()
    wait(args) if args.cmd == "wait" else delete(args)


if __name__ == "__main__":
    main()
