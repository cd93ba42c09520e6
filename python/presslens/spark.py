"""presslens on Apache Spark: the tables of ``presslens run`` from a Spark DataFrame.

::

    import presslens.spark as ps
    tables = ps.analyze(spark.read.parquet("s3://news/articles/"), text_col="text",
                        id_col="id", keep_cols=["outlet", "date"], aliases="aliases.toml")
    tables.sentences.join(tables.documents.select("doc_id", "outlet"), "doc_id") \\
        .groupBy("outlet").avg("polarity").show()
    tables.write("s3://news/presslens/", partition_by=["date"])

How it runs, all on Spark's scheduler, shuffles and writers:

1. Document-level work in ``DataFrame.mapInArrow``: Arrow record batches in and out, no
   pandas. Each Python worker loads the pipeline (models included) once, lazily, after
   Spark forked it, and reuses it for every later task; its thread pools (rayon and
   libtorch) are sized from the task's cores (``spark.task.cpus``), so that N tasks on N
   cores do not oversubscribe them. The batch function is :func:`presslens.batch.union_batch`.
2. Corpus-level linking: mentions are counted by name, label and surface form in Spark; only
   that distinct-name table reaches the driver, where the same Rust code as a local run
   resolves each to its entity (canonical name, entity label, gazetteer id, country code,
   coordinates, alias source); the mapping is broadcast and joined back.
3. ``entity_stats``, ``cooccurrence`` and ``name_variants`` are Spark aggregations with the
   definitions of the local run (``src/link/stats.rs``), from the mentions' sentiment
   (``entities.polarity`` / ``sentiment_label``: toward the mention when the model has a
   target head, else the sentence's).

Run as a job: ``spark-submit -m presslens.spark INPUT OUTPUT --text-col text --id-col id``
(``python -m presslens.spark --help``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from presslens import TABLES
from presslens import batch as _batch


def _threads(options: dict) -> dict:
    """Size the pipeline's thread pools from this task's cores unless ``threads`` is set."""
    if options.get("threads") is not None:
        return options
    from pyspark import TaskContext

    ctx = TaskContext.get()
    cpus = ctx.cpus() if ctx is not None else None
    if not cpus:
        cpus = int(os.environ.get("OMP_NUM_THREADS") or 1)
    return {**options, "threads": int(cpus)}


def _analyze_partition(batches: Iterator[Any], *, params: dict, schema: Any) -> Iterator[Any]:
    """The ``mapInArrow`` function: runs in the Python worker (imports happen there)."""
    from pyspark import TaskContext

    options = _threads(_batch.land_aliases(params["options"]))
    ctx = TaskContext.get()
    part = ctx.partitionId() if ctx is not None else 0
    for k, record_batch in enumerate(batches):
        table = _batch.union_batch(
            record_batch,
            schema=schema,
            text_col=params["text_col"],
            id_col=params["id_col"],
            title_col=params["title_col"],
            keep_cols=params["keep_cols"],
            label=f"spark-part{part}-batch{k}",
            **options,
        )
        yield from table.to_batches()


@dataclass
class SparkTables:
    """The six tables of a run as Spark DataFrames (the names and columns of a local run:
    ``presslens.TABLES``); ``write`` stores them as a run folder that ``presslens.read_run``
    and ``presslens report`` read. The model pass is computed once and kept
    (``persist``); ``unpersist()`` frees it."""

    documents: Any
    sentences: Any
    entities: Any
    entity_stats: Any
    cooccurrence: Any
    name_variants: Any
    options: dict = field(default_factory=dict)
    input: str = "spark DataFrame"
    input_options: str = "{}"
    seconds: float = 0.0
    _cached: list = field(default_factory=list, repr=False)

    def tables(self) -> dict[str, Any]:
        """``{name: DataFrame}`` in ``presslens.TABLES`` order."""
        return {t: getattr(self, t) for t in TABLES}

    def unpersist(self) -> None:
        for df in self._cached:
            df.unpersist()

    def write(self, path: str, *, partition_by: Sequence[str] = (), mode: str = "error") -> dict:
        """Write the run folder ``path`` (any Hadoop path: local, ``s3://``, ``abfss://``,
        ``hdfs://``): each table a folder of Parquet part files, then ``manifest.json``,
        last — as a local run, readers take the folder as finished only once it is there.

        ``partition_by``: input columns kept in ``documents`` (``keep_cols``), e.g.
        ``["date"]``. Every table with a ``doc_id`` is partitioned by its document's values
        (partition folders such as ``sentences/date=2024-05-01/``; the corpus rows of
        ``entity_stats`` land in the null partition); ``cooccurrence`` spans documents and is
        not partitioned. ``mode``: Spark's save mode (``error``, ``overwrite``).
        Returns the manifest."""
        from presslens import _presslens

        missing = [c for c in partition_by if c not in self.documents.columns]
        if missing:
            raise ValueError(
                f"partition_by: {', '.join(missing)} not in documents; partition columns "
                f"must be kept input columns (keep_cols)"
            )
        start = time.perf_counter()
        spark = self.documents.sparkSession
        fs = _FileSystem(spark, path)
        fs.delete(_presslens.MANIFEST)
        parts = self.documents.select("doc_id", *partition_by) if partition_by else None
        rows: list[tuple[str, int]] = []
        for name, df in self.tables().items():
            writer_df = df
            partitions: list[str] = []
            if partition_by and name == "documents":
                partitions = list(partition_by)
            elif partition_by and "doc_id" in df.columns:
                writer_df = df.join(parts, on="doc_id", how="left")
                partitions = list(partition_by)
            n = df.count()
            writer = writer_df.write.mode(mode)
            if partitions and n > 0:  # an empty partitioned write leaves no part file
                writer = writer.partitionBy(*partitions)
            writer.parquet(fs.join(name))
            rows.append((name, n))
        errors = [
            {"doc_id": r["doc_id"], "source": r["source"], "error": r["error"]}
            for r in self.documents.where("error IS NOT NULL")
            .select("doc_id", "source", "error")
            .collect()
        ]
        n = dict(rows)
        counts = {
            "documents": n["documents"],
            "failed_documents": len(errors),
            "sentences": n["sentences"],
            "entities": n["entities"],
        }
        write_s = time.perf_counter() - start
        timings = {k: 0.0 for k in ("ingest", "clean", "segment", "infer", "link")}
        timings.update(write=write_s, total=self.seconds + write_s)
        manifest = _batch.pipeline(self.options).manifest(
            self.input,
            self.input_options,
            rows,
            "{table}/**/*.parquet",
            json.dumps(counts),
            json.dumps(timings),
            json.dumps(errors),
        )
        fs.write_text(_presslens.MANIFEST, manifest)
        return json.loads(manifest)


class _FileSystem:
    """The run folder through Hadoop's FileSystem API (any scheme Spark can write), or
    plain files when the JVM is out of reach (Spark Connect) and the path is local."""

    def __init__(self, spark: Any, root: str) -> None:
        self.root = root.rstrip("/")
        self.jvm_fs = None
        try:
            jvm = spark._jvm
            conf = spark._jsc.hadoopConfiguration()
            self.Path = jvm.org.apache.hadoop.fs.Path
            self.jvm_fs = self.Path(self.root).getFileSystem(conf)
        except Exception:  # noqa: BLE001 — no JVM gateway (Spark Connect)
            if "://" in root and not root.startswith("file://"):
                raise RuntimeError(
                    f"cannot write the manifest of {root} without the JVM gateway"
                ) from None

    def join(self, name: str) -> str:
        return f"{self.root}/{name}"

    def _local(self, name: str) -> str:
        return self.join(name).removeprefix("file://")

    def delete(self, name: str) -> None:
        if self.jvm_fs is not None:
            self.jvm_fs.delete(self.Path(self.join(name)), False)
        elif os.path.exists(self._local(name)):
            os.remove(self._local(name))

    def write_text(self, name: str, text: str) -> None:
        if self.jvm_fs is not None:
            out = self.jvm_fs.create(self.Path(self.join(name)), True)
            out.write(bytearray(text.encode("utf-8")))
            out.close()
        else:
            os.makedirs(self._local(""), exist_ok=True)
            with open(self._local(name), "w", encoding="utf-8") as f:
                f.write(text)


def analyze(
    df: Any,
    *,
    text_col: str = "text",
    id_col: str | None = "id",
    title_col: str | None = None,
    keep_cols: Sequence[str] = (),
    **options: Any,
) -> SparkTables:
    """Analyse the articles of a Spark DataFrame: the six tables of ``presslens run``.

    ``text_col``, ``id_col`` (``None``: ids from the text's content, as locally),
    ``title_col`` and ``keep_cols`` name its columns, as in ``presslens run``; ``id_col``
    should be a key (duplicates within one Arrow batch get ``#2`` suffixes, across batches
    they are not detected). ``options``: those of :func:`presslens.analyze` (``aliases``: a
    file on the driver, shipped to the workers; ``threads``: default the task's cores).

    The model pass runs now, once, and is kept (``persist``); the tables are Spark
    DataFrames derived from it."""
    import polars as pl
    from pyspark import StorageLevel
    from pyspark.sql import functions as F
    from pyspark.sql.pandas.types import from_arrow_schema
    from pyspark.sql.types import BinaryType, StringType

    from presslens import _presslens

    start = time.perf_counter()
    used = [text_col, id_col, title_col, *keep_cols]
    missing = [c for c in used if c is not None and c not in df.columns]
    if missing:
        raise ValueError(f"no column {', '.join(map(repr, missing))}; columns are {df.columns}")
    text_type = df.schema[text_col].dataType
    if not isinstance(text_type, (StringType, BinaryType)):
        raise ValueError(f"text column {text_col!r} has type {text_type.simpleString()}; "
                         "expected string")
    # Options are checked on the driver: an unknown or wrong one fails here, once.
    _presslens.check_options(json.dumps(options, default=os.fspath))
    shipped = _batch.ship_aliases(options)

    schema = _batch.union_schema(keep_cols)
    cols = [c for c in dict.fromkeys(used) if c is not None]
    articles = df.select(*[F.col(c).cast("string").alias(c) for c in cols])
    params = {
        "options": shipped,
        "text_col": text_col,
        "id_col": id_col,
        "title_col": title_col,
        "keep_cols": list(keep_cols),
    }
    union = articles.mapInArrow(
        partial(_analyze_partition, params=params, schema=schema), from_arrow_schema(schema)
    ).persist(StorageLevel.MEMORY_AND_DISK)

    def part(name: str) -> Any:
        field_name = _batch.UNION_FIELDS[name]
        return union.where(F.col("table") == name).select(f"{field_name}.*")

    documents, sentences, mentions = (part(t) for t in _batch.BATCH_TABLES)

    # Corpus-level linking: distinct names to the driver, the mapping broadcast back.
    keys = ["_ent_label", "_name", "_from_table", "text"]
    distinct = mentions.groupBy(*keys).count()
    linked = _batch.link_distinct(
        pl.from_arrow(distinct.toArrow()), gazetteer=options.get("gazetteer") is not False
    )
    links = df.sparkSession.createDataFrame(
        _batch.plain_strings(linked.select(*keys, *_LINK_COLUMNS).to_arrow())
    )
    m = mentions.join(F.broadcast(links), on=keys, how="left").persist(
        StorageLevel.MEMORY_AND_DISK
    )
    entities = m.select(
        "doc_id", "sent_idx", "start", "end", "text", "label", "score", "sentiment_label",
        "sentiment_score", "polarity", "entity", "entity_label", "entity_id", "country_code",
        "alias_source",
    )
    entity_stats, cooccurrence, name_variants = _analysis_tables(m, links)
    return SparkTables(
        documents=documents,
        sentences=sentences,
        entities=entities,
        entity_stats=entity_stats,
        cooccurrence=cooccurrence,
        name_variants=name_variants,
        options=options,
        input=_describe(df),
        input_options=_batch.input_options(text_col, id_col, title_col, keep_cols),
        seconds=time.perf_counter() - start,
        _cached=[union, m],
    )


_LINK_COLUMNS = (
    "entity", "entity_label", "entity_id", "country_code", "alias_source", "latitude",
    "longitude",
)
"""What corpus-level linking gives each distinct mention (``batch.link_distinct``)."""


def _describe(df: Any) -> str:
    """The input of a DataFrame for the manifest: its files' common folder, else a note."""
    try:
        files = df.inputFiles()
    except Exception:  # noqa: BLE001 — not every source lists files (Spark Connect, JDBC)
        files = []
    if not files:
        return "spark DataFrame"
    if len(files) == 1:
        return files[0]
    return os.path.commonprefix(files).rsplit("/", 1)[0]  # URIs: not os.path.commonpath


def _analysis_tables(m: Any, links: Any) -> tuple[Any, Any, Any]:
    """``entity_stats``, ``cooccurrence`` and ``name_variants`` from linked mentions, with
    the local run's definitions (``Aggregator`` in ``src/link/stats.rs``): an entity is its
    name and its entity label (``entity_label``, not the mention's NER label); polarity and
    sentiment are the mentions' (``entities.polarity``, ``entities.sentiment_label``);
    ``entity_stats`` averages and counts mentions; ``cooccurrence`` averages, over the
    sentences mentioning both entities, each entity's mean mention polarity in the sentence
    (``polarity_a``, ``polarity_b``) and the mean of the two (``mean_polarity``). ``links``:
    the linking mapping, whose place fields ``entity_stats`` carries."""
    from pyspark.sql import functions as F

    m = m.select(
        "doc_id", "sent_idx", "text", "entity", F.col("entity_label").alias("label"),
        F.col("polarity").cast("double").alias("polarity"),
        F.col("sentiment_label").alias("sentiment"),
    )
    # The entity's gazetteer fields: one value per entity (the corpus index gives every
    # mention of an entity the same), joined onto entity_stats.
    places = links.groupBy(
        "entity", F.col("entity_label").alias("label")
    ).agg(*[F.max(c).alias(c) for c in ("entity_id", "country_code", "latitude", "longitude")])

    def n_label(label: str) -> Any:
        return F.sum(F.when(F.col("sentiment") == label, 1).otherwise(0))

    per_doc = m.groupBy("doc_id", "entity", "label").agg(
        F.count(F.lit(1)).alias("mentions"),
        F.countDistinct("sent_idx").alias("sentences"),
        F.sum("polarity").alias("pol_sum"),
        F.count("polarity").alias("pol_n"),
        n_label("positive").alias("n_positive"),
        n_label("neutral").alias("n_neutral"),
        n_label("negative").alias("n_negative"),
        F.min("sent_idx").alias("first_sent"),
        F.max("sent_idx").alias("last_sent"),
    )
    corpus = per_doc.groupBy("entity", "label").agg(
        F.sum("mentions").alias("mentions"),
        F.count(F.lit(1)).alias("documents"),
        F.sum("sentences").alias("sentences"),
        F.sum("pol_sum").alias("pol_sum"),
        F.sum("pol_n").alias("pol_n"),
        F.sum("n_positive").alias("n_positive"),
        F.sum("n_neutral").alias("n_neutral"),
        F.sum("n_negative").alias("n_negative"),
        F.min("first_sent").alias("first_sent"),
        F.max("last_sent").alias("last_sent"),
    )

    def stats(df: Any, scope: str, doc_id: Any, documents: Any) -> Any:
        return df.select(
            F.lit(scope).alias("scope"),
            doc_id.cast("string").alias("doc_id"),
            "entity",
            "label",
            F.col("mentions").cast("long").alias("mentions"),
            documents.cast("long").alias("documents"),
            F.col("sentences").cast("long").alias("sentences"),
            F.when(F.col("pol_n") > 0, F.col("pol_sum") / F.col("pol_n")).alias("mean_polarity"),
            F.col("n_positive").cast("long").alias("n_positive"),
            F.col("n_neutral").cast("long").alias("n_neutral"),
            F.col("n_negative").cast("long").alias("n_negative"),
            F.col("first_sent").cast("long").alias("first_sent"),
            F.col("last_sent").cast("long").alias("last_sent"),
        )

    entity_stats = (
        stats(per_doc, "document", F.col("doc_id"), F.lit(1))
        .unionByName(stats(corpus, "corpus", F.lit(None), F.col("documents")))
        .join(F.broadcast(places), on=["entity", "label"], how="left")
        .select(
            "scope", "doc_id", "entity", "label", "entity_id", "country_code", "latitude",
            "longitude", "mentions", "documents", "sentences", "mean_polarity", "n_positive",
            "n_neutral", "n_negative", "first_sent", "last_sent",
        )
    )
    # Per sentence and entity: the mean polarity of its mentions there.
    per_sent = m.groupBy("doc_id", "entity", "label", "sent_idx").agg(
        F.avg("polarity").alias("polarity")
    )
    a = per_sent.select(
        "doc_id", "sent_idx", F.col("entity").alias("entity_a"), F.col("label").alias("label_a"),
        F.col("polarity").alias("pa"),
    )
    b = per_sent.select(
        "doc_id", "sent_idx", F.col("entity").alias("entity_b"), F.col("label").alias("label_b"),
        F.col("polarity").alias("pb"),
    )
    ordered = (F.col("entity_a") < F.col("entity_b")) | (
        (F.col("entity_a") == F.col("entity_b")) & (F.col("label_a") < F.col("label_b"))
    )
    cooccurrence = (
        a.join(b, on=["doc_id", "sent_idx"])
        .where(ordered)
        .groupBy("entity_a", "label_a", "entity_b", "label_b")
        .agg(
            F.count(F.lit(1)).alias("sentences"),
            F.countDistinct("doc_id").alias("documents"),
            F.avg((F.col("pa") + F.col("pb")) / 2).alias("mean_polarity"),
            F.avg("pa").alias("polarity_a"),
            F.avg("pb").alias("polarity_b"),
        )
    )
    name_variants = m.groupBy("entity", "label", "doc_id", F.col("text").alias("surface")).agg(
        F.count(F.lit(1)).alias("mentions")
    )
    return entity_stats, cooccurrence, name_variants


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m presslens.spark INPUT OUTPUT``: read INPUT with Spark, write the run
    folder OUTPUT. Exit codes as ``presslens run``: 0 done, 1 some documents failed (with
    ``--strict``), 2 a fatal error."""
    p = argparse.ArgumentParser(
        prog="python -m presslens.spark",
        description="Analyse news articles on Spark and write presslens' tables as Parquet.",
    )
    p.add_argument("input", help="what Spark reads: a Parquet/JSON/CSV path or glob")
    p.add_argument("output", help="the run folder to write (any Hadoop path)")
    p.add_argument("--format", default=None,
                   help="parquet, json, csv, orc... (default: from the input's extension)")
    p.add_argument("--text-col", default="text")
    p.add_argument("--id-col", default="id", help="a key column; 'none' for content ids")
    p.add_argument("--title-col", default=None)
    p.add_argument("--keep-col", action="append", default=[], dest="keep_cols",
                   help="an input column to keep in documents (repeatable)")
    p.add_argument("--partition-by", action="append", default=[],
                   help="a kept column to partition the tables by (repeatable)")
    p.add_argument("--aliases", default=None, help="alias table (CSV or TOML) on the driver")
    p.add_argument("--option", action="append", default=[], metavar="NAME=JSON",
                   help="another option of presslens.analyze, e.g. batch_size=64 (repeatable)")
    p.add_argument("--mode", default="error", help="Spark save mode: error or overwrite")
    p.add_argument("--strict", action="store_true", help="exit 1 when a document failed")
    args = p.parse_args(argv)
    try:
        options: dict[str, Any] = {}
        for o in args.option:
            name, sep, value = o.partition("=")
            if not sep:
                raise ValueError(f"--option {o!r}: expected NAME=VALUE")
            try:
                options[name] = json.loads(value)
            except json.JSONDecodeError:
                options[name] = value
        if args.aliases:
            options["aliases"] = args.aliases
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.appName("presslens").getOrCreate()
        fmt = args.format or _format_of(args.input)
        reader = spark.read.format(fmt)
        if fmt == "csv":
            reader = reader.option("header", True).option("multiLine", True)
        df = reader.load(args.input)
        tables = analyze(
            df,
            text_col=args.text_col,
            id_col=None if args.id_col == "none" else args.id_col,
            title_col=args.title_col,
            keep_cols=args.keep_cols,
            **options,
        )
        manifest = tables.write(args.output, partition_by=args.partition_by, mode=args.mode)
    except Exception as e:  # noqa: BLE001 — the job's one error line, exit 2
        print(f"error: {e}", file=sys.stderr)
        return 2
    c = manifest["counts"]
    print(
        f"{c['documents']} documents ({c['failed_documents']} failed), {c['sentences']} "
        f"sentences, {c['entities']} entity mentions → {args.output}"
    )
    return 1 if args.strict and c["failed_documents"] else 0


def _format_of(path: str) -> str:
    ext = path.rstrip("/").rsplit(".", 1)[-1].lower() if "." in path else ""
    return {"jsonl": "json", "ndjson": "json", "json": "json", "csv": "csv", "orc": "orc"}.get(
        ext, "parquet"
    )


if __name__ == "__main__":
    sys.exit(main())
