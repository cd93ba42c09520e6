"""Two presslens runs sharing the cores: `presslens bench` alone, then two started together,
for each setting, alternated and repeated in one script.

    python benches/contention.py [--repeats 3] [--min-sentences 2000] [--settings ...]

A setting is a set of `presslens bench` flags. "together / alone" is the two runs' summed
throughput over one run's alone: 1.0 means sharing the cores costs nothing. On 2 cores
that is the situation of two Spark tasks on one executor, or two jobs on one machine.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path
from statistics import median

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

SETTINGS: dict[str, list[str]] = {
    "int8 (default)": ["--precision", "int8"],
    "int8 --threads 1": ["--precision", "int8", "--threads", "1"],
    "int8 --threads 2": ["--precision", "int8", "--threads", "2"],
    "fp32": ["--precision", "fp32"],
    "fp32 --threads 1": ["--precision", "fp32", "--threads", "1"],
}


def bench_cmd(n: int, flags: list[str]) -> list[str]:
    return [sys.executable, "-m", "presslens", "bench", str(SEEDS), "--min-sentences", str(n),
            *flags]


def rate(out: str) -> float:
    rates = re.findall(r"end2end\s+([0-9.]+) sent/s", out)
    if len(rates) != 1:
        raise RuntimeError(f"expected one end2end figure in:\n{out}")
    return float(rates[0])


def run_alone(n: int, flags: list[str]) -> float:
    return rate(subprocess.run(bench_cmd(n, flags), capture_output=True, text=True,
                               check=True).stdout)


def run_together(n: int, flags: list[str]) -> float:
    procs = [subprocess.Popen(bench_cmd(n, flags), stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    return sum(rate(p.communicate()[0]) for p in procs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-sentences", type=int, default=2000)
    ap.add_argument("--settings", nargs="*", default=list(SETTINGS), choices=list(SETTINGS))
    args = ap.parse_args()
    results: dict[str, dict[str, list[float]]] = {
        s: {"alone": [], "together": []} for s in args.settings
    }
    for r in range(args.repeats):
        for s in args.settings:
            results[s]["alone"].append(run_alone(args.min_sentences, SETTINGS[s]))
            results[s]["together"].append(run_together(args.min_sentences, SETTINGS[s]))
            print(f"repeat {r + 1} {s}: alone {results[s]['alone'][-1]:.0f}, two together "
                  f"{results[s]['together'][-1]:.0f} sent/s", flush=True)
    summary = {
        s: {
            "alone": median(v["alone"]),
            "together": median(v["together"]),
            "together_over_alone": round(median(v["together"]) / median(v["alone"]), 2),
        }
        for s, v in results.items()
    }
    print(json.dumps({"sent_per_s_median": summary, "runs": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
