#!/usr/bin/env python3
"""Example events of a schema of your own (orders.avsc), for README.md's
"Bring your own schema": writes them as an Avro container file (for
`weir batch`) or as Confluent-framed records, one file each (for
`kcat -P`, then `weir run`), and prints Avro container files as JSON lines.

    .venv/bin/python examples/orders/orders.py write --count 1000 --out orders.avro
    .venv/bin/python examples/orders/orders.py write --count 20 --framed orders-framed
    .venv/bin/python examples/orders/orders.py show scored.avro --limit 3

The events are random but the same for the same --seed. About one in twelve
orders has no customer age (a null), and a few come from countries the
example bundle does not list.
"""
import argparse
import io
import json
import os
import random
import struct
import sys

from avro.datafile import DataFileReader, DataFileWriter
from avro.io import BinaryEncoder, DatumReader, DatumWriter
import avro.schema

HERE = os.path.dirname(os.path.abspath(__file__))
START_MS = 1767225600000  # 2026-01-01T00:00:00Z


def orders(count, seed):
    rng = random.Random(seed)
    for i in range(count):
        yield {
            "order_id": f"order-{seed}-{i:06d}",
            "placed_at": START_MS + i * 1000 + rng.randrange(1000),
            "amount": round(rng.lognormvariate(3.9, 1.1), 2),
            "items": 1 + int(rng.expovariate(0.6)),
            "channel": rng.choices(["web", "app", "phone"], [6, 3, 1])[0],
            "customer": {
                "country": rng.choices(["US", "GB", "DE", "FR", "NL", "JP"], [40, 20, 15, 15, 6, 4])[0],
                "age": None if rng.random() < 1 / 12 else rng.randint(18, 85),
                "first_order": rng.random() < 0.2,
            },
            "coupon": rng.choice([None, None, None, "WELCOME10", "SPRING"]),
        }


def write(args):
    with open(args.schema) as f:
        schema = avro.schema.parse(f.read())
    if args.out:
        with open(args.out, "wb") as f:
            writer = DataFileWriter(f, DatumWriter(), schema, codec="deflate")
            for order in orders(args.count, args.seed):
                writer.append(order)
            writer.close()
        print(f"wrote {args.count} orders to {args.out}", file=sys.stderr)
    if args.framed:
        # Confluent framing: magic byte 0, the schema id (4 bytes, big-endian),
        # then the Avro binary datum: what weir run reads with input.format
        # avro-confluent and input.schema.id.
        os.makedirs(args.framed, exist_ok=True)
        datum = DatumWriter(schema)
        for i, order in enumerate(orders(args.count, args.seed)):
            buf = io.BytesIO()
            buf.write(b"\0" + struct.pack(">I", args.schema_id))
            datum.write(order, BinaryEncoder(buf))
            with open(os.path.join(args.framed, f"{i:06d}.bin"), "wb") as f:
                f.write(buf.getvalue())
        print(f"wrote {args.count} framed orders to {args.framed}/", file=sys.stderr)


def show(args):
    with open(args.file, "rb") as f:
        for i, record in enumerate(DataFileReader(f, DatumReader())):
            if i >= args.limit:
                break
            print(json.dumps(record, separators=(",", ":")))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write", help="write example orders")
    w.add_argument("--count", type=int, required=True)
    w.add_argument("--seed", type=int, default=1)
    w.add_argument("--schema", default=os.path.join(HERE, "orders.avsc"))
    w.add_argument("--out", help="an Avro container file")
    w.add_argument("--framed", help="a folder: one Confluent-framed record per file")
    w.add_argument("--schema-id", type=int, default=1, help="the id the framing carries [1]")
    s = sub.add_parser("show", help="print an Avro container file as JSON lines")
    s.add_argument("file")
    s.add_argument("--limit", type=int, default=10)
    args = ap.parse_args()
    if args.command == "write":
        if not args.out and not args.framed:
            ap.error("write: --out or --framed")
        write(args)
    else:
        show(args)


if __name__ == "__main__":
    main()
