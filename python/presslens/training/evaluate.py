"""``presslens evaluate``: score a model through presslens' own inference path.

* Sentiment: accuracy on an SST-2-format TSV (``sst2/test.tsv`` is the labelled GLUE dev
  set, the standard evaluation).
* NER: entity-level exact-match precision/recall/F1 per type and overall (the conlleval
  convention) on a CoNLL IOB2 file (``conll2003/test.txt``). Each sentence's tokens are
  joined by spaces and run through the same Rust inference as ``presslens run``; an entity
  counts when its type and character span equal a gold entity's.
* News sentiment: on a NewsMTSC JSONL file (``newsmtsc/devtest_mt.jsonl``), the target
  head's macro-F1 and accuracy over the gold targets (NewsMTSC's measure: each target's
  span is given, as the entity mentions are in a run), and the sentence head's macro-F1
  over the sentences whose targets all agree (their common label is the sentence's).

Any model presslens can load works: the embedded default, a local folder, a hub id.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from presslens.training import common as mc


def _prf(correct: int, n_pred: int, n_gold: int) -> dict:
    p = correct / n_pred if n_pred else 0.0
    r = correct / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": p,
        "recall": r,
        "f1": f,
        "n_gold": n_gold,
        "n_pred": n_pred,
        "n_correct": correct,
    }


def span_prf(gold: list[set], pred: list[set]) -> dict:
    """Exact-match P/R/F1 over per-sentence sets of ``(type, start, end)`` entities,
    overall and per type."""
    if len(gold) != len(pred):
        raise ValueError("gold and predicted corpora differ in number of sentences")
    n_gold, n_pred, n_correct = Counter(), Counter(), Counter()
    for g, p in zip(gold, pred):
        n_gold.update(e[0] for e in g)
        n_pred.update(e[0] for e in p)
        n_correct.update(e[0] for e in g & p)
    types = sorted(set(n_gold) | set(n_pred))
    return {
        "overall": _prf(sum(n_correct.values()), sum(n_pred.values()), sum(n_gold.values())),
        "per_type": {t: _prf(n_correct[t], n_pred[t], n_gold[t]) for t in types},
    }


def gold_char_spans(tokens: list[str], tags: list[str]) -> tuple[str, set]:
    """The sentence as ``" ".join(tokens)`` and its gold entities as character spans."""
    starts, pos = [], 0
    for tok in tokens:
        starts.append(pos)
        pos += len(tok) + 1
    spans = {(etype, starts[a], starts[b] + len(tokens[b])) for etype, a, b in mc.get_chunks(tags)}
    return " ".join(tokens), spans


def evaluate(
    model: str | None = None,
    *,
    sst2: str | Path | None = None,
    conll: str | Path | None = None,
    newsmtsc: str | Path | None = None,
    device: str = "cpu",
    batch_size: int = 64,
    threads: int | None = None,
    precision: str = "auto",
) -> dict:
    """Evaluate ``model`` (``None`` = the embedded default) on an SST-2-format TSV, a CoNLL
    IOB2 file (a folder means its ``test.tsv`` / ``test.txt``) and/or a NewsMTSC JSONL file
    (a folder means its ``devtest_mt.jsonl``). Returns the figures.

    SST-2 is scored positive vs negative only: a sentence counts as positive when its
    polarity, P(positive) − P(negative), is above 0 (for a two-class model, its label)."""
    import presslens

    result: dict = {"model": model or "default", "encoder_precision": precision}
    if sst2 is None and conll is None and newsmtsc is None:
        raise ValueError(
            "give sentiment data (sst2=...), NER data (conll=...) and/or NewsMTSC (newsmtsc=...)"
        )
    mc.offline_env()
    if sst2 is not None:
        path = Path(sst2) / "test.tsv" if Path(sst2).is_dir() else Path(sst2)
        rows = mc.read_sst2(path)
        t = time.time()
        sents, _ = presslens.predict(
            [r[0] for r in rows],
            sentiment_model=model,
            ner_model="none",
            device=device,
            batch_size=batch_size,
            threads=threads,
            precision=precision,
        )
        secs = time.time() - t
        pred = [int(p > 0) for p in sents.sort("sent_idx")["polarity"].to_list()]
        correct = sum(int(r[1] == p) for r, p in zip(rows, pred))
        result["sst2"] = {
            "file": str(path),
            "accuracy": correct / len(rows),
            "n": len(rows),
            "n_correct": correct,
            "sentences_per_s": round(len(rows) / secs, 1),
        }
    if conll is not None:
        path = Path(conll) / "test.txt" if Path(conll).is_dir() else Path(conll)
        data = mc.read_conll(path)
        texts, gold = zip(*(gold_char_spans(toks, tags) for toks, tags in data))
        t = time.time()
        _, ents = presslens.predict(
            list(texts),
            sentiment_model="none",
            ner_model=model,
            device=device,
            batch_size=batch_size,
            threads=threads,
            precision=precision,
        )
        secs = time.time() - t
        pred: list[set] = [set() for _ in texts]
        for i, label, start, end in ents.select("sent_idx", "label", "start", "end").iter_rows():
            pred[i].add((label, start, end))
        result["conll"] = {
            "file": str(path),
            "metric": "entity-level exact match (type and character span)",
            "sentences": len(texts),
            "sentences_per_s": round(len(texts) / secs, 1),
            **span_prf(list(gold), pred),
        }
    if newsmtsc is not None:
        path = Path(newsmtsc) / "devtest_mt.jsonl" if Path(newsmtsc).is_dir() else Path(newsmtsc)
        result["newsmtsc"] = _newsmtsc(
            path,
            model,
            device=device,
            batch_size=batch_size,
            threads=threads,
            precision=precision,
        )
    return result


def _newsmtsc(path: Path, model: str | None, **options) -> dict:
    """Target and sentence scores on a NewsMTSC file through the Rust inference."""
    import presslens

    data = mc.read_newsmtsc(path)
    texts = [text for text, _ in data]
    spans = [[(a, b) for a, b, _ in targets] for _, targets in data]
    t = time.time()
    sents, targets = presslens.predict(
        texts, sentiment_model=model, ner_model=model, targets=spans, **options
    )
    secs = time.time() - t
    index = {label.lower(): i for i, label in enumerate(mc.TARGET_LABELS)}
    pred = {
        (i, a, b): index.get(label, -1)
        for i, a, b, label in targets.select(
            "sent_idx", "start", "end", "sentiment_label"
        ).iter_rows()
    }
    gold_t = [label for _, ts in data for _, _, label in ts]
    pred_t = [pred.get((i, a, b), -1) for i, (_, ts) in enumerate(data) for a, b, _ in ts]
    n_classes = len(mc.TARGET_LABELS)
    sent_pred = sents.sort("sent_idx")["sentiment_label"].to_list()
    agree = [(i, mc.sentence_label(ts)) for i, (_, ts) in enumerate(data)]
    agree = [(i, g) for i, g in agree if g != mc.IGNORE_INDEX]
    gold_s = [g for _, g in agree]
    pred_s = [index.get(sent_pred[i], -1) for i, _ in agree]
    return {
        "file": str(path),
        "sentences": len(texts),
        "sentences_per_s": round(len(texts) / secs, 1),
        "targets": len(gold_t),
        "target_macro_f1": mc.macro_f1(gold_t, pred_t, n_classes),
        "target_accuracy": sum(int(g == p) for g, p in zip(gold_t, pred_t)) / len(gold_t),
        "agreeing_sentences": len(gold_s),
        "sentence_macro_f1": mc.macro_f1(gold_s, pred_s, n_classes) if gold_s else None,
    }


def format_result(result: dict) -> str:
    lines = [f"model: {result['model']} (encoder precision {result['encoder_precision']})"]
    if "sst2" in result:
        s = result["sst2"]
        lines.append(
            f"SST-2 {s['file']}: accuracy {100 * s['accuracy']:.2f}% "
            f"({s['n_correct']}/{s['n']}; {s['sentences_per_s']} sentences/s)"
        )
    if "conll" in result:
        c = result["conll"]
        lines.append(
            f"CoNLL {c['file']}: {c['sentences']} sentences ({c['sentences_per_s']} sentences/s)"
        )
        lines.append(f"{'type':<8}{'P':>8}{'R':>8}{'F1':>8}{'gold':>7}{'pred':>7}")
        for name, m in [*c["per_type"].items(), ("overall", c["overall"])]:
            lines.append(
                f"{name:<8}{100 * m['precision']:>8.2f}{100 * m['recall']:>8.2f}"
                f"{100 * m['f1']:>8.2f}{m['n_gold']:>7}{m['n_pred']:>7}"
            )
    if "newsmtsc" in result:
        m = result["newsmtsc"]
        sent_f1 = m["sentence_macro_f1"]
        lines.append(
            f"NewsMTSC {m['file']}: {m['sentences']} sentences, {m['targets']} targets "
            f"({m['sentences_per_s']} sentences/s)"
        )
        lines.append(
            f"  targets: macro-F1 {100 * m['target_macro_f1']:.2f}, "
            f"accuracy {100 * m['target_accuracy']:.2f}%"
        )
        lines.append(
            f"  sentences whose targets agree ({m['agreeing_sentences']}): macro-F1 "
            + ("n/a" if sent_f1 is None else f"{100 * sent_f1:.2f}")
        )
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="presslens evaluate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "model",
        nargs="?",
        default=None,
        help="model folder or hub id (default: the embedded model)",
    )
    p.add_argument("--sst2", type=Path, help="SST-2 TSV (or folder with test.tsv)")
    p.add_argument("--conll", type=Path, help="CoNLL IOB2 file (or folder with test.txt)")
    p.add_argument(
        "--newsmtsc", type=Path, help="NewsMTSC JSONL file (or folder with devtest_mt.jsonl)"
    )
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument(
        "--precision",
        default="auto",
        choices=["auto", "int8", "fp32"],
        help="encoder arithmetic (default auto: int8 on CPU, fp32 on CUDA)",
    )
    p.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    import presslens

    try:
        result = evaluate(
            args.model,
            sst2=args.sst2,
            conll=args.conll,
            newsmtsc=args.newsmtsc,
            device=args.device,
            batch_size=args.batch_size,
            threads=args.threads,
            precision=args.precision,
        )
    except (mc.DataError, ValueError, OSError, presslens.PresslensError) as e:
        print(f"presslens evaluate: error: {e}", file=sys.stderr)
        return 1
    print(format_result(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
