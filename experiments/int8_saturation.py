"""Does fbgemm's int8 product saturate on this CPU, and what do 7-bit weights cost?

    python experiments/int8_saturation.py [--data /work/shared/data] [--sentences 64]

The int8 encoder (`src/infer/int8.rs`) runs each linear layer as
``fbgemm_linear_int8_weight_fp32_activation`` on per-token scaled activations (uint8,
zero point ~128) and per-channel scaled weights. On CPUs without VNNI, fbgemm adds pairs of
uint8·int8 products in saturating int16 (``vpmaddubsw``): with full-range weights a pair
can reach 255·127·2 = 64770 > 32767. This script feeds the embedded model's real layer
inputs (CoNLL dev sentences) through the operator exactly as the encoder does, and reports

* how many outputs have a pair of products beyond int16 (they go wrong where the CPU's
  kernel saturates), and the operator's largest deviation from exact integer arithmetic;
* the error against float32 of: 8-bit weights as run by this CPU, 7-bit weights as run by
  this CPU, and both in exact arithmetic (what a VNNI CPU computes).
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import torch
from presslens.training import common as mc

MODEL = Path(__file__).resolve().parents[1] / "python/presslens/models/news-minilm"


def layer_inputs(data_dir: Path, n_sentences: int) -> tuple[object, dict[str, torch.Tensor]]:
    model = mc.load_model(MODEL)
    tok = mc.load_tokenizer(MODEL)
    data = mc.read_conll(data_dir / "conll2003/valid.txt")[:n_sentences]
    inputs: dict[str, list[torch.Tensor]] = {}

    def hook(name):
        def f(_mod, args):
            inputs.setdefault(name, []).append(args[0].detach().reshape(-1, args[0].shape[-1]))

        return f

    for name, mod in model.bert.encoder.named_modules():
        if isinstance(mod, torch.nn.Linear):
            mod.register_forward_pre_hook(hook(name))
    with torch.no_grad():
        for tokens, _ in data:
            enc = tok(" ".join(tokens), return_tensors="pt")
            model.bert(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"])
    return model, {k: torch.cat(v) for k, v in inputs.items()}


def quantise_weight(w: torch.Tensor, qmax: int) -> tuple[torch.Tensor, torch.Tensor]:
    rows = w.abs().amax(1).clamp_min(1e-30)
    q = torch.quantize_per_tensor(w / rows[:, None], 1 / qmax, 0, torch.qint8).int_repr()
    return q, rows


def fbgemm_linear(x: torch.Tensor, w: torch.Tensor, qmax: int) -> torch.Tensor:
    """The encoder's QLinear (bias left out): per-token scaling, guard row, fbgemm op."""
    q, rows = quantise_weight(w, qmax)
    packed = torch.fbgemm_pack_quantized_matrix(q)
    col = q.sum(1, dtype=torch.int32)
    t = x.abs().amax(-1, keepdim=True).clamp_min(1e-30)
    s = torch.cat([x / t, torch.zeros(1, x.shape[1])])
    s[-1, 0], s[-1, 1] = 1, -1
    y = torch.fbgemm_linear_int8_weight_fp32_activation(
        s, q, packed, col, 1 / qmax, 0, torch.zeros(w.shape[0])
    )[:-1]
    return y * t * rows


def exact_linear(x: torch.Tensor, w: torch.Tensor, qmax: int) -> tuple[torch.Tensor, float]:
    """The same quantisation in exact arithmetic, and the share of outputs with an int16
    pair overflow."""
    x, w = x.double(), w.double()
    t = x.abs().amax(-1, keepdim=True).clamp_min(1e-30)
    sa, zp = 2 / 255, 127  # fbgemm's parameters for the range [-1, 1]
    qa = torch.clamp(torch.round(x / t / sa) + zp, 0, 255)
    q, rows = quantise_weight(w.float(), qmax)
    q = q.double()
    y = ((qa - zp) @ q.T) * sa / qmax * t * rows
    pairs = torch.einsum(
        "mkp,nkp->mnk", qa.reshape(qa.shape[0], -1, 2), q.reshape(q.shape[0], -1, 2)
    )
    overflow = ((pairs > 32767) | (pairs < -32768)).any(-1).double().mean().item()
    return y, overflow


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("/work/shared/data"))
    p.add_argument("--sentences", type=int, default=64)
    args = p.parse_args()
    warnings.filterwarnings("ignore")  # the fbgemm ops' deprecation notes
    torch.set_num_threads(1)
    model, inputs = layer_inputs(args.data, args.sentences)
    sums: dict[str, list[float]] = {}
    overflow = {8: [], 7: []}
    deviation = {8: 0.0, 7: 0.0}
    for name, mod in model.bert.encoder.named_modules():
        if not isinstance(mod, torch.nn.Linear):
            continue
        x, w = inputs[name], mod.weight.float()
        ref = (x.double() @ w.double().T)
        for bits, qmax in ((8, 127), (7, 63)):
            run = fbgemm_linear(x, w, qmax).double()
            exact, share = exact_linear(x, w, qmax)
            overflow[bits].append(share)
            deviation[bits] = max(
                deviation[bits], ((run - exact).abs().max() / exact.abs().max()).item()
            )
            for label, y in ((f"{bits}-bit weights, this CPU", run), (f"{bits}-bit, exact", exact)):
                acc = sums.setdefault(label, [0.0, 0.0, 0.0])
                acc[0] += ((y - ref) ** 2).sum().item()
                acc[1] += (ref**2).sum().item()
                acc[2] = max(acc[2], ((y - ref).abs().max() / ref.abs().max()).item())
    for bits in (8, 7):
        print(
            f"{bits}-bit weights: outputs with an int16 pair overflow "
            f"{100 * sum(overflow[bits]) / len(overflow[bits]):.3f}%; "
            f"this CPU vs exact integer arithmetic: worst {100 * deviation[bits]:.3f}% "
            "of a layer's largest output"
        )
    print("error against float32 (all encoder linear layers):")
    for label, (err, norm, worst) in sums.items():
        print(
            f"  {label:28s} relative RMS {100 * (err / norm) ** 0.5:.3f}%  "
            f"worst {100 * worst:.3f}% of a layer's largest output"
        )


if __name__ == "__main__":
    main()
