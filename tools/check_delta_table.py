"""Checks an o2o step table against the Delta protocol with an independent reader (pyarrow).

    python tools/check_delta_table.py <root>/<dataset>

Replays _delta_log (the file list comes from the log only), then for every add action checks: the file's
size equals add.size; its Arrow schema equals the metaData schemaString minus the partition columns
(types mapped per the Delta protocol, no extra columns, no unsigned integers); timestamps are stored
UTC-adjusted; every column chunk is ZSTD; and stats (numRecords, nullCount, minValues, maxValues) match the
data. Not run by CI (it needs pyarrow); run it by hand after changing the writer.
"""
import json
import math
import os
import re
import sys
import urllib.parse

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def delta_to_arrow(t):
    if isinstance(t, dict):
        assert t["type"] == "array", t
        return pa.list_(pa.field("element", delta_to_arrow(t["elementType"]), nullable=t["containsNull"]))
    return {
        "string": pa.string(), "integer": pa.int32(), "float": pa.float32(), "boolean": pa.bool_(),
        "binary": pa.binary(), "timestamp": pa.timestamp("ms", tz="UTC"), "long": pa.int64(), "double": pa.float64(),
    }[t]


def same_type(got, want):
    if pa.types.is_dictionary(got):
        got = got.value_type
    if pa.types.is_list(got) and pa.types.is_list(want):
        return same_type(got.value_type, want.value_type)
    if pa.types.is_timestamp(got) and pa.types.is_timestamp(want):
        return got.tz in ("UTC", "+00:00")
    return got == want


def main(table_dir):
    log = os.path.join(table_dir, "_delta_log")
    names = sorted(n for n in os.listdir(log) if re.fullmatch(r"\d{20}\.json", n))
    assert [int(n[:20]) for n in names] == list(range(len(names))), "log versions must be 0..N"
    files, meta, protocol = {}, None, None
    for n in names:
        for line in open(os.path.join(log, n)):
            a = json.loads(line)
            if "protocol" in a:
                protocol = a["protocol"]
            elif "metaData" in a:
                meta = a["metaData"]
            elif "add" in a:
                files[a["add"]["path"]] = a["add"]
            elif "remove" in a:
                files.pop(a["remove"]["path"], None)
    assert protocol == {"minReaderVersion": 1, "minWriterVersion": 2}, protocol
    schema = json.loads(meta["schemaString"])
    parts = meta["partitionColumns"]
    want = [(f["name"], delta_to_arrow(f["type"]), f["nullable"]) for f in schema["fields"] if f["name"] not in parts]
    rows = 0
    for p, add in files.items():
        path = os.path.join(table_dir, urllib.parse.unquote(p))
        assert os.path.getsize(path) == add["size"], (p, "size")
        for k, v in add["partitionValues"].items():
            assert f"{k}={v}" in urllib.parse.unquote(urllib.parse.unquote(p)), (p, k, v)
        f = pq.ParquetFile(path)
        got = f.schema_arrow
        assert got.names == [w[0] for w in want], (p, got.names)
        for (name, typ, nullable), field in zip(want, got):
            assert same_type(field.type, typ), (p, name, field.type, typ)
            assert field.nullable == nullable, (p, name, "nullable", field.nullable)
        for i in range(f.metadata.num_columns):
            col = f.schema.column(i)
            lt = str(col.logical_type)
            assert "isSigned=false" not in lt, (p, col.name, lt)
            if "Timestamp" in lt:
                assert "isAdjustedToUTC=true" in lt, (p, col.name, lt)
        for g in range(f.metadata.num_row_groups):
            for c in range(f.metadata.num_columns):
                assert f.metadata.row_group(g).column(c).compression == "ZSTD", (p, g, c)
        t = f.read()
        stats = json.loads(add["stats"])
        assert stats["numRecords"] == t.num_rows, (p, "numRecords")
        for name in t.column_names:
            col = t.column(name)
            assert stats["nullCount"][name] == col.null_count, (p, name, "nullCount")
            if name in stats["minValues"]:
                mm = pc.min_max(col.cast(pa.string()) if pa.types.is_dictionary(col.type) else col)
                lo, hi = mm["min"].as_py(), mm["max"].as_py()
                if hasattr(lo, "isoformat"):
                    lo = lo.strftime("%Y-%m-%dT%H:%M:%S.") + f"{lo.microsecond // 1000:03d}Z"
                    hi = hi.strftime("%Y-%m-%dT%H:%M:%S.") + f"{hi.microsecond // 1000:03d}Z"
                smin, smax = stats["minValues"][name], stats["maxValues"][name]
                if isinstance(lo, float):
                    assert math.isclose(lo, smin, rel_tol=1e-7) and math.isclose(hi, smax, rel_tol=1e-7), (p, name, lo, hi, smin, smax)
                elif isinstance(lo, str) and len(lo) > 32 or isinstance(hi, str) and len(hi) > 32:
                    assert smin <= lo and lo.startswith(smin), (p, name, "min")
                    assert smax.startswith(hi[:32]), (p, name, "max")
                else:
                    assert (lo, hi) == (smin, smax), (p, name, lo, hi, smin, smax)
        rows += t.num_rows
    print(f"ok: {len(names)} commits, {len(files)} files, {rows} rows, schema and stats match (pyarrow {pa.__version__})")


if __name__ == "__main__":
    main(sys.argv[1])
