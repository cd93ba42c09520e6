"""Type stubs of the compiled core (presslens._presslens)."""

import os
from collections.abc import Sequence

import polars as pl

__version__: str

class PresslensError(Exception): ...
class InputError(PresslensError): ...
class ModelError(PresslensError): ...

def split_sentences(text: str) -> list[str]: ...
def sentence_spans(text: str) -> list[tuple[int, int]]: ...
def clean_text(text: str, drop_patterns: list[str] = ...) -> str: ...
def analyze(
    texts: list[str],
    ids: list[str] | None = None,
    sentiment_model: str | None = None,
    ner_model: str | None = None,
    device: str = "cpu",
    batch_size: int = 32,
    max_window: int = 256,
    threads: int | None = None,
    chunk_size: int = 256,
    drop_patterns: list[str] = ...,
    aliases: os.PathLike | str | None = None,
) -> tuple[list[tuple[str, pl.DataFrame]], str]: ...
def predict(
    sentences: list[str],
    sentiment_model: str | None = None,
    ner_model: str | None = None,
    device: str = "cpu",
    batch_size: int = 32,
    max_window: int = 256,
    threads: int | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]: ...
def run(
    input: os.PathLike | str,
    output: os.PathLike | str,
    format: str = "auto",
    text_col: str | None = None,
    id_col: str | None = None,
    title_col: str | None = None,
    keep_cols: Sequence[str] = ...,
    sentiment_model: str | None = None,
    ner_model: str | None = None,
    device: str = "cpu",
    batch_size: int = 32,
    max_window: int = 256,
    threads: int | None = None,
    chunk_size: int = 256,
    drop_patterns: list[str] = ...,
    aliases: os.PathLike | str | None = None,
) -> str: ...
def cli_main(argv: list[str]) -> int: ...
def write_random_model(
    path: os.PathLike | str, vocab: os.PathLike | str | None = None, seed: int = 0
) -> None: ...
