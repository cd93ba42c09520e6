"""The run folder as other processes see it: locks, interrupted runs, killed runs'
leftovers, file modes, and readers other than polars."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time

import polars as pl
import presslens
import pytest
from conftest import SEEDS


def start_cli(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "presslens", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def big_corpus(tmp_path, n=4000):
    src = tmp_path / "big.jsonl"
    with src.open("w") as f:
        for i in range(n):
            f.write(json.dumps({"id": str(i), "text": f"Tokyo met Moscow on day {i}. "
                                "Talks stalled again. " * 3}) + "\n")
    return src


def wait_for_lock_holder(out, proc, timeout=60):
    """Wait until the run has opened its output folder (its lock file exists)."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if (out / ".presslens.lock").exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"run did not start: {proc.communicate()}")


def test_sigint_stops_the_run_cleanly_and_leaves_the_folder_as_it_was(tmp_path, tiny_model):
    src = big_corpus(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("user file")
    proc = start_cli("run", src, "-o", out, "--chunk-size", "4",
                     "--sentiment-model", tiny_model, "--ner-model", tiny_model)
    wait_for_lock_holder(out, proc)
    time.sleep(1.0)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    t0 = time.time()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.time() - t0 < 30, "SIGINT must stop the run at the next chunk"
    assert "interrupted" in err and "Traceback" not in err
    left = sorted(p.name for p in out.iterdir())
    assert left == [".presslens.lock", "keep.txt"], left


def test_a_second_run_into_the_same_folder_is_refused(tmp_path, tiny_model):
    src = big_corpus(tmp_path, 2000)
    out = tmp_path / "out"
    first = start_cli("run", src, "-o", out, "--chunk-size", "4",
                      "--sentiment-model", tiny_model, "--ner-model", tiny_model)
    wait_for_lock_holder(out, first)
    second = subprocess.run(
        [sys.executable, "-m", "presslens", "run", str(src), "-o", str(out),
         "--sentiment-model", str(tiny_model), "--ner-model", str(tiny_model)],
        capture_output=True, text=True, timeout=300,
    )
    assert second.returncode == 2
    assert "another presslens run is writing into" in second.stderr
    first.send_signal(signal.SIGINT)
    first.communicate(timeout=60)


def test_leftovers_of_a_killed_run_are_removed_and_files_are_readable_by_others(
    tmp_path, tiny_model
):
    out = tmp_path / "out"
    out.mkdir()
    stale = [out / ".documents.parquet.AbC123", out / ".presslens-xyz",
             out / ".entities-spill.parquet.q"]
    for f in stale:
        f.write_bytes(b"half a table")
    old = os.umask(0o022)
    try:
        presslens.run(SEEDS, out, sentiment_model=tiny_model, ner_model=tiny_model)
    finally:
        os.umask(old)
    assert not any(f.exists() for f in stale)
    for f in out.iterdir():
        if f.name.startswith("."):
            continue
        mode = stat.S_IMODE(f.stat().st_mode)
        assert mode == 0o644, (f.name, oct(mode))


def test_a_folder_with_tables_from_two_runs_is_refused(tmp_path, tiny_model):
    a, b = tmp_path / "a", tmp_path / "b"
    presslens.run(SEEDS, a, sentiment_model=tiny_model, ner_model=tiny_model)
    presslens.run(SEEDS / "001_4e4046bfc52f2e80.txt", b, sentiment_model=tiny_model,
                  ner_model=tiny_model)
    (a / "sentences.parquet").write_bytes((b / "sentences.parquet").read_bytes())
    with pytest.raises(presslens.InputError, match="mixes two runs"):
        presslens.read_run(a)
    (a / "manifest.json").unlink()
    with pytest.raises(presslens.InputError, match="no manifest.json"):
        presslens.read_run(a)


def test_strings_are_plain_arrow_strings(tmp_path, tiny_model):
    """polars writes Arrow string_view by default, which pyarrow < 15 cannot read; the files
    declare large_string instead (`make test-readers` reads them with pyarrow 14 and DuckDB)."""
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    presslens.run(SEEDS, tmp_path, sentiment_model=tiny_model, ner_model=tiny_model)
    for name in presslens.TABLES:
        schema = pq.read_schema(tmp_path / f"{name}.parquet")
        for field in schema:
            assert field.type != pa.string_view(), (name, field)
    assert pq.read_schema(tmp_path / "sentences.parquet").field("text").type == pa.large_string()
    assert presslens.read_run(tmp_path).sentences["text"].dtype == pl.String
