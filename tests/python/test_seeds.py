"""The seed corpus end to end with the embedded default model, as a user runs it."""

from __future__ import annotations

import polars as pl
import presslens
import pytest
from conftest import check_offsets


def test_documents(seed_run):
    docs = seed_run.documents
    assert docs.height == 5
    assert docs["error"].null_count() == 5
    titles = docs["title"].to_list()
    assert titles[0] == "Japanese pro-NATO stance harms Tokyo-Moscow dialogue"
    assert titles[4].startswith("Where is Japan's Russian policy headed?")
    for text in docs["text"]:
        for boiler in ("Please enter your comment!", "LEAVE A REPLY", "Note to readers",
                       "Comments are closed.", "Disclaimer:"):
            assert boiler not in text
    # Bylines, counters and symbol lines are gone; the author bio stays.
    assert "\nBy:\n" not in docs["text"][2] and not docs["text"][0].startswith("0")
    assert "Dr. Abdul Ruff is a columnist" in docs["text"][3]
    assert (docs["n_chars"] == docs["text"].str.len_chars()).all()


def test_sentences_and_offsets(seed_run):
    s, docs = seed_run.sentences, seed_run.documents
    check_offsets(docs, s)
    check_offsets(docs, seed_run.entities)
    counts = s.group_by("doc_id").len()
    assert counts["len"].min() > 20
    # Broken scraped paragraph ("has personally\n\nadvised ...") is one sentence.
    assert s.filter(pl.col("text").str.contains("has personally")).height == 1
    assert s.filter(pl.col("text").str.contains("has personally"))["text"].item().endswith(
        "revoking the neutrality currently advocated by India.")
    assert (docs["n_sentences"].sum()) == s.height


def test_sentiment_is_real(seed_run):
    s = seed_run.sentences
    assert s["polarity"].null_count() == 0
    labels = set(s["sentiment_label"].unique())
    assert {"positive", "negative"} <= labels <= {"positive", "neutral", "negative"}
    # Spread, not a constant: a real model separates sentences.
    assert s["polarity"].std() > 0.3


@pytest.mark.parametrize("name,label", [
    ("Kishida", "PER"), ("Lavrov", "PER"), ("Putin", "PER"), ("Abe", "PER"),
    ("NATO", "ORG"), ("Moscow", "LOC"), ("Hokkaido", "LOC"), ("Kuril Islands", "LOC"),
])
def test_ner_finds_what_a_reader_would_list(seed_run, name, label):
    e = seed_run.entities
    hits = e.filter(pl.col("text").str.contains(name))
    assert hits.height > 0, f"{name} not found"
    assert (hits["label"] == label).mean() >= 0.5, hits.group_by("label").len()


def test_issue_example_with_default_model(default_model):
    res = presslens.analyze(["Tokyo condemned Moscow. Lavrov was furious."])
    ents = dict(zip(res.entities["text"], res.entities["label"]))
    assert ents.get("Lavrov") == "PER"
    assert ents.get("Moscow") == "LOC"
    assert res.sentences["sentiment_label"][1] == "negative"


def test_default_model_on_unambiguous_sentences(default_model):
    sents, ents = presslens.predict([
        "The summit was a wonderful success and both leaders praised the warm, friendly talks.",
        "The talks were a disastrous failure, and the ministers left angry and humiliated.",
        "Angela Merkel flew from Berlin to Paris to meet Emmanuel Macron at the European Union"
        " summit.",
    ])
    assert sents["sentiment_label"].to_list()[:2] == ["positive", "negative"]
    assert (sents["sentiment_score"][:2] > 0.9).all()
    found = set(ents.filter(pl.col("sent_idx") == 2).select("text", "label").iter_rows())
    assert found == {("Angela Merkel", "PER"), ("Berlin", "LOC"), ("Paris", "LOC"),
                     ("Emmanuel Macron", "PER"), ("European Union", "ORG")}


def test_putin_links_to_his_full_name(seed_run):
    e = seed_run.entities.filter(pl.col("label") == "PER")
    full = e.filter(pl.col("text") == "Vladimir Putin")["doc_id"].unique().to_list()
    assert full, "some seed article names Vladimir Putin"
    linked_short_forms = 0
    for doc in full:
        putin = e.filter((pl.col("doc_id") == doc) & pl.col("text").str.contains("Putin"))
        assert set(putin["entity"].to_list()) == {"Vladimir Putin"}, putin
        short = putin.filter(pl.col("text") != "Vladimir Putin")
        assert set(short["alias_source"].to_list()) <= {"rule"}
        linked_short_forms += short.height
    assert linked_short_forms >= 2
    stats = seed_run.entity_stats.filter(
        (pl.col("scope") == "corpus") & (pl.col("entity") == "Vladimir Putin"))
    assert stats.height == 1 and stats["documents"].item() >= 3


def test_name_variants_show_how_each_outlet_names_the_islands(seed_run):
    v = seed_run.name_variants.filter(pl.col("entity") == "Kuril Islands")
    by_doc = {d: set(g["surface"].str.to_lowercase().to_list())
              for (d,), g in v.group_by("doc_id")}
    says = lambda name: {d for d, forms in by_doc.items() if any(name in f for f in forms)}  # noqa: E731
    northern = says("northern territories")
    kuril = says("kuril")
    assert "004_3ee850e2e8d99fec" in northern
    assert {"000_a7eeceead321974f", "003_5155f221d5affd6d"} <= kuril
    assert "002_c8364238b30039de" in says("kurile")
    assert northern != kuril
    # The alias table links them: table-sourced mentions carry their own surface form.
    ents = seed_run.entities.filter(pl.col("entity") == "Kuril Islands")
    assert "table" in ents["alias_source"].to_list()
    assert ents["text"].n_unique() >= 4


def test_cooccurrence_and_stats_are_consistent(seed_run):
    st = seed_run.entity_stats
    corpus = st.filter(pl.col("scope") == "corpus")
    per_doc = st.filter(pl.col("scope") == "document")
    assert corpus["doc_id"].null_count() == corpus.height
    total = per_doc.group_by("entity", "label").agg(pl.col("mentions").sum())
    joined = corpus.join(total, on=["entity", "label"], suffix="_docs")
    assert (joined["mentions"] == joined["mentions_docs"]).all()
    assert corpus["mentions"].sum() == seed_run.entities.height
    # Sentiment counts are of mentions, by their label; without a target head a mention has
    # its sentence's sentiment, with one the sentiment toward it.
    e = seed_run.entities
    for label in ("positive", "neutral", "negative"):
        assert corpus[f"n_{label}"].sum() == (e["sentiment_label"] == label).sum(), label
    sent = e.join(seed_run.sentences.select("doc_id", "sent_idx", pl.col("polarity").alias("s")),
                  on=["doc_id", "sent_idx"])
    same = (sent["polarity"] == sent["s"]).all()
    assert same == (seed_run.manifest["mention_sentiment"] == "sentence")
    c = seed_run.cooccurrence
    assert c.height > 0
    # Pairs are ordered: by entity, then by label when one name has two labels.
    ordered = ((pl.col("entity_a") < pl.col("entity_b")) | (
        (pl.col("entity_a") == pl.col("entity_b")) & (pl.col("label_a") < pl.col("label_b"))
    )).fill_null(False)
    assert c.filter(~ordered).height == 0, c.filter(~ordered)
    assert c["mean_polarity"].is_between(-1, 1).all()
