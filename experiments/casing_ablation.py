"""Issue 14: the casing / Viterbi ablation, through presslens' own inference path.

Makes variants of a model folder that differ only in ``config.json`` (the weights are
shared by hard links): ``presslens_casing`` removed (type ids all 0, casing off) and
``"presslens_ner_decoding": "argmax"`` (Viterbi off), then runs ``presslens evaluate`` on
each. Also measures how often the sentiment label changes when the casing classes are
those of the lower-cased text (what SST-2 looks like) instead of the real text.

    python experiments/casing_ablation.py --new MODEL_DIR --old OLD_MODEL_DIR \\
        --data ../shared/data --seeds seeds --out experiments/logs/casing_ablation.json

``--old`` (a model trained without casing classes) is optional; ``--no-conll-dev`` skips the
CoNLL dev figures, for a model trained on CoNLL ``valid.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

import presslens
from presslens.training import evaluate as ev


def variant(src: Path, dst: Path, casing: bool, viterbi: bool) -> Path:
    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if f.is_file() and f.name != "config.json":
            os.link(f, dst / f.name)
    cfg = json.loads((src / "config.json").read_text())
    if not casing:
        cfg.pop("presslens_casing", None)
    cfg["presslens_ner_decoding"] = "viterbi" if viterbi else "argmax"
    (dst / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    return dst


def f1s(conll: dict) -> dict:
    out = {"overall": round(100 * conll["overall"]["f1"], 2)}
    for t, m in conll["per_type"].items():
        out[t] = round(100 * m["f1"], 2)
    return out


def seed_sentences(seeds: Path) -> list[str]:
    a = presslens.analyze(
        [p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt"))],
        sentiment_model="none",
        ner_model="none",
    )
    return [t for t in a.sentences.sort(["doc_id", "sent_idx"])["text"].to_list() if t.strip()]


def agreement(model: str, texts: list[str], other: list[str], other_model: str | None = None):
    a, _ = presslens.predict(texts, sentiment_model=model, ner_model="none")
    b, _ = presslens.predict(other, sentiment_model=other_model or model, ner_model="none")
    la = a.sort("sent_idx")["sentiment_label"].to_list()
    lb = b.sort("sent_idx")["sentiment_label"].to_list()
    same = sum(x == y for x, y in zip(la, lb))
    return {"n": len(la), "same": same, "agreement": round(100 * same / len(la), 2)}


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--new", type=Path, required=True)
    p.add_argument("--old", type=Path, help="a model trained without casing classes")
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--seeds", type=Path, required=True)
    p.add_argument("--work", type=Path, default=Path("out/ablation"))
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--no-conll-dev", action="store_true", help="the model was trained on it")
    a = p.parse_args()
    conll, sst2 = a.data / "conll2003", a.data / "sst2"
    res: dict = {"new": str(a.new), "old": a.old and str(a.old), "conll_test": {}}
    if not a.no_conll_dev:
        res["conll_dev"] = {}
    runs = [
        ("new casing on, Viterbi on", a.new, True, True),
        ("new casing on, Viterbi off", a.new, True, False),
        ("new casing off, Viterbi on", a.new, False, True),
        ("new casing off, Viterbi off", a.new, False, False),
    ]
    if a.old:
        runs += [
            ("old (no casing), Viterbi on", a.old, False, True),
            ("old (no casing), Viterbi off", a.old, False, False),
        ]
    for i, (name, src, casing, vit) in enumerate(runs):
        m = variant(src, a.work / f"v{i}", casing, vit)
        t = time.time()
        test = ev.evaluate(str(m), conll=conll / "test.txt")["conll"]
        res["conll_test"][name] = f1s(test)
        print(f"{name}: test {f1s(test)} ({time.time() - t:.0f}s)", flush=True)
        if "conll_dev" in res:
            res["conll_dev"][name] = f1s(ev.evaluate(str(m), conll=conll / "valid.txt")["conll"])
            print(f"{name}: dev {res['conll_dev'][name]}", flush=True)
    res["sst2_test"] = {}
    sst2_runs = [("new casing on", a.new, True), ("new casing off", a.new, False)]
    if a.old:
        sst2_runs.append(("old", a.old, False))
    for name, src, casing in sst2_runs:
        m = variant(src, a.work / f"s-{casing}-{src.name}", casing, True)
        acc = ev.evaluate(str(m), sst2=sst2 / "test.tsv")["sst2"]["accuracy"]
        res["sst2_test"][name] = round(100 * acc, 2)
        print(f"SST-2 {name}: {100 * acc:.2f}", flush=True)

    # Sentiment: real casing vs the casing of the lower-cased text (SST-2-like input).
    seeds = seed_sentences(a.seeds)
    news = [" ".join(toks) for toks, _ in ev.mc.read_conll(conll / "test.txt")]
    res["sentiment_agreement"] = {}
    for name, texts in [("seeds", seeds), ("conll_test_sentences", news)]:
        lower = [t.lower() for t in texts]
        r = {
            "new: real casing vs lower-cased text": agreement(str(a.new), texts, lower),
            "new: casing ids vs all type ids 0": agreement(
                str(a.new), texts, texts, str(a.work / "v2")
            ),
        }
        if a.old:
            r["old: real vs lower-cased text (control, uncased)"] = agreement(
                str(a.old), texts, lower
            )
            r["new vs old, real text"] = agreement(str(a.new), texts, texts, str(a.old))
        res["sentiment_agreement"][name] = r
        print(name, json.dumps(r), flush=True)
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(res, indent=2) + "\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
