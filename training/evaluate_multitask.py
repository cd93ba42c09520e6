#!/usr/bin/env python
"""Evaluate a presslens multi-task model directory.

Prints SST-2 accuracy (``sst2/test.tsv`` = GLUE dev) and CoNLL-2003 entity-level
exact-match P/R/F1 (conlleval convention) per type and overall on
``conll2003/test.txt``; writes the figures to ``<model_dir>/eval.json``.
``--split dev`` uses ``sst2/dev.tsv`` and ``conll2003/valid.txt`` instead
(written to ``eval_dev.json``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import multitask_common as mc
import torch

DATA_DIR = Path("/work/shared/data")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("model_dir", type=Path)
    p.add_argument("--sst2-dir", type=Path, default=DATA_DIR / "sst2")
    p.add_argument("--conll-dir", type=Path, default=DATA_DIR / "conll2003")
    p.add_argument("--split", choices=["test", "dev"], default="test")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument(
        "--max-len",
        type=int,
        default=512,
        help="eval cap; words beyond it are predicted O",
    )
    p.add_argument("--out-json", type=Path, default=None)
    return p.parse_args(argv)


def _batches(examples, batch_size):
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]["ids"]))
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        yield idx, mc.collate([examples[i] for i in idx])


@torch.no_grad()
def sst2_accuracy(model, tokenizer, rows, max_len, batch_size):
    ex = mc.encode_sst2(tokenizer, rows, max_len)
    preds = [0] * len(ex)
    for idx, batch in _batches(ex, batch_size):
        logits = model(batch["input_ids"], batch["attention_mask"], "sentiment")
        for i, p in zip(idx, logits.argmax(-1).tolist()):
            preds[i] = p
    correct = sum(int(p == r[1]) for p, r in zip(preds, rows))
    return {"accuracy": correct / len(rows), "n": len(rows), "n_correct": correct}


@torch.no_grad()
def predict_word_tags(model, tokenizer, sents, max_len, batch_size):
    """Word-level IOB2 predictions (the first sub-token's label); truncated words get O."""
    ex = mc.encode_conll(tokenizer, sents, max_len)
    out = [None] * len(ex)
    truncated = 0
    for idx, batch in _batches(ex, batch_size):
        pred = model(batch["input_ids"], batch["attention_mask"], "ner").argmax(-1).tolist()
        for row, i in enumerate(idx):
            e = ex[i]
            tags = ["O"] * e["n_words"]
            for wid, pos in e["first_pos"].items():
                tags[wid] = mc.NER_LABELS[pred[row][pos]]
            truncated += e["n_words"] - len(e["first_pos"])
            out[i] = tags
    return out, truncated


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    t0 = time.time()
    model = mc.load_model(args.model_dir)
    tokenizer = mc.load_tokenizer(args.model_dir)
    sst_file = args.sst2_dir / ("test.tsv" if args.split == "test" else "dev.tsv")
    conll_file = args.conll_dir / ("test.txt" if args.split == "test" else "valid.txt")

    sst = sst2_accuracy(model, tokenizer, mc.read_sst2(sst_file), args.max_len, args.batch_size)
    print(
        f"SST-2 {sst_file.name}: accuracy {100 * sst['accuracy']:.2f}%"
        f" ({sst['n_correct']}/{sst['n']})"
    )

    sents = mc.read_conll(conll_file)
    pred, truncated = predict_word_tags(model, tokenizer, sents, args.max_len, args.batch_size)
    gold = [s[1] for s in sents]
    ner = mc.entity_prf(gold, pred)
    n_tok = sum(len(g) for g in gold)
    tok_acc = sum(a == b for g, p in zip(gold, pred) for a, b in zip(g, p)) / n_tok
    print(
        f"CoNLL-2003 {conll_file.name}: {len(sents)} sentences, {n_tok} tokens,"
        f" token accuracy {100 * tok_acc:.2f}%"
    )
    print(f"{'type':<8}{'P':>8}{'R':>8}{'F1':>8}{'gold':>7}{'pred':>7}")
    for name, m in list(ner["per_type"].items()) + [("overall", ner["overall"])]:
        print(
            f"{name:<8}{100 * m['precision']:>8.2f}{100 * m['recall']:>8.2f}{100 * m['f1']:>8.2f}"
            f"{m['n_gold']:>7}{m['n_pred']:>7}"
        )
    if truncated:
        print(f"warning: {truncated} words beyond --max-len {args.max_len} predicted as O")

    result = {
        "split": args.split,
        "sst2": {"file": str(sst_file), **sst},
        "conll2003": {
            "file": str(conll_file),
            "metric": "entity-level exact match (conlleval)",
            "token_accuracy": tok_acc,
            "truncated_words": truncated,
            **ner,
        },
        "eval_seconds": round(time.time() - t0, 1),
    }
    out_json = args.out_json or args.model_dir / (
        "eval.json" if args.split == "test" else "eval_dev.json"
    )
    out_json.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out_json}")


if __name__ == "__main__":
    main()
