"""Which linear layers can run in int8 without costing quality? A sensitivity pass on the
**dev** splits (CoNLL-2003 valid, SST-2 dev), never the test sets the model card reports.

Every variant quantises the embedded model's linear layers the way the Rust int8 encoder
does (``src/infer/int8.rs``: per-tensor symmetric int8 weights, fbgemm with per-call
activation quantisation), except the group it keeps in float32. Prints, per variant, CoNLL
dev entity F1 (word level, argmax labels, conlleval chunks) and SST-2 dev accuracy, and
the share of linear-layer FLOPs left in float32.

    python experiments/int8_sensitivity.py --data /work/shared/data
"""

from __future__ import annotations

import argparse
import copy
import re
import time
from pathlib import Path

import torch
from presslens.training import common as mc
from torch import nn

MODEL = Path(__file__).resolve().parents[1] / "python/presslens/models/news-minilm"


class Int8Linear(nn.Module):
    """The Rust encoder's QLinear: symmetric int8 weight, zero point 0, fbgemm with
    per-call activation quantisation. ``per_row``: each output row of the weight scaled to
    the same range first (per-channel weights; the output is scaled back). ``per_token``:
    each input row scaled to max |x| = 1 before fbgemm quantises the whole input with one
    range (per-token activations; scaled back after)."""

    per_row = False
    per_token = False
    per_token_only: re.Pattern | None = None

    def __init__(self, lin: nn.Linear, name: str = ""):
        super().__init__()
        self.token_scaled = self.per_token and (
            self.per_token_only is None or bool(self.per_token_only.search(name))
        )
        w = lin.weight.detach().float().contiguous()
        self.rows = w.abs().amax(1).clamp_min(1e-12) if self.per_row else None
        if self.rows is not None:
            w = w / self.rows[:, None]
        self.scale = max(w.abs().max().item() / 127.0, 1e-12)
        self.q = torch.quantize_per_tensor(w, self.scale, 0, torch.qint8).int_repr().contiguous()
        self.packed = torch.fbgemm_pack_quantized_matrix(self.q)
        self.col_offsets = self.q.sum(1, dtype=torch.int32).contiguous()
        self.bias = lin.bias.detach().float().contiguous()
        self.zero = torch.zeros_like(self.bias)

    def forward(self, x):
        if not (self.per_row or self.token_scaled):
            return torch.fbgemm_linear_int8_weight_fp32_activation(
                x.contiguous(), self.q, self.packed, self.col_offsets, self.scale, 0, self.bias
            )
        r = x.abs().amax(-1, keepdim=True).clamp_min(1e-12) if self.token_scaled else None
        xin = (x / r if r is not None else x).contiguous()
        y = torch.fbgemm_linear_int8_weight_fp32_activation(
            xin, self.q, self.packed, self.col_offsets, self.scale, 0, self.zero
        )
        if r is not None:
            y = y * r
        if self.rows is not None:
            y = y * self.rows
        return y + self.bias


def quantise(model: nn.Module, keep: re.Pattern | None) -> nn.Module:
    """A copy whose encoder Linears are int8, except those whose name matches ``keep``
    (the task heads and the pooler always stay float32, as in Rust)."""
    model = copy.deepcopy(model)
    for name, module in list(model.bert.encoder.named_modules()):
        if isinstance(module, nn.Linear) and not (keep and keep.search(name)):
            parent_name, _, child = name.rpartition(".")
            parent = model.bert.encoder.get_submodule(parent_name)
            setattr(parent, child, Int8Linear(module, name))
    return model


def linear_flops(model: nn.Module, keep: re.Pattern | None) -> float:
    total = kept = 0
    for name, module in model.bert.encoder.named_modules():
        if isinstance(module, nn.Linear):
            n = module.in_features * module.out_features
            total += n
            kept += n if keep and keep.search(name) else 0
    return kept / total


def batches(examples: list[dict], size: int = 64):
    order = sorted(range(len(examples)), key=lambda i: len(examples[i]["ids"]))
    for k in range(0, len(order), size):
        idx = order[k : k + size]
        yield idx, mc.collate([examples[i] for i in idx])


