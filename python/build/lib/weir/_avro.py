"""Avro for weir from a pandas DataFrame: a schema, and a container-file writer.

The schema has one field per column (nullable unions where a column has
missing values), plus the id and event-time fields weir reads
(input.id.field, input.time.field; "event_id" and "event_time" by default).
The writer turns NaN, None, pandas.NA and NaT into null — NaN in a double
field would reach weir as a number that is not finite, a dead letter — and
numbers of a text column into their category text (weir's canonical form).
"""
import re
import time

import numpy as np

from ._categories import category_string, is_missing

__all__ = ["avro_schema", "write_avro"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _field_type(series):
    import pandas as pd
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        avro = "boolean"
    elif pd.api.types.is_integer_dtype(dtype):
        avro = "long"
    elif pd.api.types.is_float_dtype(dtype):
        avro = "double"
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        avro = {"type": "long", "logicalType": "timestamp-millis"}
    else:  # category, object, string: text
        avro = "string"
    nullable = bool(series.isna().any())
    return (["null", avro] if nullable else avro), nullable


def avro_schema(frame, name="Event", namespace="weir.input", id_field="event_id",
                time_field="event_time"):
    """A record schema (a dict, json.dumps it for an .avsc) for @frame's columns.

    The id field is a string and the time field a timestamp-millis long; both
    are added when the frame has no column of that name (write_avro() fills
    them). Column names must be Avro names ([A-Za-z_][A-Za-z0-9_]*): they are
    what bundle features name as their source.
    """
    fields = []
    for column in frame.columns:
        column = str(column)
        if not _NAME.match(column):
            raise ValueError(f"column {column!r} is not an Avro field name "
                             "([A-Za-z_][A-Za-z0-9_]*); rename it")
    if id_field and id_field not in frame.columns:
        fields.append({"name": id_field, "type": "string"})
    if time_field and time_field not in frame.columns:
        fields.append({"name": time_field, "type": {"type": "long", "logicalType": "timestamp-millis"}})
    for column in frame.columns:
        series = frame[column]
        if str(column) == id_field:
            ftype, nullable = "string", False
        elif str(column) == time_field:
            ftype, nullable = {"type": "long", "logicalType": "timestamp-millis"}, False
        else:
            ftype, nullable = _field_type(series)
        field = {"name": str(column), "type": ftype}
        if nullable:
            field["default"] = None
        fields.append(field)
    return {"type": "record", "name": name, "namespace": namespace, "fields": fields}


def _millis(value):
    import pandas as pd
    if is_missing(value):
        return None
    if isinstance(value, (int, np.integer)):
        return int(value)
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return int(ts.value // 1_000_000)


def _records(frame, schema, id_field, time_field):
    import pandas as pd
    kinds = {}
    for f in schema["fields"]:
        t = f["type"]
        base = [x for x in t if x != "null"][0] if isinstance(t, list) else t
        kinds[f["name"]] = base if isinstance(base, str) else "timestamp"
    columns = {str(c): frame[c] for c in frame.columns}
    now = int(time.time() * 1000)
    index = [str(i) for i in frame.index]
    arrays = {}
    for name, series in columns.items():
        kind = kinds[name]
        if kind == "double":
            arrays[name] = [None if is_missing(v) else float(v) for v in series.astype(object)]
        elif kind == "long":
            arrays[name] = [None if is_missing(v) else int(v) for v in series.astype(object)]
        elif kind == "boolean":
            arrays[name] = [None if is_missing(v) else bool(v) for v in series.astype(object)]
        elif kind == "timestamp":
            arrays[name] = [_millis(v) for v in series.astype(object)]
        else:
            arrays[name] = [category_string(v) for v in series.astype(object)]
    for i in range(len(frame)):
        record = {name: arrays[name][i] for name in arrays}
        if id_field and id_field not in arrays:
            record[id_field] = index[i]
        if time_field and time_field not in arrays:
            record[time_field] = now
        yield record


def write_avro(frame, path, schema=None, *, id_field="event_id", time_field="event_time",
               codec="deflate"):
    """Writes @frame as an Avro object container file weir batch reads.

    Missing values (NaN, None, NA, NaT) are written as null; the id field
    defaults to the frame's index, the time field to now, when the frame has
    no such column. Returns the schema used.
    """
    import fastavro
    schema = schema or avro_schema(frame, id_field=id_field, time_field=time_field)
    parsed = fastavro.parse_schema(schema)
    with open(path, "wb") as out:
        fastavro.writer(out, parsed, _records(frame, schema, id_field, time_field), codec=codec)
    return schema
