"""Mention-level (target-dependent) sentiment: the `entities` table's sentiment columns, the
analysis tables built from them, and the Rust target head against the PyTorch reference."""

from __future__ import annotations

import polars as pl
import presslens
import pytest
from conftest import SEEDS, base_encoder_dir
from presslens import _presslens

# The seed articles: the tiny random model finds entities in them, several in some sentences.
TEXTS = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]


def analyze(model, **kw):
    return presslens.analyze(TEXTS, sentiment_model=model, ner_model=model, **kw)


@pytest.fixture(scope="module")
def two_class_model(tmp_path_factory):
    """An SST-2 style model: two sentiment labels, no target head."""
    d = tmp_path_factory.mktemp("sst2-bert")
    _presslens.write_random_model(
        d, base_encoder_dir() / "vocab.txt", 1, sentiment_classes=2, target_pooling=None
    )
    return d


def with_sentence_polarity(res) -> pl.DataFrame:
    sents = res.sentences.select(
        "doc_id", "sent_idx", pl.col("polarity").alias("sent_polarity"),
        pl.col("sentiment_label").alias("sent_label"),
    )
    return res.entities.join(sents, on=["doc_id", "sent_idx"], how="left")


def test_entities_carry_the_sentiment_toward_each_mention(tiny_model):
    res = analyze(tiny_model)
    e = res.entities
    assert e.schema["sentiment_label"] == pl.String
    assert e.schema["sentiment_score"] == pl.Float32
    assert e.schema["polarity"] == pl.Float32
    assert e.height > 10
    assert e["polarity"].null_count() == 0 and e["polarity"].is_between(-1, 1).all()
    assert set(e["sentiment_label"]) <= {"positive", "neutral", "negative"}
    assert e["sentiment_score"].is_between(1 / 3, 1).all()  # the top of three probabilities
    m = res.manifest
    assert m["mention_sentiment"] == "target"
    assert m["models"]["ner"]["target_head"] is True
    assert m["models"]["sentiment"]["sentiment_classes"] == 3
    assert "target" in m["models"]["ner"]["tasks"]
    # Not the sentence's polarity, and mentions of one sentence tell apart.
    joined = with_sentence_polarity(res)
    assert (joined["polarity"] != joined["sent_polarity"]).mean() > 0.9
    spread = joined.group_by("doc_id", "sent_idx").agg(
        pl.len().alias("n"), (pl.col("polarity").max() - pl.col("polarity").min()).alias("d")
    ).filter(pl.col("n") >= 2)
    assert spread.height >= 2 and (spread["d"] > 1e-4).all(), spread


def test_analysis_tables_are_built_from_the_mentions(tiny_model):
    res = analyze(tiny_model)
    # An entity is its name and its entity label (not the mention's NER label).
    e = res.entities.with_columns(
        pl.col("polarity").cast(pl.Float64), pl.col("entity_label").alias("label")
    )
    # entity_stats: mentions, their mean polarity and their labels, per entity.
    want = e.group_by("entity", "label").agg(
        pl.len().alias("mentions_want"),
        pl.col("polarity").mean().alias("mean_want"),
        *[(pl.col("sentiment_label") == x).sum().alias(f"n_{x}_want")
          for x in ("positive", "neutral", "negative")],
    )
    corpus = res.entity_stats.filter(pl.col("scope") == "corpus")
    assert corpus.schema["n_neutral"] == pl.Int64
    got = corpus.join(want, on=["entity", "label"], how="full", coalesce=True)
    assert got.height == corpus.height == want.height
    for col in ("mentions", "n_positive", "n_neutral", "n_negative"):
        assert (got[col] == got[f"{col}_want"]).all(), col
    assert ((got["mean_polarity"] - got["mean_want"]).abs() < 1e-6).all()
    assert got["n_neutral"].sum() + got["n_positive"].sum() + got["n_negative"].sum() == e.height
    # cooccurrence: per sentence the mean polarity of each entity's mentions, averaged.
    per_sent = e.group_by("doc_id", "sent_idx", "entity", "label").agg(pl.col("polarity").mean())
    a = per_sent.rename({"entity": "entity_a", "label": "label_a", "polarity": "pa"})
    b = per_sent.rename({"entity": "entity_b", "label": "label_b", "polarity": "pb"})
    pairs = (
        a.join(b, on=["doc_id", "sent_idx"])
        .filter((pl.col("entity_a") < pl.col("entity_b")) | (
            (pl.col("entity_a") == pl.col("entity_b")) & (pl.col("label_a") < pl.col("label_b"))))
        .group_by("entity_a", "label_a", "entity_b", "label_b")
        .agg(
            pl.len().alias("sentences_want"),
            ((pl.col("pa") + pl.col("pb")) / 2).mean().alias("mean_want"),
            pl.col("pa").mean().alias("a_want"),
            pl.col("pb").mean().alias("b_want"),
        )
    )
    keys = ["entity_a", "label_a", "entity_b", "label_b"]
    co = res.cooccurrence.join(pairs, on=keys, how="full", coalesce=True)
    assert co.height == res.cooccurrence.height == pairs.height > 0
    assert (co["sentences"] == co["sentences_want"]).all()
    for col, w in (("mean_polarity", "mean_want"), ("polarity_a", "a_want"),
                   ("polarity_b", "b_want")):
        assert ((co[col] - co[w]).abs() < 1e-6).all(), col
    assert (co["polarity_a"] != co["polarity_b"]).any()


