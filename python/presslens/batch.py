"""One batch of a distributed run: an Arrow record batch of articles in, tables out.

The engine-agnostic core of :mod:`presslens.spark` (``DataFrame.mapInArrow``) and of a Ray
Data ``map_batches`` job. A batch gives the document-level tables of its articles —
``documents``, ``sentences`` and ``mentions`` (the ``entities`` rows before corpus-level
linking — with their sentiment columns ``sentiment_label``, ``sentiment_score``,
``polarity`` — and the linking columns ``_name``, ``_ent_label``, ``_from_table``). The
engine then links the mentions across the corpus (counted distinct names through
:func:`link_distinct`) and aggregates the analysis tables.

The pipeline (models included) is loaded once per process and options, on first use, and
reused by every later batch of that process.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Union

import polars as pl

from presslens.exceptions import InputError, OptionError

BATCH_TABLES = ("documents", "sentences", "mentions")
"""The tables of one batch, in the order :func:`analyze_batch` returns them."""

UNION_FIELDS = {"documents": "document", "sentences": "sentence", "mentions": "mention"}
"""Struct column of each batch table in the one-table encoding of :func:`union_batch`."""

_PIPELINES: dict[str, Any] = {}

Batch = Union[pl.DataFrame, Any]  # a polars DataFrame or a pyarrow RecordBatch / Table


def pipeline(options: dict) -> Any:
    """The loaded pipeline for ``options`` (the keyword options of ``presslens.analyze``),
    loaded on the first call in this process and kept for the next ones."""
    from presslens import _presslens

    key = json.dumps(options, sort_keys=True, default=os.fspath)
    if key not in _PIPELINES:
        _PIPELINES[key] = _presslens.BatchAnalyzer(key)
    return _PIPELINES[key]


def input_options(
    text_col: str, id_col: str | None, title_col: str | None, keep_cols: Sequence[str]
) -> str:
    """The column options of a batch as the core reads them."""
    cols = {"text_col": text_col, "id_col": id_col, "title_col": title_col}
    return json.dumps({**cols, "keep_cols": list(keep_cols)})


def analyze_batch(
    batch: Batch,
    *,
    text_col: str = "text",
    id_col: str | None = None,
    title_col: str | None = None,
    keep_cols: Sequence[str] = (),
    label: str = "batch",
    **options: Any,
) -> dict[str, pl.DataFrame]:
    """Analyse one batch of articles: ``{"documents", "sentences", "mentions"}`` frames.

    ``batch``: a polars DataFrame or a pyarrow RecordBatch/Table with the text column (and
    the id, title and kept columns, as in ``presslens run``). ``label`` names the batch in
    each document's ``source`` (``label#row3``). ``options``: those of
    :func:`presslens.analyze`.

    A problem with one article is its ``error`` in ``documents``; should the batch as a whole
    raise (an error of the core itself), each article is retried alone, and an article that
    still raises gets the exception as its ``error``: no article costs the others their
    results."""
    frame = batch if isinstance(batch, pl.DataFrame) else pl.from_arrow(batch)
    if not isinstance(frame, pl.DataFrame):
        raise TypeError(f"expected a table of articles, got {type(batch).__name__}")
    analyzer = pipeline(options)
    cols = input_options(text_col, id_col, title_col, keep_cols)
    try:
        return dict(zip(BATCH_TABLES, analyzer.analyze(frame, cols, label)))
    except (InputError, OptionError):
        raise  # a wrong column or option fails every article alike
    except BaseException as e:  # noqa: BLE001 — also a Rust panic (pyo3's PanicException)
        if isinstance(e, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
    # The batch failed as a whole: find the article(s) at fault.
    parts: list[dict[str, pl.DataFrame]] = []
    for i in range(frame.height):
        row = frame.slice(i, 1)
        try:
            parts.append(dict(zip(BATCH_TABLES, analyzer.analyze(row, cols, f"{label}-{i}"))))
        except (InputError, OptionError, KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as e:  # noqa: BLE001 — recorded on the article's row
            blank = row.with_columns(pl.lit(None, dtype=pl.String).alias(text_col))
            d, s, m = analyzer.analyze(blank, cols, f"{label}-{i}")
            d = d.with_columns(pl.lit(f"analysis failed: {type(e).__name__}: {e}").alias("error"))
            parts.append({"documents": d, "sentences": s, "mentions": m})
    return {t: pl.concat([p[t] for p in parts], how="vertical") for t in BATCH_TABLES}


def batch_frames(keep_cols: Sequence[str] = ()) -> dict[str, pl.DataFrame]:
    """Empty frames with the columns and types of a batch's tables (no model is loaded)."""
    from presslens import _presslens

    return dict(zip(BATCH_TABLES, _presslens.batch_frames(list(keep_cols))))


