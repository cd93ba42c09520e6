"""Kill a run with SIGKILL at random moments, resume it, repeat; then check that the final
tables equal those of an uninterrupted run (a soak test, not part of `make test`; the CI
test tests/python/test_output.py does the same ten times on a small corpus).

    python benches/kill_resume.py --kills 50 --docs 3000
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import presslens


def cli(*args) -> list[str]:
    return [sys.executable, "-m", "presslens", *map(str, args)]


def tables(run: Path) -> dict[str, pl.DataFrame]:
    r = presslens.read_run(run)
    return {t: getattr(r, t).sort(getattr(r, t).columns) for t in presslens.TABLES}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills", type=int, default=50)
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--chunk-size", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    work = Path(tempfile.mkdtemp(prefix="presslens-kill-"))
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        for i in range(a.docs):
            (corpus / f"{i:06}.txt").write_text(
                f"Report {i}\n\nPresident Putin met Kishida in Tokyo on day {i}. Putin spoke "
                f"of the Kuril Islands. NATO and Japan replied on {i % 28 + 1} May.\n")
        common = ["--chunk-size", a.chunk_size, "-q"]
        t = time.time()
        subprocess.run(cli("run", corpus, "-o", work / "ref", *common), check=True)
        ref_s = time.time() - t
        out, kills, attempts = work / "out", 0, 0
        while kills < a.kills:
            attempts += 1
            proc = subprocess.Popen(cli("run", corpus, "-o", out, *common),
                                    stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.5, 0.5 + ref_s))
            if proc.poll() is not None:  # finished before the kill: start over
                shutil.rmtree(out)
                continue
            proc.kill()
            proc.wait()
            kills += 1
            print(f"kill {kills}/{a.kills} (attempt {attempts})", flush=True)
        r = subprocess.run(cli("run", corpus, "-o", out, *common[:-1]), capture_output=True,
                           text=True, check=True)
        a_tables, b_tables = tables(work / "ref"), tables(out)
        same = all(a_tables[t].equals(b_tables[t]) for t in presslens.TABLES)
        print(f"{kills} SIGKILLs over {attempts} attempts ({a.docs} documents, chunks of "
              f"{a.chunk_size}); final resume said: {(r.stderr.strip().splitlines() or [''])[0]!r}")
        print(f"final tables equal the uninterrupted run's: {same}")
        sys.exit(0 if same else 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
