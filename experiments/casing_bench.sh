#!/usr/bin/env bash
# Issue 14: end-to-end throughput before/after, side by side in one script (rounds
# interleaved so that load on the machine hits all variants alike).
#   OLD_PRESSLENS: the presslens command of the code before (main's install, old model)
#   NEW_PRESSLENS: this branch's command; OLD_MODEL: the old model folder
# Usage: experiments/casing_bench.sh OLD_PRESSLENS NEW_PRESSLENS OLD_MODEL [ROUNDS]
set -euo pipefail
old=$1 new=$2 old_model=$3 rounds=${4:-3}
for r in $(seq 1 "$rounds"); do
    for v in before new-code+old-model after; do
        case $v in
            before) out=$("$old" bench seeds --min-sentences 2000) ;;
            new-code+old-model) out=$("$new" bench seeds --min-sentences 2000 \
                --sentiment-model "$old_model" --ner-model "$old_model") ;;
            after) out=$("$new" bench seeds --min-sentences 2000) ;;
        esac
        echo "round $r $v: $(grep -E 'end2end' <<<"$out" | tr -s ' ') | $(grep -E '^  infer' <<<"$out" | tr -s ' ')"
    done
done
