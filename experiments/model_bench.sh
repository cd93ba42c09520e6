#!/usr/bin/env bash
# End-to-end throughput of two models on the same build, rounds interleaved so that load on
# the machine hits both alike (issue 14: a new model must stay within 5% of the old one).
# Usage: experiments/model_bench.sh OLD_MODEL NEW_MODEL [ROUNDS]
set -euo pipefail
old=$1 new=$2 rounds=${3:-3}
for r in $(seq 1 "$rounds"); do
    for m in "$old" "$new"; do
        out=$(python -m presslens bench seeds --min-sentences 2000 --sentiment-model "$m" --ner-model "$m")
        echo "round $r $m: $(grep -E 'end2end' <<<"$out" | tr -s ' ' | paste -sd'|')"
    done
done
