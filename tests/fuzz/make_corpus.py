#!/usr/bin/python3
"""Writes the seed corpora of tests/fuzz/fuzz_decode.c and fuzz_container.c.

    /usr/bin/python3 tests/fuzz/make_corpus.py

Valid datums and container files come from python3-avro (Debian's 1.11.1),
an encoder independent of weir; the files that broke weir before are built
byte by byte. Seeds reach deep on purpose: nested records, unions, arrays,
maps, enums, fixed, recursion, logical types, both framings, both codecs and
several blocks per file. The sync markers python3-avro writes are random, so
a rerun changes those bytes, not what the seeds hold.

decode/<name>: a schema's JSON, a NUL byte, a mode byte (bit 0: Confluent
  framing, schema id 1), then the value.
container/<name>: an Avro object container file.
"""
import datetime
import decimal
import io
import json
import os
import struct
import uuid
import zlib

import avro.datafile
import avro.io
import avro.schema

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
SCHEMAS = os.path.join(HERE, "..", "..", "schemas")
MAX_SEED = 64 << 10

CHANNELS = ["pos", "online", "atm", "moto"]


def transaction_schema():
    with open(os.path.join(SCHEMAS, "transaction.avsc")) as f:
        return json.dumps(json.load(f), separators=(",", ":"))


def tx(i):
    nullable = i % 3 != 0
    return {
        "event_id": "tx-%06d" % i,
        "event_time": datetime.datetime.fromtimestamp(1700000000 + i, tz=datetime.timezone.utc),
        "card_id": "card-%d" % (i % 97),
        "merchant_id": "m-coffee" if i % 2 else "m-electronics-and-appliances",
        "merchant_category": "5814" if i % 2 else "5732",
        "amount": 12.5 + i * 0.25,
        "currency": "EUR",
        "country": "DE" if i % 5 else "FR",
        "channel": CHANNELS[i % 4],
        "card_present": bool(i % 2),
        "local_hour": i % 24,
        "day_of_week": i % 7,
        "customer_age": 18 + i % 60 if nullable else None,
        "account_age_days": 30 + i,
        "distance_from_home_km": 1.5 * (i % 40),
        "distance_from_last_tx_km": 0.5 * (i % 10) if nullable else None,
        "seconds_since_last_tx": 60 * i if nullable else None,
        "tx_count_1h": i % 5,
        "tx_count_24h": i % 20,
        "amount_avg_30d": 40.0 + (i % 13),
        "failed_pin_attempts": i % 3,
        "is_foreign": i % 5 == 0,
        "device_trust_score": 0.5 + (i % 5) * 0.125 if nullable else None,
        "ip_risk_score": 0.25 * (i % 4),
        "chargebacks_90d": i % 2,
        "credit_limit": 1000.0 * (1 + i % 10),
        "balance_utilization": 0.125 * (i % 8),
    }


EVERYTHING = {
    "type": "record", "name": "Everything", "namespace": "fuzz.seed",
    "doc": "every Avro type, logical types, nesting",
    "fields": [
        {"name": "n", "type": "null"},
        {"name": "b", "type": "boolean"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "s", "type": "string"},
        {"name": "by", "type": "bytes"},
        {"name": "fx", "type": {"type": "fixed", "name": "Hash", "size": 8}},
        {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["red", "green", "blue"]}},
        {"name": "a", "type": {"type": "array", "items": "long"}},
        {"name": "m", "type": {"type": "map", "values": ["null", "double", "Color"]}},
        {"name": "u", "type": ["null", "string", "Hash", {"type": "array", "items": "int"}]},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "tm", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "price", "type": {"type": "bytes", "logicalType": "decimal",
                                   "precision": 9, "scale": 2}},
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "inner", "type": {"type": "record", "name": "Inner", "fields": [
            {"name": "x", "type": "double"},
            {"name": "h", "type": "fuzz.seed.Hash"},
            {"name": "tags", "type": {"type": "map", "values": {"type": "array", "items": "string"}}},
            {"name": "maybe", "type": ["null", "Inner"], "default": None}]}},
        {"name": "opt", "type": ["null", "long"], "default": None},
    ],
}


