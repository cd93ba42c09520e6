"""presslens: batch NLP for news corpora.

Clean articles, split them into sentences, run transformer sentiment and NER, and get
polars DataFrames (in memory with :func:`analyze`, or Parquet files with :func:`run`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Union

import polars as pl

from presslens._torch import load_extension

MODELS_DIR = Path(__file__).parent / "models"
"""Folder of the models shipped with the package."""

os.environ.setdefault("PRESSLENS_DEFAULT_MODEL", str(MODELS_DIR / "news-minilm"))

_presslens = load_extension()
from presslens._presslens import (  # noqa: E402
    __version__,
    clean_text,
    sentence_spans,
    split_sentences,
)
from presslens.exceptions import (  # noqa: E402
    InputError,
    ModelError,
    OptionError,
    OutputError,
    PresslensError,
)

__all__ = [
    "TABLES",
    "Analysis",
    "InputError",
    "ModelError",
    "OptionError",
    "OutputError",
    "PresslensError",
    "__version__",
    "analyze",
    "clean_text",
    "default_options",
    "predict",
    "read_run",
    "read_table",
    "run",
    "sentence_spans",
    "split_sentences",
]

TABLES: tuple[str, ...] = tuple(_presslens.TABLES)
"""The tables of a run, each written as ``<name>.parquet`` (defined in the Rust core)."""

PathLike = Union[str, os.PathLike]


def default_options() -> dict:
    """The pipeline options and their defaults (the same as the CLI's)."""
    return json.loads(_presslens.default_options())


def _options(kind: str, given: dict) -> str:
    """The keyword arguments of one options type as the JSON the core reads. ``None`` means
    the core's default; paths become strings."""
    names = _presslens.option_names_of(kind)
    return json.dumps({k: given[k] for k in names if k in given}, default=os.fspath)


@dataclass(frozen=True)
class Analysis:
    """Tables of an analysis.

    * ``documents``, ``sentences``, ``entities``: one row per document, sentence and entity
      mention. In ``entities``, ``label`` is the mention's NER label and the rest its
      entity: ``entity`` the canonical name, ``entity_label`` the entity's (dominant) label,
      ``entity_id`` and ``country_code`` from the built-in gazetteer (``geonames:2017370``
      and ``RU`` for Russia; a demonym such as "Russian" has its country's code; null
      elsewhere); ``alias_source`` says how the mention got its entity: ``table`` (the
      alias table), ``corpus`` (a short form resolved across the corpus), ``gazetteer``,
      ``rule`` (a rule within the document) or ``none``.
    * Sentiment: ``sentiment_label`` (``positive``, ``neutral`` or ``negative``; two-label
      models give no ``neutral``), ``sentiment_score`` (its probability) and ``polarity`` =
      P(positive) − P(negative), in ``sentences`` for the sentence and in ``entities`` for
      the mention: the sentiment *toward* the mention when the model has a target head
      (``manifest["mention_sentiment"] == "target"``), else the sentence's (``"sentence"``).
    * ``entity_stats``: per entity (name and entity label: the mentions of one entity count
      together whatever their NER labels), corpus-wide (``scope == "corpus"``) and per
      document; ``entity_id``, ``country_code``, ``latitude``, ``longitude``: the gazetteer's
      (null where unknown); ``mean_polarity`` is the mean polarity of its mentions,
      ``n_positive`` / ``n_neutral`` / ``n_negative`` count its mentions by sentiment label.
    * ``cooccurrence``: pairs of entities mentioned in the same sentence; ``polarity_a`` /
      ``polarity_b``: the mean, over those sentences, of each entity's mention polarity
      there; ``mean_polarity``: the mean of the two.
    * ``name_variants``: per entity and document, the surface forms used and their counts.
    """

    documents: pl.DataFrame
    sentences: pl.DataFrame
    entities: pl.DataFrame
    entity_stats: pl.DataFrame
    cooccurrence: pl.DataFrame
    name_variants: pl.DataFrame
    timings: dict = field(default_factory=dict)
    manifest: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return (
            f"Analysis(documents={self.documents.height}, sentences={self.sentences.height}, "
            f"entities={self.entities.height}, "
            f"distinct_entities={self.entity_stats.filter(pl.col('scope') == 'corpus').height})"
        )


def analyze(
    texts: str | Sequence[str],
    *,
    ids: Sequence[object] | None = None,
    sentiment_model: PathLike | None = None,
    ner_model: PathLike | None = None,
    device: str | None = None,
    batch_size: int | None = None,
    max_window: int | None = None,
    threads: int | None = None,
    precision: str | None = None,
    share_encoder: bool | None = None,
    encoder_streams: bool | None = None,
    chunk_size: int | None = None,
    drop_patterns: str | Sequence[str] | None = None,
    clean_rules: PathLike | None = None,
    keep_duplicate_lines: bool | None = None,
    abbreviations: str | Sequence[str] | None = None,
    aliases: PathLike | None = None,
    gazetteer: bool | None = None,
    max_sentence_chars: int | None = None,
    max_document_chars: int | None = None,
) -> Analysis:
    """Analyse articles held in memory.

    The options are those of ``presslens run`` (see ``presslens run --help``); ``None``
    keeps the default (:func:`default_options`). ``sentiment_model`` / ``ner_model``:
    ``"default"`` for the embedded model, a local folder in Hugging Face layout, a hub id
    (``"org/name"``, needs a network once), or ``"none"`` to skip the task. ``precision``:
    ``"int8"``, ``"fp32"`` or ``"auto"`` (the default: int8 on CPU, fp32 on CUDA).
    ``threads``: CPU threads (default all cores), each running one encoder stream. ``aliases``: an
    alias table (CSV ``alias,canonical[,label]`` or TOML ``[aliases]``) for entity linking; it
    wins over the built-in gazetteer. ``gazetteer=False``: do not link places and demonyms to
    the built-in gazetteer (no ``entity_id``, ``country_code`` or coordinates; "U.S." stays
    apart from "United States").
    Ctrl-C stops at the next chunk and raises :class:`KeyboardInterrupt`.
    """
    given = dict(locals())
    if isinstance(texts, str):
        texts = [texts]
    frames, manifest = _presslens.analyze(
        list(texts),
        None if ids is None else [str(i) for i in ids],
        _options("pipeline", given),
    )
    manifest = json.loads(manifest)
    return Analysis(**dict(frames), timings=manifest["timings_s"], manifest=manifest)


def run(
    input: PathLike,
    output: PathLike,
    *,
    append: bool = False,
    overwrite: bool = False,
    format: str | None = None,
    text_col: str | None = None,
    id_col: str | None = None,
    title_col: str | None = None,
    keep_cols: str | Sequence[str] | None = None,
    follow_links: bool | None = None,
    sentiment_model: PathLike | None = None,
    ner_model: PathLike | None = None,
    device: str | None = None,
    batch_size: int | None = None,
    max_window: int | None = None,
    threads: int | None = None,
    precision: str | None = None,
    share_encoder: bool | None = None,
    encoder_streams: bool | None = None,
    chunk_size: int | None = None,
    drop_patterns: str | Sequence[str] | None = None,
    clean_rules: PathLike | None = None,
    keep_duplicate_lines: bool | None = None,
    abbreviations: str | Sequence[str] | None = None,
    aliases: PathLike | None = None,
    gazetteer: bool | None = None,
    max_sentence_chars: int | None = None,
    max_document_chars: int | None = None,
) -> dict:
    """Analyse a corpus on disk and write Parquet tables into ``output``, as
    ``presslens run`` does (same options; ``None`` keeps the default). Returns the run's
    manifest (counts, timings, models, per-document errors).

    ``keep_cols``: columns of a table input (JSONL, CSV, TSV, Parquet) copied into the
    ``documents`` table as strings, e.g. ``["outlet", "date"]``, to group results by.
    ``follow_links``: in an input folder, also follow symbolic links that lead outside it
    (by default such a link is reported as a failed document).

    The run is committed chunk by chunk: if it is interrupted (Ctrl-C raises
    :class:`KeyboardInterrupt` at the next chunk boundary; a crash or a kill), the same call
    resumes after the last committed chunk. ``append=True`` analyses only the documents
    whose ``doc_id`` is not in ``output`` yet and recomputes the corpus-level tables;
    ``overwrite=True`` starts over. A call with other options or models than the folder's
    run, or on a changed input, is refused with what differs (:class:`OutputError`)."""
    given = dict(locals())
    if append and overwrite:
        raise OptionError("append and overwrite exclude each other")
    mode = "append" if append else "overwrite" if overwrite else "resume"
    manifest = _presslens.run(
        Path(input), Path(output), _options("input", given), _options("pipeline", given), mode
    )
    return json.loads(manifest)


def predict(
    sentences: str | Sequence[str],
    *,
    sentiment_model: PathLike | None = None,
    ner_model: PathLike | None = None,
    device: str | None = None,
    batch_size: int | None = None,
    max_window: int | None = None,
    threads: int | None = None,
    precision: str | None = None,
    share_encoder: bool | None = None,
    encoder_streams: bool | None = None,
    targets: Sequence[Sequence[tuple[int, int]]] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sentiment and entities of sentences taken as they are (no cleaning, no splitting).

    Returns ``(sentences, entities)``: ``sentences`` has ``sent_idx`` (position in the
    input), ``text``, ``sentiment_label``, ``sentiment_score``, ``polarity``; ``entities``
    has ``sent_idx``, ``start``/``end`` (characters of that sentence), ``text``, ``label``,
    ``score`` and the sentiment toward the mention (``sentiment_label``,
    ``sentiment_score``, ``polarity``; the sentence's when the model has no target head, see
    :class:`Analysis`). Models and options as in :func:`analyze`.

    ``targets``: for each sentence, character spans ``(start, end)`` to score instead of the
    mentions NER finds (evaluation on gold targets, as ``presslens evaluate --newsmtsc``
    does). ``entities`` then holds those spans in order, with ``sent_idx``, ``start``,
    ``end``, ``text`` and the sentiment toward each (needs one model for sentiment and NER
    with a target head, as the default).
    """
    given = dict(locals())
    spans = given.pop("targets")
    if isinstance(sentences, str):
        sentences = [sentences]
    options = _options("infer", given)
    if spans is None:
        return _presslens.predict(list(sentences), options)
    spans = [[(int(a), int(b)) for a, b in row] for row in spans]
    return _presslens.predict(list(sentences), options, spans)


def _read_parts(out: Path, files: str) -> pl.DataFrame:
    """A table's part files (``files`` a glob relative to the run folder); partition folders
    (``date=2024-05-01/``, as a Spark run writes them) become columns."""
    return pl.read_parquet(str(out / files), hive_partitioning=True)


def _has_parts(out: Path, files: str) -> bool:
    return any(out.glob(files))


def read_table(output: PathLike, name: str) -> pl.DataFrame:
    """One table of a run folder (``name`` in :data:`TABLES`): all its part files."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; tables are {', '.join(TABLES)}")
    out = Path(output)
    path = out / _presslens.MANIFEST
    manifest = json.loads(path.read_text()) if path.is_file() else {}
    files = _table_files(manifest, name)
    if not _has_parts(out, files):
        raise InputError(f"{out / name}: no such table (is {output} a finished presslens run?)")
    return _read_parts(out, files)


def _table_files(manifest: dict, name: str) -> str:
    """A table's part-file glob as the manifest records it (a local run's layout when the
    manifest is missing or older)."""
    return manifest.get("tables", {}).get(name, {}).get("files", f"{name}/*.parquet")


def read_run(output: PathLike) -> Analysis:
    """Load the tables and manifest of a finished run folder.

    Each table is a folder of Parquet part files (``sentences/part-00000.parquet``, ...), so
    other tools read them with a glob: ``pl.scan_parquet("out/sentences/*.parquet")``,
    DuckDB ``read_parquet('out/sentences/*.parquet')``, ``pyarrow.dataset.dataset(
    "out/sentences")``. A folder written by :mod:`presslens.spark` may hold partition
    folders (``sentences/date=2024-05-01/part-….parquet``): the manifest records each
    table's glob, and partition values become columns. A folder is a finished run when
    ``manifest.json`` exists (a run writes it last and removes the previous one when it
    starts) and every table has the number of rows the manifest records."""
    out = Path(output)
    manifest_path = out / _presslens.MANIFEST
    if not manifest_path.is_file():
        hint = " (interrupted? run the same command again to resume)" if (
            out / "_journal.json"
        ).is_file() else ""
        raise InputError(f"{out}: not a finished presslens run (no {_presslens.MANIFEST}){hint}")
    manifest = json.loads(manifest_path.read_text())
    files = {t: _table_files(manifest, t) for t in TABLES}
    missing = [t for t in TABLES if not _has_parts(out, files[t])]
    if missing:
        raise InputError(f"{out}: not a finished presslens run (missing {', '.join(missing)})")
    frames = {t: _read_parts(out, files[t]) for t in TABLES}
    for t, frame in frames.items():
        entry = manifest.get("tables", {}).get(t, {})
        if entry.get("rows") != frame.height:
            raise InputError(
                f"{out / t}: {frame.height} rows but the manifest records "
                f"{entry.get('rows')}: the folder mixes two runs; run the command again"
            )
    return Analysis(**frames, timings=manifest.get("timings_s", {}), manifest=manifest)
