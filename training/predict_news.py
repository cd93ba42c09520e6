#!/usr/bin/env python
"""Run a presslens multi-task model over plain-text news files (sanity check).

Splits each file into sentences (naive regex), words into CoNLL-like tokens, and
prints each sentence's sentiment and entities, then entity counts per type and a
check list of expected names.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

import multitask_common as mc
import torch

SENT_SPLIT = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"'“‘(]?[A-Z0-9])")
# CoNLL-like tokens: hyphenated words stay whole, possessive 's is split off
WORD = re.compile(r"(?:[A-Za-z]\.){2,}|\w+(?:[-.]\w+)*(?:['’](?!s\b)\w+)*|['’]s\b|[^\w\s]")


def sentences(text: str) -> list[str]:
    out = []
    for para in re.split(r"\n\s*\n|\n", text):
        para = para.strip()
        if len(para.split()) < 4:  # headlines' bylines, lone numbers
            continue
        out.extend(s.strip() for s in SENT_SPLIT.split(para) if s.strip())
    return out


@torch.no_grad()
def analyse(model, tokenizer, sents: list[str], batch_size: int = 32):
    words = [WORD.findall(s) for s in sents]
    ex = mc.encode_conll(tokenizer, [(w, []) for w in words], 512)
    results = []
    for start in range(0, len(ex), batch_size):
        chunk = ex[start : start + batch_size]
        batch = mc.collate([{"ids": e["ids"]} for e in chunk])
        sent_logits, ner_logits = model.forward_both(batch["input_ids"], batch["attention_mask"])
        probs = sent_logits.softmax(-1).tolist()
        tags = ner_logits.argmax(-1).tolist()
        for row, e in enumerate(chunk):
            i = start + row
            word_tags = ["O"] * e["n_words"]
            for wid, pos in e["first_pos"].items():
                word_tags[wid] = mc.NER_LABELS[tags[row][pos]]
            ents = [(t, " ".join(words[i][s : end + 1])) for t, s, end in mc.get_chunks(word_tags)]
            label = mc.SENTIMENT_LABELS[int(probs[row][1] > 0.5)]
            results.append((sents[i], label, probs[row][1], ents))
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("model_dir", type=Path)
    p.add_argument("files", nargs="+", type=Path)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--show", type=int, default=6, help="sentences to print per file")
    p.add_argument(
        "--expect",
        default="Kishida,Lavrov,Putin,Abe,NATO,Kuril Islands,Hokkaido,Moscow",
        help="comma-separated names to look for among the entities",
    )
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    model = mc.load_model(args.model_dir)
    tokenizer = mc.load_tokenizer(args.model_dir)

    found = Counter()
    for path in args.files:
        sents = sentences(path.read_text(encoding="utf-8"))
        res = analyse(model, tokenizer, sents)
        print(f"\n=== {path.name}: {len(sents)} sentences")
        for sent, label, p_pos, ents in res[: args.show]:
            print(f"- [{label} {p_pos:.2f}] {sent[:160]}")
            print(f"    entities: {ents}")
        for _, _, _, ents in res:
            found.update(ents)
    print("\n=== most frequent entities (type, text): count")
    for (etype, text), n in found.most_common(40):
        print(f"{etype:<5} {text:<30} {n}")
    print("\n=== expected names")
    for name in [x.strip() for x in args.expect.split(",") if x.strip()]:
        hits = {(t, s): n for (t, s), n in found.items() if name.lower() in s.lower()}
        top = dict(sorted(hits.items(), key=lambda kv: -kv[1])[:4])
        print(f"{name:<15} {'FOUND' if hits else 'missing':<8} {top}")


if __name__ == "__main__":
    main()
