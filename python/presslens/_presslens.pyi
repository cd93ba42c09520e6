"""Type stubs of the compiled core (presslens._presslens); `make lint` checks them against
the built module with mypy's stubtest."""

import os

import polars as pl

__all__ = [
    "MANIFEST",
    "TABLES",
    "__version__",
    "analyze",
    "clean_text",
    "cli_main",
    "default_options",
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
def predict(sentences: list[str], options: str) -> tuple[pl.DataFrame, pl.DataFrame]: ...
def run(
    input: os.PathLike[str] | str,
    output: os.PathLike[str] | str,
    input_options: str,
    options: str,
    mode: str,
) -> str: ...
def option_names_of(kind: str) -> list[str]: ...
def default_options() -> str: ...
def cli_main(argv: list[str]) -> int: ...
def write_random_model(
    path: os.PathLike[str] | str, vocab: os.PathLike[str] | str | None = None, seed: int = 0
) -> None: ...