@torch.inference_mode()
def ner_f1(model, examples, sents) -> float:
    pred_tags: list[list[str]] = [[] for _ in examples]
    for idx, b in batches(examples):
        labels = model(b["input_ids"], b["attention_mask"], "ner", b["token_type_ids"]).argmax(-1)
        for row, i in enumerate(idx):
            e = examples[i]
            tags = ["O"] * e["n_words"]
            for w, pos in e["first_pos"].items():
                tags[w] = model.ner_labels[labels[row, pos].item()]
            pred_tags[i] = tags
    correct = n_pred = n_gold = 0
    for (_, gold), pred in zip(sents, pred_tags):
        g, p = set(mc.get_chunks(gold)), set(mc.get_chunks(pred))
        correct += len(g & p)
        n_pred += len(p)
        n_gold += len(g)
    prec, rec = correct / max(n_pred, 1), correct / max(n_gold, 1)
    return 2 * prec * rec / max(prec + rec, 1e-12)


@torch.inference_mode()
def sst2_predictions(model, examples) -> list[int]:
    preds = [0] * len(examples)
    for idx, b in batches(examples):
        logits = model(b["input_ids"], b["attention_mask"], "sentiment", b["token_type_ids"])
        pred = logits.argmax(-1)
        for r, i in enumerate(idx):
            preds[i] = int(pred[r].item())
    return preds


VARIANTS = {
    "fp32 (reference)": "ALL",
    "int8 everywhere": None,
    "fp32 FFN out (all layers)": r"output\.dense$(?<!attention\.output\.dense)",
    "fp32 FFN in (all layers)": r"intermediate\.dense$",
    "fp32 attention out": r"attention\.output\.dense$",
    "fp32 q,k,v": r"attention\.self\.",
    "fp32 layer 0": r"^layer\.0\.",
    "fp32 last layer": r"^layer\.5\.",
    "fp32 FFN out, last 2 layers": r"^layer\.[45]\.output\.dense$",
    "fp32 FFN out, first 2 layers": r"^layer\.[01]\.output\.dense$",
    "fp32 FFN out, layer 0": r"^layer\.0\.output\.dense$",
    "fp32 FFN in+out, layer 0": r"^layer\.0\.(intermediate|output)\.dense$",
    "fp32 FFN out, layers 0-2": r"^layer\.[012]\.output\.dense$",
    "fp32 layer 0, FFN out all": r"^layer\.0\.|(?<!attention)\.output\.dense$",
    "fp32 layers 0-1": r"^layer\.[01]\.",
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", nargs="*", help="run the variants whose name contains one of these")
    ap.add_argument("--per-row", action="store_true", help="per-channel weight scales")
    ap.add_argument("--per-token", action="store_true", help="per-token activation scales")
    ap.add_argument("--per-token-only", help="per-token scales only for layers matching this regex")
    args = ap.parse_args()
    mc.offline_env()
    torch.set_num_threads(args.threads)
    model = mc.load_model(MODEL)
    tok = mc.load_tokenizer(MODEL)
    sents = mc.read_conll(args.data / "conll2003/valid.txt")
    ner_ex = mc.encode_conll(tok, sents, 128)
    sst_ex = mc.encode_sst2(tok, mc.read_sst2(args.data / "sst2/dev.tsv"), 128)
    print(f"CoNLL dev {len(sents)} sentences, SST-2 dev {len(sst_ex)} sentences")
    print(f"{'variant':32s} {'NER F1':>7s} {'SST-2':>7s} {'flips':>6s} {'fp32 share':>10s}"
          f" {'s':>5s}")
    reference = sst2_predictions(model, sst_ex)
    ap_only = args.only
    Int8Linear.per_row = args.per_row
    Int8Linear.per_token = args.per_token or bool(args.per_token_only)
    if args.per_token_only:
        Int8Linear.per_token_only = re.compile(args.per_token_only)
    print(
        f"per-channel weights {args.per_row}, per-token activations {Int8Linear.per_token}"
        f" (layers matching {args.per_token_only or 'all'})"
    )
    for name, keep in VARIANTS.items():
        if ap_only and not any(o in name for o in ap_only):
            continue
        t = time.time()
        if keep == "ALL":
            m, share = model, 1.0
        else:
            pattern = re.compile(keep) if keep else None
            m, share = quantise(model, pattern), linear_flops(model, pattern)
        f1, preds = ner_f1(m, ner_ex, sents), sst2_predictions(m, sst_ex)
        acc = sum(int(p == e["label"]) for p, e in zip(preds, sst_ex)) / len(sst_ex)
        flips = sum(int(p != r) for p, r in zip(preds, reference))
        print(
            f"{name:32s} {100 * f1:7.2f} {100 * acc:7.2f} {flips:6d} {100 * share:9.0f}%"
            f" {time.time() - t:5.1f}"
        )


if __name__ == "__main__":
    main()
