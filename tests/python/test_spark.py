"""presslens.spark on a local Spark (``local[2]``): the same tables as a local run, a run
folder that presslens reads, bad rows, thread sizing, the job entry point. One SparkSession
for the module (start ~12 s)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import presslens
import pytest
from conftest import SEEDS
from polars.testing import assert_frame_equal

pytest.importorskip("pyspark", reason="pyspark is installed by `make deps`")

import presslens.spark as ps  # noqa: E402
from presslens import batch  # noqa: E402


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    os.environ["PYSPARK_PYTHON"] = sys.executable
    s = (
        SparkSession.builder.master("local[2]")
        .appName("presslens-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "2g")
        .getOrCreate()
    )
    yield s
    s.stop()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local") / "run"
    presslens.run(SEEDS, out, aliases=SEEDS / "aliases.toml")
    return out


def seed_rows(local_run: Path) -> list[dict]:
    """The seed articles as table rows with the local run's ids, and an outlet column."""
    docs = presslens.read_run(local_run).documents
    rows = []
    for i, (doc_id, source) in enumerate(docs.select("doc_id", "source").iter_rows()):
        text = (SEEDS / Path(source).name).read_text(encoding="utf-8")
        rows.append({"id": doc_id, "text": text, "outlet": f"outlet{i % 2}"})
    return rows


@pytest.fixture(scope="module")
def spark_tables(spark, local_run):
    df = spark.createDataFrame(seed_rows(local_run)).repartition(2)
    tables = ps.analyze(df, text_col="text", id_col="id", keep_cols=["outlet"],
                        aliases=str(SEEDS / "aliases.toml"))
    yield tables
    tables.unpersist()