def everything(i):
    return {
        "n": None, "b": bool(i % 2), "i": -(2 ** 31) if i == 1 else i * 1000,
        "l": 2 ** 63 - 1 if i == 2 else -i, "f": 1.5 * i, "d": -2.25e300 if i == 3 else 0.5 * i,
        "s": "h\u00e9llo-%d" % i, "by": bytes(range(i % 7)), "fx": b"01234567",
        "e": ["red", "green", "blue"][i % 3], "a": list(range(i % 5)),
        "m": {"k%d" % j: [None, 0.5 * j, "blue"][j % 3] for j in range(i % 4)},
        "u": [None, "branch", b"abcdefgh", [1, -2, 3]][i % 4],
        "day": datetime.date(2024, 1, 1 + i % 28),
        "tm": datetime.time(12, i % 60, 30, 250000),
        "ts": datetime.datetime(2024, 6, 7, 8, 9, 10, 123456, tzinfo=datetime.timezone.utc),
        "price": decimal.Decimal("%d.%02d" % (i * 37, i % 100)),
        "id": str(uuid.UUID(int=i + 1)),
        "inner": {"x": 0.125, "h": b"abcdefgh", "tags": {"t": ["a", "b"]} if i % 2 else {},
                  "maybe": {"x": 1.0, "h": b"ABCDEFGH", "tags": {}, "maybe": None} if i % 2 else None},
        "opt": i if i % 2 else None,
    }


LINKED = {"type": "record", "name": "Node", "fields": [
    {"name": "value", "type": "int"},
    {"name": "next", "type": ["null", "Node"]}]}

TREE = {"type": "record", "name": "Tree", "namespace": "t", "fields": [
    {"name": "label", "type": "string"},
    {"name": "children", "type": {"type": "array", "items": {
        "type": "record", "name": "Edge", "fields": [
            {"name": "weight", "type": "float"},
            {"name": "to", "type": "t.Tree"}]}}},
    {"name": "attrs", "type": {"type": "map", "values": ["null", "boolean", "Edge"]}}]}

EMPTY = {"type": "record", "name": "Empty", "fields": []}

HOLDS_EMPTY = {"type": "record", "name": "Outer", "fields": [
    {"name": "e", "type": {"type": "record", "name": "E", "fields": []}},
    {"name": "es", "type": {"type": "array", "items": "E"}},
    {"name": "u", "type": ["null", "E"]},
    {"name": "x", "type": "int"}]}


def tree(depth):
    if depth == 0:
        return {"label": "leaf", "children": [], "attrs": {"ok": True}}
    return {"label": "d%d" % depth,
            "children": [{"weight": 0.5, "to": tree(depth - 1)}, {"weight": 1.5, "to": tree(0)}],
            "attrs": {"n": None, "e": {"weight": 2.0, "to": tree(0)}}}


def linked(n):
    node = None
    for v in range(n):
        node = {"value": v, "next": node}
    return node


def encode(schema_json, datum):
    schema = avro.schema.parse(schema_json)
    out = io.BytesIO()
    avro.io.DatumWriter(schema).write(datum, avro.io.BinaryEncoder(out))
    return out.getvalue()


def put(name, data):
    assert len(data) <= MAX_SEED, name
    with open(os.path.join(CORPUS, name), "wb") as f:
        f.write(data)


def decode_seed(name, schema, datum=None, body=None, confluent=False):
    text = schema if isinstance(schema, str) else json.dumps(schema, separators=(",", ":"))
    if body is None:
        body = encode(text, datum)
    mode = b"\x01" if confluent else b"\x00"
    value = (b"\x00\x00\x00\x00\x01" if confluent else b"") + body
    put(os.path.join("decode", name), text.encode() + b"\x00" + mode + value)


def zigzag(v):
    n = (v << 1) ^ (v >> 63)
    out = bytearray()
    while n & ~0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def avro_string(b):
    return zigzag(len(b)) + b


