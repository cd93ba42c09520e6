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


def test_sigint_stops_at_a_chunk_boundary_and_the_run_resumes(tmp_path, tiny_model):
    src = big_corpus(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("user file")
    args = ["run", src, "-o", out, "--chunk-size", "4",
            "--sentiment-model", tiny_model, "--ner-model", tiny_model]
    proc = start_cli(*args)
    wait_for_lock_holder(out, proc)
    time.sleep(1.0)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    t0 = time.time()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert time.time() - t0 < 30, "SIGINT must stop the run at the next chunk"
    assert "interrupted" in err and "run the same command again to resume" in err
    assert "Traceback" not in err
    assert (out / "keep.txt").read_text() == "user file"
    assert not (out / "manifest.json").exists(), "an interrupted run is not a finished run"
    journal = json.loads((out / "_journal.json").read_text())
    done = sum(c["documents"] for c in journal["sessions"][0]["chunks"])
    assert 0 < done < 4000
    r = subprocess.run([sys.executable, "-m", "presslens", *map(str, args)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert f"skipping {done} document(s) committed by the interrupted run" in r.stderr
    docs = presslens.read_run(out).documents
    assert docs.height == 4000 and docs["doc_id"].n_unique() == 4000


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
    (out / "sentences").mkdir()
    stale = [out / ".presslens-AbC123", out / "sentences" / ".presslens-xyz"]
    for f in stale:
        f.write_bytes(b"half a table")
    old = os.umask(0o022)
    try:
        presslens.run(SEEDS, out, sentiment_model=tiny_model, ner_model=tiny_model)
    finally:
        os.umask(old)
    assert not any(f.exists() for f in stale)
    files = [f for f in out.rglob("*") if f.is_file() and not f.name.startswith(".")]
    assert len(files) > 8
    for f in files:
        mode = stat.S_IMODE(f.stat().st_mode)
        assert mode == 0o644, (f.name, oct(mode))


def test_a_folder_with_tables_from_two_runs_is_refused(tmp_path, tiny_model):
    a, b = tmp_path / "a", tmp_path / "b"
    presslens.run(SEEDS, a, sentiment_model=tiny_model, ner_model=tiny_model)
    presslens.run(SEEDS / "001_4e4046bfc52f2e80.txt", b, sentiment_model=tiny_model,
                  ner_model=tiny_model)
    part = "sentences/part-00000.parquet"
    (a / part).write_bytes((b / part).read_bytes())
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
        schema = pq.read_schema(tmp_path / name / "part-00000.parquet")
        for field in schema:
            assert field.type != pa.string_view(), (name, field)
    schema = pq.read_schema(tmp_path / "sentences" / "part-00000.parquet")
    assert schema.field("text").type == pa.large_string()
    assert presslens.read_run(tmp_path).sentences["text"].dtype == pl.String


def sorted_tables(run, drop=()):
    """A run's tables in a canonical row order (runs may commit chunks in other orders)."""
    r = presslens.read_run(run)
    frames = {t: getattr(r, t).drop(c for c in drop if c in getattr(r, t).columns)
              for t in presslens.TABLES}
    return {t: f.sort(f.columns) for t, f in frames.items()}


def assert_same_tables(a, b, drop=(), exact=True):
    from polars.testing import assert_frame_equal

    ta, tb = sorted_tables(a, drop), sorted_tables(b, drop)
    for t in presslens.TABLES:
        if exact:
            assert ta[t].equals(tb[t]), (t, ta[t], tb[t])
        else:
            assert_frame_equal(ta[t], tb[t], check_exact=False, rel_tol=1e-5, abs_tol=1e-6)


def small_corpus(folder, n, start=0):
    folder.mkdir(exist_ok=True)
    for i in range(start, start + n):
        (folder / f"doc{i:04}.txt").write_text(
            f"Report {i}\n\nPresident Putin met Kishida in Tokyo on day {i}. "
            f"Putin spoke of the Kuril Islands. NATO and Japan replied.\n")
    return folder


def test_sigkill_at_random_moments_then_resume_equals_an_uninterrupted_run(tmp_path, tiny_model):
    import random

    # Large enough that the run outlasts the kills (~1 s apart) on a fast machine.
    corpus = small_corpus(tmp_path / "corpus", 900)
    models = ["--sentiment-model", tiny_model, "--ner-model", tiny_model]
    ref = tmp_path / "ref"
    r = subprocess.run([sys.executable, "-m", "presslens", "run", str(corpus), "-o", str(ref),
                        "--chunk-size", "3", *map(str, models)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "out"
    rng = random.Random(7)
    kills = 0
    for _ in range(40):
        proc = start_cli("run", corpus, "-o", out, "--chunk-size", "3", "-q", *models)
        wait_for_lock_holder(out, proc)
        time.sleep(rng.uniform(0.0, 2.0))
        if proc.poll() is not None:
            break
        proc.kill()
        proc.wait()
        kills += 1
        if (out / "_journal.json").exists():
            # Never a partial part file under a final name: every part reads back.
            for part in out.glob("*/part-*.parquet"):
                pl.read_parquet(part)
    assert kills >= 10, f"only {kills} kills landed before the run finished"
    r = subprocess.run([sys.executable, "-m", "presslens", "run", str(corpus), "-o", str(out),
                        "--chunk-size", "3", *map(str, models)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert_same_tables(ref, out)


def test_resume_refuses_other_options_models_or_input(tmp_path, tiny_model):
    corpus = small_corpus(tmp_path / "corpus", 6)
    out = tmp_path / "out"
    kw = {"sentiment_model": tiny_model, "ner_model": tiny_model}
    presslens.run(corpus, out, **kw)
    with pytest.raises(presslens.OutputError, match="option keep_duplicate_lines: true now, "
                       "false in the folder.*--overwrite"):
        presslens.run(corpus, out, keep_duplicate_lines=True, **kw)
    with pytest.raises(presslens.OutputError, match="ner model: none now"):
        presslens.run(corpus, out, sentiment_model=tiny_model, ner_model="none")
    other = small_corpus(tmp_path / "other", 2)
    with pytest.raises(presslens.OutputError, match="holds a run over .*--append"):
        presslens.run(other, out, **kw)
    (corpus / "doc0000.txt").write_text("Rewritten. Tokyo spoke.")
    with pytest.raises(presslens.OutputError, match="the input changed"):
        presslens.run(corpus, out, **kw)
    presslens.run(corpus, out, overwrite=True, **kw)
    assert "Rewritten" in presslens.read_run(out).documents["text"][0]


def test_append_equals_a_single_run_over_everything(tmp_path, tiny_model):
    kw = {"sentiment_model": tiny_model, "ner_model": tiny_model, "chunk_size": 4}
    first = small_corpus(tmp_path / "first", 10)
    today = small_corpus(tmp_path / "today", 5, start=8)  # 2 ids repeat: skipped
    everything = small_corpus(tmp_path / "all", 13)
    presslens.run(first, tmp_path / "out", **kw)
    m = presslens.run(today, tmp_path / "out", append=True, **kw)
    assert m["counts"]["documents"] == 13
    presslens.run(everything, tmp_path / "single", **kw)
    # `source` names the file read (first/, today/ or all/): the rest must be equal. The
    # chunks hold other documents than in the single run, so the encoder batches differ and
    # probabilities may differ in the 7th digit (a resume with the same chunks is exact).
    assert_same_tables(tmp_path / "out", tmp_path / "single", drop=["source"], exact=False)


def test_single_file_layout_of_earlier_versions_is_not_mixed(tmp_path, tiny_model):
    out = tmp_path / "out"
    out.mkdir()
    pl.DataFrame({"doc_id": ["old"]}).write_parquet(out / "documents.parquet")
    kw = {"sentiment_model": tiny_model, "ner_model": tiny_model}
    with pytest.raises(presslens.OutputError, match="single-file layout.*--overwrite"):
        presslens.run(SEEDS, out, **kw)
    presslens.run(SEEDS, out, overwrite=True, **kw)
    assert not (out / "documents.parquet").exists()
    assert presslens.read_run(out).documents.height == 5
