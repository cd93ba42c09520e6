"""Read every table of a presslens run folder with pyarrow and DuckDB, as dashboards and
older tools do. Run by `make test-readers` in a virtualenv holding the oldest versions we
support (pyarrow 14, DuckDB 0.9); exits non-zero on any failure."""

import json
import sys
from pathlib import Path

import duckdb
import pyarrow
import pyarrow.parquet as pq

run = Path(sys.argv[1])
manifest = json.loads((run / "manifest.json").read_text())
for name, entry in manifest["tables"].items():
    path = run / entry["file"]
    table = pq.read_table(path)
    assert table.num_rows == entry["rows"], (name, table.num_rows, entry["rows"])
    n = duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchone()[0]
    assert n == entry["rows"], (name, n)
    print(f"{name}: {table.num_rows} rows, pyarrow {pyarrow.__version__} and duckdb "
          f"{duckdb.__version__} read it")
texts = pq.read_table(run / "sentences.parquet").column("text").to_pylist()
assert all(isinstance(t, str) for t in texts) and texts, "sentence texts read back"