def decode_seeds():
    tx_schema = transaction_schema()
    decode_seed("transaction_raw", tx_schema, tx(1))
    decode_seed("transaction_confluent", tx_schema, tx(2), confluent=True)
    decode_seed("transaction_nulls_confluent", tx_schema, tx(3), confluent=True)
    for i in range(4):
        decode_seed("everything_%d" % i, EVERYTHING, everything(i), confluent=bool(i % 2))
    decode_seed("linked_list", LINKED, linked(4))
    decode_seed("tree", TREE, tree(3), confluent=True)
    decode_seed("root_union", ["null", "int", "string", {"type": "array", "items": "long"}],
                [5, -6, 7])
    decode_seed("root_array_of_maps", {"type": "array", "items": {"type": "map", "values": "bytes"}},
                [{"a": b"x"}, {}, {"b": b"", "c": b"yz"}])
    decode_seed("root_enum", {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}, "C")
    decode_seed("root_fixed", {"type": "fixed", "name": "F", "size": 3}, b"abc")
    decode_seed("root_string", "\"string\"", "weir")
    decode_seed("root_double", "\"double\"", 2.5)
    decode_seed("namespaces", {"type": "record", "name": "a.b.R", "fields": [
        {"name": "x", "type": {"type": "record", "name": "S", "namespace": "c", "fields": [
            {"name": "y", "type": "int"}]}},
        {"name": "z", "type": "c.S"},
        {"name": "w", "type": {"type": "enum", "name": "K", "symbols": ["P", "Q"]}},
        {"name": "v", "type": "a.b.K"}]},
        {"x": {"y": 1}, "z": {"y": -1}, "w": "Q", "v": "P"})
    # The record with no fields that once made the checker pass NULL to memset.
    decode_seed("empty_record", EMPTY, {})
    decode_seed("empty_record_inside", HOLDS_EMPTY, {"e": {}, "es": [{}, {}, {}], "u": {}, "x": 5})
    # Found by fuzzing: a named type defined twice (avro-c leaked the schema it
    # was building), a fixed of size 0 and an array of records holding no data
    # written in place (avro-c refused every datum the checker passed).
    everything_twice = json.dumps(EVERYTHING, separators=(",", ":")).replace(
        '{"name":"opt"', '{"name":"again","type":{"type":"fixed","name":"Hash","size":8}},'
        '{"name":"opt"')
    decode_seed("found_named_type_twice", everything_twice, body=b"")
    decode_seed("found_fixed_of_size_0", {"type": "record", "name": "R", "fields": [
        {"name": "f", "type": {"type": "fixed", "name": "F", "size": 0}},
        {"name": "x", "type": "int"}]}, body=zigzag(1))
    decode_seed("found_array_of_empty_records",
                {"type": "array", "items": {"type": "record", "name": "E", "fields": []}},
                body=zigzag(2) + zigzag(0))
    # Found by fuzzing: a record that contains itself through a field (avro-c
    # recursed until the stack ran out).
    decode_seed("found_record_containing_itself", {"type": "record", "name": "a.b.R", "fields": [
        {"name": "x", "type": "int"}, {"name": "v", "type": "a.b.R"}]}, body=zigzag(1))
    # Found by fuzzing: a fixed of 22 GB (avro-c allocated it for the reader's
    # value before any datum arrived).
    decode_seed("found_fixed_of_22_gb", {"type": "record", "name": "R", "fields": [
        {"name": "f", "type": {"type": "fixed", "name": "F", "size": 22222222220}},
        {"name": "x", "type": "int"}]}, body=zigzag(1))
    # Deep nesting, near the checker's depth cap.
    decode_seed("linked_list_deep", LINKED, linked(15), confluent=True)
    # Array blocks with a negative count and a byte size, as some writers do.
    items = zigzag(3) + zigzag(-4) + zigzag(5)
    decode_seed("array_negative_count",
                {"type": "record", "name": "R", "fields": [
                    {"name": "xs", "type": {"type": "array", "items": "int"}},
                    {"name": "m", "type": {"type": "map", "values": "string"}}]},
                body=zigzag(-3) + zigzag(len(items)) + items + zigzag(0)
                + zigzag(-1) + zigzag(4) + avro_string(b"k") + avro_string(b"v") + zigzag(0))
    # A schema weir refuses to nest in a ScoredEvent, and one with defaults and aliases.
    decode_seed("named_scored_event", {"type": "record", "name": "ScoredEvent",
                                       "namespace": "dev.weir", "fields": [
                                           {"name": "x", "type": "long"}]}, {"x": 3})
    decode_seed("defaults_aliases", {"type": "record", "name": "D", "aliases": ["Old"], "fields": [
        {"name": "a", "type": "int", "default": 7, "aliases": ["aa"], "doc": "a doc"},
        {"name": "b", "type": ["string", "null"], "default": "x", "order": "descending"},
        {"name": "c", "type": {"type": "map", "values": {"type": "map", "values": {
            "type": "array", "items": "float"}}}}]},
        {"a": 1, "b": None, "c": {"outer": {"inner": [1.0, 2.0]}}})


def container_file(schema_json, blocks, codec):
    """A file of len(blocks) blocks, python3-avro's writer forced to end each."""
    out = io.BytesIO()
    w = avro.datafile.DataFileWriter(out, avro.io.DatumWriter(), avro.schema.parse(schema_json),
                                     codec=codec)
    for block in blocks:
        for datum in block:
            w.append(datum)
        w.sync()
    w.flush()
    return out.getvalue()


