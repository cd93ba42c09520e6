"""Which int8 path for the encoder? Measured side by side in one process on the embedded
model's encoder, on batches shaped like presslens' (32 windows of seed-like lengths):

* fp32: the encoder as today;
* dynamic: ``torch.ao.quantization.quantize_dynamic`` (quantized::linear_dynamic, what a
  TorchScript export would run through ``tch::CModule``);
* fbgemm: every Linear through ``torch.fbgemm_linear_int8_weight_fp32_activation`` with
  weights packed once by ``fbgemm_pack_quantized_matrix`` — the operators tch exposes, so
  the Rust encoder could run them itself on any BERT checkpoint, quantised on load.

Prints the median ms per batch for 1 and 2 intra-op threads and how many token labels
(NER argmax) each int8 variant changes against fp32.

    python experiments/int8_choice.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import copy
import statistics
import time
from pathlib import Path

import torch
from presslens.training.common import load_model
from torch import nn


class FbgemmLinear(nn.Module):
    """A Linear whose weight is quantised once (per tensor, symmetric int8 as
    quantize_dynamic's default) and run by fbgemm with fp32 activations."""

    def __init__(self, lin: nn.Linear):
        super().__init__()
        w = lin.weight.detach().float().contiguous()
        q, col_offsets, scale, zero_point = torch.fbgemm_linear_quantize_weight(w)
        self.packed = torch.fbgemm_pack_quantized_matrix(q)
        self.q, self.col_offsets = q, col_offsets
        self.scale, self.zero_point = scale, zero_point
        self.bias = lin.bias.detach().float().contiguous()

    def forward(self, x):
        return torch.fbgemm_linear_int8_weight_fp32_activation(
            x, self.q, self.packed, self.col_offsets, self.scale, self.zero_point, self.bias
        )


def swap_linears(module: nn.Module) -> nn.Module:
    for name, child in module.named_children():
        if isinstance(child, nn.Linear):
            setattr(module, name, FbgemmLinear(child))
        else:
            swap_linears(child)
    return module


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    model = load_model(Path(__file__).resolve().parents[1] / "python/presslens/models/news-minilm")
    variants = {
        "fp32": model,
        "dynamic": torch.ao.quantization.quantize_dynamic(
            copy.deepcopy(model), {nn.Linear}, dtype=torch.qint8
        ),
        "fbgemm": swap_linears(copy.deepcopy(model)),
    }
    g = torch.Generator().manual_seed(0)
    lengths = [min(60, 8 + int(x)) for x in torch.randint(0, 40, (32,), generator=g)]
    lengths.sort(reverse=True)
    width = lengths[0]
    ids = torch.randint(1000, 30000, (32, width), generator=g)
    mask = torch.zeros(32, width, dtype=torch.long)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    types = torch.randint(0, 3, (32, width), generator=g)
    with torch.inference_mode():
        ref = variants["fp32"](ids, mask, "ner", types).argmax(-1)[mask.bool()]
        for name, m in variants.items():
            got = m(ids, mask, "ner", types).argmax(-1)[mask.bool()]
            same = (got == ref).float().mean().item()
            row = []
            for threads in (1, 2):
                torch.set_num_threads(threads)
                for _ in range(2):
                    m(ids, mask, "ner", types)
                times = []
                for _ in range(args.rounds):
                    t = time.perf_counter()
                    m(ids, mask, "ner", types)
                    times.append((time.perf_counter() - t) * 1000)
                row.append(f"{threads} thread(s) {statistics.median(times):7.1f} ms")
            print(f"{name:8s} {'  '.join(row)}  token labels = fp32: {same:.2%}")


if __name__ == "__main__":
    main()
