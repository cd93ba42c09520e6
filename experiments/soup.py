"""Average the weights of presslens models fine-tuned from the same base (a "model soup",
Wortsman et al. 2022): one model, the cost of one at inference.

    python experiments/soup.py out/run-a out/run-b [out/run-c ...] -o out/soup

The models must share architecture, labels and casing classes (they do when trained by
``presslens train`` from the same base with the same data). Weights are averaged in float32
and saved as ``presslens train`` saves them (float16); tokenizer files and config come from
the first model, ``training_args.json`` lists the ingredients.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from presslens.training import common as mc


def soup(models: list[Path], out: Path) -> None:
    import torch

    loaded = [mc.load_model(m) for m in models]
    first = loaded[0]
    for path, m in zip(models[1:], loaded[1:]):
        if (m.sentiment_labels, m.ner_labels, m.casing) != (
            first.sentiment_labels,
            first.ner_labels,
            first.casing,
        ):
            raise ValueError(f"{path}: labels or casing differ from {models[0]}")
    states = [m.state_dict() for m in loaded]
    avg = {}
    for name, tensor in states[0].items():
        if any(s[name].shape != tensor.shape for s in states[1:]):
            raise ValueError(f"{name}: shapes differ between the models")
        if tensor.is_floating_point():
            avg[name] = torch.stack([s[name].float() for s in states]).mean(0)
        else:
            avg[name] = tensor
    first.load_state_dict(avg)
    extra = {"soup_of": [str(m) for m in models]}
    for m in models:
        args = m / "training_args.json"
        if args.is_file():
            extra.setdefault("ingredients", []).append(json.loads(args.read_text()))
    mc.save_model(first, models[0], out, extra)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("models", nargs="+", type=Path)
    p.add_argument("-o", "--out", type=Path, required=True)
    args = p.parse_args(argv)
    if len(args.models) < 2:
        p.error("give at least two models")
    soup(args.models, args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
