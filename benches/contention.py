"""Two presslens runs sharing the cores: `presslens bench` alone, then two started together,
for several OpenMP settings, alternated and repeated in one script.

    python benches/contention.py [--repeats 3] [--min-sentences 2000]

libtorch's OpenMP threads spin while they wait for work (GNU OpenMP: ~300,000 spins by
default); two processes on the same cores then burn each other's time. Each setting is
given as environment variables for the child processes (set before libtorch loads).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from statistics import median

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

SETTINGS: dict[str, dict[str, str]] = {
    # libgomp's own default spin count (GCC manual: 300,000 when OMP_WAIT_POLICY is unset).
    "libgomp default": {"GOMP_SPINCOUNT": "300000"},
    "spin 10k": {"GOMP_SPINCOUNT": "10000"},
    "spin 1k": {"GOMP_SPINCOUNT": "1000"},
    "passive": {"OMP_WAIT_POLICY": "PASSIVE"},
    "presslens default": {},
}


def bench_cmd(n: int, extra: list[str]) -> list[str]:
    return [sys.executable, "-m", "presslens", "bench", str(SEEDS), "--min-sentences", str(n),
            *extra]


def rate(out: str) -> float:
    m = re.search(r"end2end\s+([0-9.]+) sent/s", out)
    if not m:
        raise RuntimeError(f"no end2end figure in:\n{out}")
    return float(m.group(1))


def env_for(setting: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    return {**env, **setting}


def run_alone(n: int, env: dict[str, str], extra: list[str]) -> float:
    return rate(subprocess.run(bench_cmd(n, extra), env=env, capture_output=True, text=True,
                               check=True).stdout)


def run_together(n: int, env: dict[str, str], extra: list[str]) -> float:
    procs = [subprocess.Popen(bench_cmd(n, extra), env=env, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    return sum(rate(p.communicate()[0]) for p in procs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--min-sentences", type=int, default=2000)
    ap.add_argument("--settings", nargs="*", default=list(SETTINGS))
    ap.add_argument("--threads", type=int, default=None, help="pass --threads to each run")
    args = ap.parse_args()
    extra = [] if args.threads is None else ["--threads", str(args.threads)]
    results: dict[str, dict[str, list[float]]] = {
        s: {"alone": [], "together": []} for s in args.settings
    }
    for r in range(args.repeats):
        for s in args.settings:
            env = env_for(SETTINGS[s])
            results[s]["alone"].append(run_alone(args.min_sentences, env, extra))
            results[s]["together"].append(run_together(args.min_sentences, env, extra))
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