def test_a_model_without_target_head_gives_mentions_their_sentence(two_class_model):
    res = analyze(two_class_model)
    assert res.manifest["mention_sentiment"] == "sentence"
    info = res.manifest["models"]["ner"]
    assert info["target_head"] is False and info["sentiment_classes"] == 2
    assert set(res.sentences["sentiment_label"]) <= {"positive", "negative"}
    joined = with_sentence_polarity(res)
    assert joined.height > 10
    assert (joined["polarity"] == joined["sent_polarity"]).all()
    assert (joined["sentiment_label"] == joined["sent_label"]).all()
    # Then the pair's polarities are the sentences' own, the same for both entities.
    co = res.cooccurrence
    assert ((co["polarity_a"] - co["polarity_b"]).abs() < 1e-6).all()
    assert ((co["mean_polarity"] - co["polarity_a"]).abs() < 1e-6).all()


def test_a_separate_sentiment_model_or_none_decides_the_mentions_sentiment(
    tiny_model, two_class_model
):
    # Sentiment from the SST-2 model, NER from the model with a target head: every number
    # comes from the sentiment model (the sentence's).
    res = presslens.analyze(TEXTS, sentiment_model=two_class_model, ner_model=tiny_model)
    assert res.manifest["mention_sentiment"] == "sentence"
    joined = with_sentence_polarity(res)
    assert (joined["polarity"] == joined["sent_polarity"]).all()
    off = presslens.analyze(TEXTS, sentiment_model="none", ner_model=tiny_model)
    assert off.manifest["mention_sentiment"] is None
    assert off.entities.height > 0
    for col in ("sentiment_label", "sentiment_score", "polarity"):
        assert off.entities[col].null_count() == off.entities.height, col
    assert off.entity_stats["mean_polarity"].null_count() == off.entity_stats.height
    assert off.entity_stats["n_neutral"].sum() == 0


@pytest.mark.parametrize("pooling", [["cls", "mean"], ["cls", "mean", "max"], ["max", "pooler"]])
def test_rust_target_head_matches_the_pytorch_reference(tmp_path, pooling):
    """The Rust encoder and target head (fp32) give each mention the polarity that
    ``MultiTaskBert.target_logits`` computes in PyTorch on the same weights, with the
    mention's word pieces chosen by the training code (``piece_positions``)."""
    import torch
    from presslens.training import common as mc

    d = tmp_path / "model"
    _presslens.write_random_model(d, base_encoder_dir() / "vocab.txt", 4, target_pooling=pooling)
    model = mc.load_model(d)
    assert model.target_pooling == pooling
    tok = mc.load_tokenizer(d)
    sents = [s for t in TEXTS[:2] for s in presslens.split_sentences(t)]
    _, ents = presslens.predict(sents, sentiment_model=d, ner_model=d, precision="fp32")
    _, ents8 = presslens.predict(sents, sentiment_model=d, ner_model=d)  # int8
    assert ents.height > 10
    int8 = {
        (r["sent_idx"], r["start"], r["end"]): r["polarity"] for r in ents8.iter_rows(named=True)
    }
    labels = [x.lower() for x in model.target_labels]
    pos, neg = labels.index("positive"), labels.index("negative")
    compared = 0
    for row in ents.iter_rows(named=True):
        text = sents[row["sent_idx"]]
        enc = tok(text, return_offsets_mapping=True)
        ids = torch.tensor([enc["input_ids"]])
        positions = mc.piece_positions(enc["offset_mapping"], row["start"], row["end"])
        mask = torch.zeros(1, ids.shape[1])
        mask[0, positions] = 1
        with torch.no_grad():
            out = model.encode(ids, torch.ones_like(ids))
            logits = model.target_logits(
                out.last_hidden_state, out.pooler_output, torch.tensor([0]), mask
            )
        p = logits.softmax(-1)[0]
        want = (p[pos] - p[neg]).item()
        assert row["polarity"] == pytest.approx(want, abs=1e-4), (text, row)
        assert row["sentiment_label"] == labels[int(p.argmax())]
        key = (row["sent_idx"], row["start"], row["end"])
        if key in int8:  # the int8 encoder may find other entities
            assert int8[key] == pytest.approx(want, abs=0.1), (text, row)
            compared += 1
    assert compared >= ents.height // 2