SYNC = bytes(range(0x40, 0x50))


def header(schema_json, codec=None):
    entries = [(b"avro.schema", schema_json.encode())]
    if codec:
        entries.append((b"avro.codec", codec.encode()))
    out = b"Obj\x01" + zigzag(len(entries))
    for k, v in entries:
        out += avro_string(k) + avro_string(v)
    return out + zigzag(0) + SYNC


def block(count, data, sync=SYNC):
    return zigzag(count) + zigzag(len(data)) + data + sync


def raw_deflate(data):
    z = zlib.compressobj(9, zlib.DEFLATED, -15)
    return z.compress(data) + z.flush()


def container_seeds():
    tx_schema = transaction_schema()
    put("container/transactions_deflate_3_blocks",
        container_file(tx_schema, [[tx(i) for i in range(b * 5, b * 5 + 5)] for b in range(3)],
                       "deflate"))
    put("container/transactions_null_2_blocks",
        container_file(tx_schema, [[tx(i) for i in range(4)], [tx(9)]], "null"))
    ev = json.dumps(EVERYTHING)
    put("container/everything_null", container_file(ev, [[everything(0), everything(1)],
                                                         [everything(2)], [everything(3)]], "null"))
    put("container/everything_deflate", container_file(ev, [[everything(i) for i in range(4)],
                                                            [everything(1)]], "deflate"))
    put("container/tree_deflate", container_file(json.dumps(TREE), [[tree(2)], [tree(1), tree(0)]],
                                                 "deflate"))
    put("container/linked_list_null", container_file(json.dumps(LINKED),
                                                     [[linked(3), linked(1)], [linked(6)]], "null"))
    # A file whose schema holds an empty record (the checker's memset).
    put("container/empty_record", header(json.dumps(EMPTY)) + block(3, b"") + block(2, b""))
    holds = json.dumps(HOLDS_EMPTY)
    put("container/empty_record_inside",
        container_file(holds, [[{"e": {}, "es": [{}], "u": None, "x": 1}],
                               [{"e": {}, "es": [], "u": {}, "x": -1}]], "deflate"))
    tx1, tx2 = encode(tx_schema, tx(1)), encode(tx_schema, tx(2))
    # 67,108,864 datums claimed in 10 bytes: once that many dead letters.
    put("container/count_past_its_bytes",
        header(tx_schema) + block(1, tx1) + block(67108864, b"0123456789") + block(1, tx2))
    # Bytes in a block of no datums: once skipped silently.
    put("container/no_datums_with_bytes", header(tx_schema) + block(0, tx1) + block(1, tx2))
    # Zeros that inflate a thousandfold, claiming a million datums: once a
    # million dead letters (the one found was 32 KiB for 32 MiB; a small one
    # reaches the same code and keeps the fuzzer fast).
    put("container/deflate_bomb",
        header(tx_schema, "deflate") + block(1, raw_deflate(tx1))
        + block(1000000, raw_deflate(bytes(2 << 20))))
    # A malformed datum (enum index 63) loses the rest of its block, not the file.
    bad = bytearray(tx1)
    at = bad.index(b"\x02", len(bad) - 60)  # not exact: any corruption will do
    bad[at] = 0x7E
    put("container/bad_datum_mid_block",
        header(tx_schema) + block(3, tx1 + bytes(bad) + tx2) + block(1, tx2))
    # A header whose schema contains itself (avro-c recursed until the stack
    # ran out) or defines a name twice (avro-c leaked).
    put("container/record_containing_itself",
        header('{"type":"record","name":"R","fields":[{"name":"v","type":"R"}]}') + block(1, b""))
    put("container/named_type_twice",
        header('["null",{"type":"fixed","name":"X","size":1},{"type":"fixed","name":"X","size":2}]')
        + block(1, zigzag(0)))
    put("container/fixed_of_22_gb",
        header('{"type":"fixed","name":"F","size":22222222220}') + block(1, b"x"))
    # A wrong sync marker stops the reader.
    put("container/bad_sync_marker", header(tx_schema) + block(1, tx1)
        + block(1, tx2, bytes(16)) + block(1, tx1))


def main():
    for name in ("decode", "container"):
        os.makedirs(os.path.join(CORPUS, name), exist_ok=True)
    decode_seeds()
    container_seeds()


if __name__ == "__main__":
    main()