def union_schema(keep_cols: Sequence[str] = ()) -> Any:
    """The Arrow schema of :func:`union_batch`: a ``table`` column naming the batch table of
    each row, and one struct column per batch table (``document``, ``sentence``,
    ``mention``), set on that table's rows and null on the others. Strings are plain
    ``utf8`` and integers signed, as Spark requires."""
    import pyarrow as pa

    fields = [pa.field("table", pa.string(), nullable=False)]
    for name, frame in batch_frames(keep_cols).items():
        struct = pa.struct([pa.field(f.name, _plain(f.type)) for f in frame.to_arrow().schema])
        fields.append(pa.field(UNION_FIELDS[name], struct))
    return pa.schema(fields)


def _plain(t: Any) -> Any:
    """Plain ``utf8`` for polars' large and view strings (Spark reads only ``utf8``)."""
    import pyarrow as pa

    if pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    return t


def plain_strings(table: Any) -> Any:
    """An Arrow table with plain ``utf8`` strings (see :func:`_plain`)."""
    import pyarrow as pa

    return table.cast(pa.schema([pa.field(f.name, _plain(f.type)) for f in table.schema]))


def union_batch(batch: Batch, *, schema: Any = None, **kwargs: Any) -> Any:
    """:func:`analyze_batch` as one Arrow table in the encoding of :func:`union_schema`, for
    engines whose batch function returns a single table (Spark ``mapInArrow``, Ray
    ``map_batches``). ``kwargs``: those of :func:`analyze_batch`."""
    import pyarrow as pa

    if schema is None:
        schema = union_schema(kwargs.get("keep_cols", ()))
    tables = analyze_batch(batch, **kwargs)
    parts = []
    for name, frame in tables.items():
        n = frame.height
        if n == 0:
            continue
        arrow = frame.to_arrow()
        columns = [pa.array([name] * n, pa.string())]
        for f in schema:
            if f.name == "table":
                continue
            if f.name == UNION_FIELDS[name]:
                children = [arrow.column(c.name).combine_chunks().cast(c.type) for c in f.type]
                columns.append(pa.StructArray.from_arrays(children, fields=list(f.type)))
            else:
                columns.append(pa.nulls(n, f.type))
        parts.append(pa.Table.from_arrays(columns, schema=schema))
    if not parts:
        return schema.empty_table()
    return pa.concat_tables(parts)


def link_distinct(distinct: pl.DataFrame, *, gazetteer: bool = True) -> pl.DataFrame:
    """Corpus-level linking from counted distinct mentions: ``distinct`` has the mentions'
    ``_ent_label``, ``_name``, ``_from_table``, ``text`` and their ``count``; returns it
    with each one's entity as a local run links every mention: the canonical ``entity``,
    its ``entity_label``, ``entity_id``, ``country_code``, ``latitude`` and ``longitude``,
    and the mention's ``alias_source``. ``gazetteer``: the option of the same name (link
    places and demonyms to the built-in gazetteer). Memory grows with distinct names, not
    with mentions."""
    from presslens import _presslens

    return _presslens.link_distinct(distinct, gazetteer)


def ship_aliases(options: dict) -> dict:
    """``options`` with an ``aliases`` file replaced by its content, for workers that cannot
    read the driver's files (see :func:`land_aliases`)."""
    path = options.get("aliases")
    if path is None:
        return options
    p = Path(path)
    return {**options, "aliases": {"name": p.name, "content": p.read_text(encoding="utf-8")}}


def land_aliases(options: dict) -> dict:
    """Undo :func:`ship_aliases` on a worker: write the alias table to a local file once."""
    shipped = options.get("aliases")
    if not isinstance(shipped, dict):
        return options
    digest = hashlib.sha256(shipped["content"].encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"presslens-aliases-{digest}-{shipped['name']}"
    if not path.is_file():
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_text(shipped["content"], encoding="utf-8")
        tmp.replace(path)
    return {**options, "aliases": str(path)}
