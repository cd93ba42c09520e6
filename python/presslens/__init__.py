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

import polars as pl
import torch  # noqa: F401  (loads libtorch's shared libraries before the extension)

MODELS_DIR = Path(__file__).parent / "models"
"""Folder of the models shipped with the package."""

os.environ.setdefault("PRESSLENS_DEFAULT_MODEL", str(MODELS_DIR / "news-minilm"))

from presslens._presslens import (  # noqa: E402
    InputError,
    ModelError,
    PresslensError,
    __version__,
    clean_text,
    sentence_spans,
    split_sentences,
)
from presslens._presslens import analyze as _analyze  # noqa: E402
from presslens._presslens import predict as _predict  # noqa: E402
from presslens._presslens import run as _run  # noqa: E402

__all__ = [
    "Analysis",
    "InputError",
    "ModelError",
    "PresslensError",
    "__version__",
    "analyze",
    "clean_text",
    "predict",
    "read_run",
    "read_table",
    "run",
    "sentence_spans",
    "split_sentences",
]

TABLES = (
    "documents",
    "sentences",
    "entities",
    "entity_stats",
    "cooccurrence",
    "name_variants",
)
"""The tables of a run, each written as ``<name>.parquet``."""


@dataclass(frozen=True)
class Analysis:
    """Tables of an analysis.

    * ``documents``, ``sentences``, ``entities``: one row per document, sentence and entity
      mention (``entities.entity`` is the linked canonical name, ``alias_source`` says how:
      ``table``, ``rule`` or ``none``).
    * ``entity_stats``: per entity, corpus-wide (``scope == "corpus"``) and per document.
    * ``cooccurrence``: pairs of entities mentioned in the same sentence.
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
    ids: Sequence[str] | None = None,
    sentiment_model: str | os.PathLike | None = None,
    ner_model: str | os.PathLike | None = None,
    device: str = "cpu",
    batch_size: int = 32,
    max_window: int = 256,
    threads: int | None = None,
    chunk_size: int = 256,
    drop_patterns: Sequence[str] = (),
    aliases: str | os.PathLike | None = None,
) -> Analysis:
    """Analyse articles held in memory.

    ``sentiment_model`` / ``ner_model``: ``None`` or ``"default"`` for the embedded model, a
    local folder in Hugging Face layout, a hub id (``"org/name"``, needs a network once), or
    ``"none"`` to skip the task. ``aliases``: an alias table (CSV ``alias,canonical[,label]``
    or TOML ``[aliases]``) for entity linking.
    """
    if isinstance(texts, str):
        texts = [texts]
    frames, timings = _analyze(
        list(texts),
        ids=None if ids is None else [str(i) for i in ids],
        sentiment_model=None if sentiment_model is None else str(sentiment_model),
        ner_model=None if ner_model is None else str(ner_model),
        device=device,
        batch_size=batch_size,
        max_window=max_window,
        threads=threads,
        chunk_size=chunk_size,
        drop_patterns=list(drop_patterns),
        aliases=None if aliases is None else Path(aliases),
    )
    return Analysis(**dict(frames), timings=json.loads(timings))


def run(
    input: str | os.PathLike,
    output: str | os.PathLike,
    *,
    format: str = "auto",
    text_col: str | None = None,
    id_col: str | None = None,
    title_col: str | None = None,
    keep_cols: Sequence[str] = (),
    sentiment_model: str | os.PathLike | None = None,
    ner_model: str | os.PathLike | None = None,
    device: str = "cpu",
    batch_size: int = 32,
    max_window: int = 256,
    threads: int | None = None,
    chunk_size: int = 256,
    drop_patterns: Sequence[str] = (),
    aliases: str | os.PathLike | None = None,
) -> dict:
    """Analyse a corpus on disk (like ``presslens run``) and write Parquet tables into
    ``output``. Returns the run's manifest (counts, timings, models, per-document errors).

    ``keep_cols``: columns of a table input (JSONL, CSV, TSV, Parquet) copied into the
    ``documents`` table as strings, e.g. ``["outlet", "date"]``, to group results by."""
    manifest = _run(
        Path(input),
        Path(output),
        format=format,
        text_col=text_col,
        id_col=id_col,
        title_col=title_col,
        keep_cols=list(keep_cols),
        sentiment_model=None if sentiment_model is None else str(sentiment_model),
        ner_model=None if ner_model is None else str(ner_model),
        device=device,
        batch_size=batch_size,
        max_window=max_window,
        threads=threads,
        chunk_size=chunk_size,
        drop_patterns=list(drop_patterns),
        aliases=None if aliases is None else Path(aliases),
    )
    return json.loads(manifest)


def predict(
    sentences: str | Sequence[str],
    *,
    sentiment_model: str | os.PathLike | None = None,
    ner_model: str | os.PathLike | None = None,
    device: str = "cpu",
    batch_size: int = 32,
    max_window: int = 256,
    threads: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Sentiment and entities of sentences taken as they are (no cleaning, no splitting).

    Returns ``(sentences, entities)``: ``sentences`` has ``sent_idx`` (position in the
    input), ``text``, ``sentiment_label``, ``sentiment_score``, ``polarity``; ``entities``
    has ``sent_idx``, ``start``/``end`` (characters of that sentence), ``text``, ``label``,
    ``score``. Models are named as in :func:`analyze`.
    """
    if isinstance(sentences, str):
        sentences = [sentences]
    return _predict(
        list(sentences),
        sentiment_model=None if sentiment_model is None else str(sentiment_model),
        ner_model=None if ner_model is None else str(ner_model),
        device=device,
        batch_size=batch_size,
        max_window=max_window,
        threads=threads,
    )


def read_table(output: str | os.PathLike, name: str) -> pl.DataFrame:
    """One table of a finished run folder (``name`` in :data:`TABLES`)."""
    if name not in TABLES:
        raise ValueError(f"unknown table {name!r}; tables are {', '.join(TABLES)}")
    path = Path(output) / f"{name}.parquet"
    if not path.is_file():
        raise InputError(f"{path}: no such table (is {output} a finished presslens run?)")
    return pl.read_parquet(path)


def read_run(output: str | os.PathLike) -> Analysis:
    """Load the tables and manifest of a finished run folder."""
    out = Path(output)
    missing = [t for t in TABLES if not (out / f"{t}.parquet").is_file()]
    if missing:
        raise InputError(f"{out}: not a finished presslens run (missing {', '.join(missing)})")
    frames = {t: pl.read_parquet(out / f"{t}.parquet") for t in TABLES}
    manifest_path = out / "manifest.json"
    manifest = json.loads(manifest_path.read_text()) if manifest_path.is_file() else {}
    return Analysis(**frames, timings=manifest.get("timings_s", {}), manifest=manifest)
