"""Read every table of a presslens run folder with pyarrow and DuckDB, as dashboards and
older tools do. Run by `make test-readers` in a virtualenv holding the oldest versions we
support (pyarrow 14, DuckDB 0.9); exits non-zero on any failure."""

import json
import sys
from pathlib import Path

import duckdb
import pyarrow
import pyarrow.dataset
import pyarrow.parquet as pq

run = Path(sys.argv[1])
manifest = json.loads((run / "manifest.json").read_text())
for name, entry in manifest["tables"].items():
    table = pyarrow.dataset.dataset(run / name, format="parquet").to_table()
    assert table.num_rows == entry["rows"], (name, table.num_rows, entry["rows"])
    glob = run / entry["files"]
    n = duckdb.sql(f"select count(*) from read_parquet('{glob}')").fetchone()[0]
    assert n == entry["rows"], (name, n)
    print(f"{name}: {table.num_rows} rows, pyarrow {pyarrow.__version__} and duckdb "
          f"{duckdb.__version__} read it")
texts = pq.read_table(run / "sentences" / "part-00000.parquet").column("text").to_pylist()
assert all(isinstance(t, str) for t in texts) and texts, "sentence texts read back"
