"""Spark's overhead: the seeds replicated to >= 20,000 sentences, analysed by `presslens run`
and by `presslens.spark` on `local[2]` (the same 2 cores), alternately, in one script.

    python benches/spark.py [--min-sentences 20000] [--repeats 2]

Prints sentences/s of each (model load included in both; the Spark session's start, paid
once per application, is reported apart) and the overhead ratio local / Spark.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import presslens

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"


def corpus(folder: Path, min_sentences: int) -> tuple[Path, int]:
    """The seed articles copied until they hold `min_sentences` sentences, as Parquet."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    per_copy = presslens.analyze(texts, sentiment_model="none", ner_model="none").sentences.height
    copies = -(-min_sentences // per_copy)
    rows = [{"id": f"c{c}-{i}", "text": t} for c in range(copies) for i, t in enumerate(texts)]
    path = folder / "articles.parquet"
    pl.DataFrame(rows).write_parquet(path)
    return path, copies * per_copy


def local(path: Path, out: Path) -> float:
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    presslens.run(path, out, text_col="text", id_col="id")
    return time.perf_counter() - t


def spark_run(spark, path: Path, out: Path) -> float:
    import presslens.spark as ps

    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    df = spark.read.parquet(str(path)).repartition(2)
    tables = ps.analyze(df, text_col="text", id_col="id")
    tables.write(str(out))
    elapsed = time.perf_counter() - t
    tables.unpersist()
    return elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--min-sentences", type=int, default=20_000)
    ap.add_argument("--repeats", type=int, default=2)
    args = ap.parse_args()
    from pyspark.sql import SparkSession

    work = Path(tempfile.mkdtemp(prefix="presslens-bench-spark-"))
    path, n = corpus(work, args.min_sentences)
    os.environ["PYSPARK_PYTHON"] = sys.executable
    t = time.perf_counter()
    spark = (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "4g")
        .getOrCreate()
    )
    session_s = time.perf_counter() - t
    results: dict[str, list[float]] = {"local": [], "spark": []}
    for r in range(args.repeats):
        results["local"].append(local(path, work / "local"))
        results["spark"].append(spark_run(spark, path, work / "spark"))
        print(f"repeat {r + 1}: local {results['local'][-1]:.1f} s, "
              f"spark {results['spark'][-1]:.1f} s", flush=True)
    spark.stop()
    best = {k: min(v) for k, v in results.items()}
    report = {
        "sentences": n,
        "seconds": results,
        "sentences_per_s": {k: round(n / v, 1) for k, v in best.items()},
        "spark_overhead": round(best["spark"] / best["local"] - 1, 3),
        "spark_session_start_s": round(session_s, 1),
    }
    print(json.dumps(report, indent=2))
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
