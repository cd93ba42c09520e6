"""Type stubs of the compiled core (presslens._presslens); `make lint` checks them against
the built module with mypy's stubtest."""

import os
from collections.abc import Sequence
from typing import final

import polars as pl

__all__ = [
    "MANIFEST",
    "TABLES",
    "BatchAnalyzer",
    "__version__",
    "analyze",
    "batch_frames",
    "check_options",
    "clean_text",
    "cli_main",
    "default_options",
    "link_distinct",
    "option_names_of",
    "predict",
    "run",
    "sentence_spans",
    "split_sentences",
    "write_random_model",
]

__version__: str
TABLES: list[str]
MANIFEST: str

def split_sentences(text: str) -> list[str]: ...
def sentence_spans(text: str) -> list[tuple[int, int]]: ...
def clean_text(text: str, drop_patterns: list[str] = ...) -> str: ...
def analyze(
    texts: list[str], ids: list[str] | None, options: str
) -> tuple[list[tuple[str, pl.DataFrame]], str]: ...
def predict(
    sentences: list[str], options: str, targets: list[list[tuple[int, int]]] | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]: ...
def run(
    input: os.PathLike[str] | str,
    output: os.PathLike[str] | str,
    input_options: str,
    options: str,
    mode: str,
) -> str: ...
def option_names_of(kind: str) -> list[str]: ...
def check_options(options: str) -> None: ...
def batch_frames(keep_cols: list[str]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]: ...
def link_distinct(distinct: pl.DataFrame, gazetteer: bool = True) -> pl.DataFrame: ...

@final
class BatchAnalyzer:
    def __new__(cls, options: str) -> BatchAnalyzer: ...
    def analyze(
        self, frame: pl.DataFrame, input_options: str, label: str
    ) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]: ...
    def manifest(
        self,
        input: os.PathLike[str] | str,
        input_options: str,
        rows: list[tuple[str, int]],
        files: str,
        counts: str,
        timings: str,
        errors: str,
    ) -> str: ...

def default_options() -> str: ...
def cli_main(argv: list[str]) -> int: ...
def write_random_model(
    path: os.PathLike[str] | str,
    vocab: os.PathLike[str] | str | None = None,
    seed: int = 0,
    sentiment_classes: int = 3,
    target_pooling: Sequence[str] | None = ...,
) -> None: ...
