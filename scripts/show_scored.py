#!/usr/bin/python3
"""Prints ScoredEvent records read by `kcat -f '%R%s'` from stdin, one line each
(a card transaction's main fields, or the nested event of any other schema as JSON).

usage: kcat -C -b B -t TOPIC -c N -e -f '%R%s' | show_scored.py SCORED_SCHEMA.json
The records carry Confluent framing (magic byte, 4-byte schema id), then Avro.
"""
import io
import json
import struct
import sys

import avro.io
import avro.schema


def main():
    with open(sys.argv[1]) as f:
        schema = avro.schema.parse(f.read())
    reader = avro.io.DatumReader(schema)
    data = sys.stdin.buffer.read()
    pos = 0
    while pos + 4 <= len(data):
        (n,) = struct.unpack(">i", data[pos:pos + 4])
        value = data[pos + 4:pos + 4 + n]
        pos += 4 + n
        if len(value) < 5 or value[0] != 0:
            print("  (not a framed record)")
            continue
        record = reader.read(avro.io.BinaryDecoder(io.BytesIO(value[5:])))
        event = record.pop("event")
        if all(k in event for k in ("amount", "currency", "merchant_category", "channel")):
            print("  %-14s score %.4f  %-6s  amount %8.2f %s  %-13s %-6s  model %s %s" % (
                record["event_id"], record["score"], record["label"], event["amount"], event["currency"],
                event["merchant_category"], event["channel"], record["model_name"], record["model_version"]))
        else:
            # an input of another schema: the event as it came, after its score
            print("  %s score %.4f %s  %s" % (record["event_id"], record["score"], record["label"],
                                              json.dumps(event, separators=(",", ":"))))
    sys.stdout.flush()


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        pass