def canonical(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows in a canonical order: by the exact columns first, floats last."""
    floats = [c for c, t in frame.schema.items() if t.is_float()]
    return frame.sort([c for c in frame.columns if c not in floats] + floats)


def to_polars(df) -> pl.DataFrame:
    return pl.from_arrow(df.toArrow())


def test_spark_gives_the_tables_of_a_local_run(spark_tables, local_run):
    local = presslens.read_run(local_run)
    for name in presslens.TABLES:
        expected = getattr(local, name)
        got = to_polars(getattr(spark_tables, name))
        if name == "documents":
            # Spark keeps the outlet column; the source is the Arrow batch's row, not a file.
            assert got["outlet"].n_unique() == 2
            got, expected = got.drop("outlet", "source"), expected.drop("source")
        assert got.columns == expected.columns, name
        assert got.height == expected.height > 0, name
        # Spark batches the articles differently from a local run; a sentence's numbers
        # must not depend on that (padding is a function of its own length).
        assert_frame_equal(canonical(got), canonical(expected), check_exact=False,
                           rel_tol=1e-5, abs_tol=1e-5, check_dtypes=True)
    # The entity columns are among those compared: places from the gazetteer, one label.
    stats = to_polars(spark_tables.entity_stats).filter(pl.col("scope") == "corpus")
    russia = stats.filter(pl.col("entity") == "Russia")
    assert russia["entity_id"].to_list() == ["geonames:2017370"]
    assert russia["country_code"].to_list() == ["RU"] and russia["latitude"].item() is not None
    assert stats.select("entity", "label").n_unique() == stats.height
    ents = to_polars(spark_tables.entities)
    assert {"gazetteer", "table"} <= set(ents["alias_source"])


def test_spark_links_without_the_gazetteer_as_locally(spark, default_model):
    rows = [{"id": "a", "text": "The U.S. and Russia talked in Moscow. Russian aides agreed."},
            {"id": "b", "text": "America and the United States are one country."}]
    local = presslens.analyze([r["text"] for r in rows], ids=[r["id"] for r in rows],
                              gazetteer=False)
    tables = ps.analyze(spark.createDataFrame(rows), gazetteer=False)
    try:
        for name in ("entities", "entity_stats", "cooccurrence", "name_variants"):
            expected = getattr(local, name)
            got = to_polars(getattr(tables, name))
            assert got.columns == expected.columns, name
            assert_frame_equal(canonical(got), canonical(expected), check_exact=False,
                               rel_tol=1e-5, abs_tol=1e-5, check_dtypes=True)
        assert local.entities["entity_id"].null_count() == local.entities.height
    finally:
        tables.unpersist()


def test_spark_gives_the_mention_sentiment_tables_of_a_local_run(spark, tiny_model, tmp_path):
    """With a target head (the tiny model has one) each mention has its own sentiment:
    entity_stats and cooccurrence aggregate mentions, in Spark as locally."""
    models = {"sentiment_model": str(tiny_model), "ner_model": str(tiny_model)}
    out = tmp_path / "local"
    presslens.run(SEEDS, out, **models)
    local = presslens.read_run(out)
    assert local.manifest["mention_sentiment"] == "target"
    df = spark.createDataFrame(seed_rows(out)).repartition(2)
    tables = ps.analyze(df, text_col="text", id_col="id", **models)
    try:
        for name in ("entities", "entity_stats", "cooccurrence"):
            expected = getattr(local, name)
            got = to_polars(getattr(tables, name))
            assert got.columns == expected.columns, name
            assert got.height == expected.height > 0, name
            assert_frame_equal(canonical(got), canonical(expected), check_exact=False,
                               rel_tol=1e-5, abs_tol=1e-5, check_dtypes=True)
        assert local.entity_stats["n_neutral"].sum() > 0
    finally:
        tables.unpersist()


def test_written_folder_is_a_run_that_presslens_reads(spark_tables, tmp_path):
    out = tmp_path / "spark-run"
    manifest = spark_tables.write(str(out), partition_by=["outlet"])
    assert (out / "sentences" / "outlet=outlet0").is_dir()
    run = presslens.read_run(out)
    for name in presslens.TABLES:
        assert getattr(run, name).height == manifest["tables"][name]["rows"] > 0, name
    # Partition folders give every table with a doc_id its document's outlet.
    assert run.sentences["outlet"].n_unique() == 2
    assert manifest["counts"]["documents"] == 5 and manifest["counts"]["failed_documents"] == 0
    assert "ner" in manifest["models"]
    report = tmp_path / "report.html"
    subprocess.run([sys.executable, "-m", "presslens", "report", str(out), "-o", str(report)],
                   check=True)
    assert "Kuril Islands" in report.read_text(encoding="utf-8")


def test_a_write_without_partitions_reads_back_equal(spark_tables, tmp_path):
    out = tmp_path / "flat"
    spark_tables.write(str(out))
    run = presslens.read_run(out)
    for name in ("sentences", "entities"):
        assert_frame_equal(canonical(getattr(run, name)),
                           canonical(to_polars(getattr(spark_tables, name))))
    # A second write into a finished folder is refused (Spark's default save mode).
    with pytest.raises(Exception, match="already exists"):
        spark_tables.write(str(out))


def test_bad_rows_get_an_error_and_the_job_goes_on(spark, tiny_model):
    rows = [
        {"id": "good", "text": "Tokyo and Moscow talked. The talks went on."},
        {"id": "empty", "text": "   "},
        {"id": "null", "text": None},
        {"id": "long", "text": "word " * 400},
    ]
    df = spark.createDataFrame(rows, "id string, text string")
    tables = ps.analyze(df, sentiment_model=str(tiny_model), ner_model=str(tiny_model),
                        max_document_chars=1000)
    docs = {r["doc_id"]: r["error"] for r in tables.documents.collect()}
    tables.unpersist()
    assert docs["good"] is None
    assert "empty" in docs["empty"]
    assert docs["null"] is not None
    assert "max_document_chars" in docs["long"]


def test_a_failing_batch_is_retried_article_by_article(tiny_model, monkeypatch):
    real = batch.pipeline({"sentiment_model": str(tiny_model), "ner_model": str(tiny_model)})

    class Flaky:
        """The real pipeline, except that it raises on any batch holding the word BOOM."""

        def analyze(self, frame, cols, label):
            if frame["text"].str.contains("BOOM").any():
                raise RuntimeError("core failure")
            return real.analyze(frame, cols, label)

    monkeypatch.setattr(batch, "pipeline", lambda options: Flaky())
    frame = pl.DataFrame({"id": ["a", "b", "c"],
                          "text": ["Putin spoke.", "BOOM went the text.", "Kishida replied."]})
    out = batch.analyze_batch(frame, id_col="id")
    errors = dict(out["documents"].select("doc_id", "error").iter_rows())
    assert errors["a"] is None and errors["c"] is None
    assert errors["b"] == "analysis failed: RuntimeError: core failure"
    assert set(out["sentences"]["doc_id"]) == {"a", "c"}


def test_wrong_options_and_columns_fail_on_the_driver(spark):
    df = spark.createDataFrame([{"id": "a", "text": "Hello there."}])
    with pytest.raises(presslens.OptionError, match="bogus"):
        ps.analyze(df, bogus=1)
    with pytest.raises(ValueError, match="no column 'body'"):
        ps.analyze(df, text_col="body")
    numbers = spark.createDataFrame([{"id": "a", "n": 3}])
    with pytest.raises(ValueError, match="expected string"):
        ps.analyze(numbers, text_col="n")


def test_worker_threads_follow_the_task_cores(spark):
    import pyarrow as pa

    def threads(batches):
        from presslens.spark import _threads

        for _ in batches:
            yield pa.RecordBatch.from_pydict({"threads": [_threads({})["threads"]]})

    got = spark.range(0, 2, numPartitions=2).mapInArrow(threads, "threads long").collect()
    cpus = int(spark.conf.get("spark.task.cpus", "1"))
    assert [r["threads"] for r in got] == [cpus, cpus]
    assert ps._threads({"threads": 5})["threads"] == 5


def test_spark_job_entry_point(tmp_path, tiny_model):
    src = tmp_path / "articles.parquet"
    pl.DataFrame({
        "id": ["a", "b"], "outlet": ["x", "y"],
        "text": ["Putin met Kishida in Tokyo.", "The Kuril Islands were discussed."],
    }).write_parquet(src)
    out = tmp_path / "out"
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable}
    models = json.dumps(str(tiny_model))
    r = subprocess.run(
        [sys.executable, "-m", "presslens.spark", str(src), str(out), "--keep-col", "outlet",
         "--partition-by", "outlet", "--option", f"sentiment_model={models}",
         "--option", f"ner_model={models}"],
        capture_output=True, text=True, env=env,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert "2 documents (0 failed)" in r.stdout
    assert presslens.read_run(out).documents.height == 2
    bad = subprocess.run([sys.executable, "-m", "presslens.spark", str(src), str(tmp_path / "o2"),
                          "--text-col", "body"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "no column 'body'" in bad.stderr
