"""Memory and throughput at scale (a benchmark, not a test): `make bench-scale`.

Generates news-like corpora (a folder of .txt files and one JSONL) of the sizes asked for,
runs `presslens run` on them with both models off (ingest, cleaning, splitting, writing)
and reports MB/s and the peak RSS of the run; then one single-line document, and the default
models on a corpus of the sentences asked for. Corpora are written under --work (default
/tmp/presslens-scale) and removed afterwards unless --keep.

    python benches/scale.py --sizes-mb 100 1000 --sentences 50000
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

WORDS = ("the minister said talks on the disputed islands would resume after officials "
         "in Tokyo and Moscow met to discuss fishing rights sanctions and a peace treaty "
         "while analysts warned that the dispute could harden positions on both sides").split()


def paragraph(rng: random.Random, sentences: int) -> str:
    out = []
    for _ in range(sentences):
        n = rng.randint(8, 30)
        s = " ".join(rng.choice(WORDS) for _ in range(n))
        out.append(s[0].upper() + s[1:] + ".")
    return " ".join(out)


def article(rng: random.Random, i: int) -> str:
    paras = [paragraph(rng, rng.randint(2, 6)) for _ in range(rng.randint(3, 12))]
    return f"Article {i} on the Kuril Islands\n\n" + "\n\n".join(paras) + "\n"


def make_folder(root: Path, mb: int, seed: int = 1) -> Path:
    rng, size, i = random.Random(seed), 0, 0
    folder = root / f"folder-{mb}mb"
    for shard in range(10**6):
        d = folder / f"{shard:04}"
        d.mkdir(parents=True, exist_ok=True)
        for _ in range(1000):
            text = article(rng, i)
            (d / f"{i:08}.txt").write_text(text)
            size += len(text.encode())
            i += 1
            if size >= mb * 1_000_000:
                return folder
    return folder


def make_jsonl(root: Path, mb: int, seed: int = 2) -> Path:
    rng, size, i = random.Random(seed), 0, 0
    path = root / f"corpus-{mb}mb.jsonl"
    with path.open("w") as f:
        while size < mb * 1_000_000:
            text = article(rng, i)
            f.write(json.dumps({"id": str(i), "outlet": "x", "text": text}) + "\n")
            size += len(text.encode())
            i += 1
    return path


def measure(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds and peak RSS (MB) of `presslens ARGS`, run in a fresh child."""
    code = ("import resource, subprocess, sys, time; t = time.time(); "
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
            "print(time.time() - t); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024); "
            "print(r.returncode); sys.stderr.write(r.stderr)")
    r = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "presslens", *args],
                       capture_output=True, text=True)
    wall, rss, rc = r.stdout.split()[:3]
    if rc != "0":
        raise SystemExit(f"presslens {' '.join(args)} failed:\n{r.stderr}")
    return float(wall), float(rss), r.stderr


def size_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 1e6
    return sum(p.stat().st_size for p in path.rglob("*.txt")) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes-mb", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--sentences", type=int, default=50_000, help="0 skips the models run")
    ap.add_argument("--single-line-mb", type=int, default=50)
    ap.add_argument("--work", type=Path, default=Path("/tmp/presslens-scale"))
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    off = ["--sentiment-model", "none", "--ner-model", "none", "-q"]
    print(f"{'input':<28}{'MB':>9}{'seconds':>10}{'MB/s':>9}{'peak RSS MB':>13}")
    try:
        for mb in a.sizes_mb:
            for make in (make_folder, make_jsonl):
                src = make(a.work, mb)
                out = a.work / "out"
                shutil.rmtree(out, ignore_errors=True)
                wall, rss, _ = measure(["run", str(src), "-o", str(out), *off])
                n = size_mb(src)
                print(f"{src.name:<28}{n:>9.0f}{wall:>10.1f}{n / wall:>9.1f}{rss:>13.0f}",
                      flush=True)
                if src.is_dir():
                    shutil.rmtree(src)
                else:
                    src.unlink()
        if a.single_line_mb:
            one = a.work / "single-line.txt"
            rng = random.Random(3)
            with one.open("w") as f:
                while f.tell() < a.single_line_mb * 1_000_000:
                    f.write(" ".join(rng.choice(WORDS) for _ in range(1000)) + " ")
            out = a.work / "out-single"
            shutil.rmtree(out, ignore_errors=True)
            wall, rss, _ = measure(["run", str(one), "-o", str(out), *off,
                                    "--max-document-chars", str(10**9)])
            n = size_mb(one)
            print(f"{'single-line.txt':<28}{n:>9.0f}{wall:>10.1f}{n / wall:>9.1f}{rss:>13.0f}")
            one.unlink()
        if a.sentences:
            # ~6 sentences per article paragraph set: generate until the sentence count.
            src = a.work / "models.jsonl"
            rng = random.Random(4)
            with src.open("w") as f:
                n_sent, i = 0, 0
                while n_sent < a.sentences:
                    text = article(rng, i)
                    n_sent += text.count(".")
                    f.write(json.dumps({"id": str(i), "text": text}) + "\n")
                    i += 1
            out = a.work / "out-models"
            shutil.rmtree(out, ignore_errors=True)
            wall, rss, _ = measure(["run", str(src), "-o", str(out), "-q"])
            manifest = json.loads((out / "manifest.json").read_text())
            s = manifest["counts"]["sentences"]
            print(f"default models: {s} sentences in {wall:.0f} s = {s / wall:.0f} sentences/s "
                  f"end to end (model load included), peak RSS {rss:.0f} MB")
    finally:
        if not a.keep:
            shutil.rmtree(a.work, ignore_errors=True)


if __name__ == "__main__":
    main()
