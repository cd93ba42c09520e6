"""Entities that hold across a corpus (issue 26): short forms resolved by the corpus, one
entity one label, the built-in gazetteer's ids, codes and coordinates, and the option that
turns it off. On a tiny in-memory corpus with the embedded model."""

from __future__ import annotations

import subprocess
import sys

import polars as pl
import presslens
import pytest

DOCS = [
    "Donald Trump arrived in Moscow on Monday. Donald Trump said the United States wants "
    "peace.",
    "Donald Trump spoke to reporters in Washington. The U.S. economy grew last year.",
    "Trump said America would not back down. Russian officials declined to comment.",
]
IDS = ["a", "b", "c"]


@pytest.fixture(scope="module")
def analysis(default_model):
    return presslens.analyze(DOCS, ids=IDS)


def corpus_row(a: presslens.Analysis, entity: str) -> pl.DataFrame:
    return a.entity_stats.filter((pl.col("scope") == "corpus") & (pl.col("entity") == entity))


def test_entity_columns_and_types(analysis):
    e, st = analysis.entities, analysis.entity_stats
    assert e.columns[-5:] == ["entity", "entity_label", "entity_id", "country_code",
                              "alias_source"]
    for c in ("entity_label", "entity_id", "country_code", "alias_source"):
        assert e.schema[c] == pl.String, c
    assert st.columns[2:9] == ["entity", "label", "entity_id", "country_code", "latitude",
                               "longitude", "mentions"]
    assert st.schema["entity_id"] == pl.String and st.schema["country_code"] == pl.String
    assert st.schema["latitude"] == pl.Float64 and st.schema["longitude"] == pl.Float64
    assert set(e["alias_source"]) <= {"table", "corpus", "gazetteer", "rule", "none"}


def test_places_come_from_the_gazetteer_as_one_entity(analysis):
    e = analysis.entities
    us = e.filter(pl.col("text").is_in(["United States", "U.S.", "America"]))
    assert us.height >= 2, e
    assert set(us["entity"]) == {"United States"}
    assert set(us["entity_label"]) == {"LOC"}
    assert set(us["entity_id"]) == {"geonames:6252001"}
    assert set(us["country_code"]) == {"US"}
    renamed = us.filter(pl.col("text") != "United States")
    assert set(renamed["alias_source"]) == {"gazetteer"}
    moscow = e.filter(pl.col("text") == "Moscow")
    assert moscow["country_code"].to_list() == ["RU"]
    # entity_stats counts the United States once, with its id and coordinates.
    row = corpus_row(analysis, "United States")
    assert row.height == 1
    assert row["label"].item() == "LOC"
    assert row["mentions"].item() == e.filter(pl.col("entity") == "United States").height
    assert row["entity_id"].item() == "geonames:6252001"
    assert 20 < row["latitude"].item() < 50 and -130 < row["longitude"].item() < -60
    # A demonym stays a MISC entity of its own, with its country's code.
    russian = e.filter(pl.col("text") == "Russian")
    if russian.height:
        assert russian["entity"].to_list() == ["Russian"]
        assert russian["entity_label"].to_list() == ["MISC"]
        assert russian["country_code"].to_list() == ["RU"]


def test_a_short_form_alone_links_to_the_dominant_full_name(analysis):
    e = analysis.entities
    trump = e.filter((pl.col("doc_id") == "c") & (pl.col("text") == "Trump"))
    assert trump["entity"].to_list() == ["Donald Trump"]
    assert trump["alias_source"].to_list() == ["corpus"]
    row = corpus_row(analysis, "Donald Trump")
    assert row.height == 1 and row["documents"].item() == 3
    assert row["mentions"].item() == e.filter(pl.col("entity") == "Donald Trump").height
    assert row["entity_id"].item() is None and row["latitude"].item() is None


def test_analysis_tables_use_the_entity_label(analysis):
    # Every table names an entity with one label: the entity's, not the mention's.
    labels = analysis.entities.group_by("entity").agg(pl.col("entity_label").n_unique())
    assert labels["entity_label"].max() == 1
    corpus = analysis.entity_stats.filter(pl.col("scope") == "corpus")
    assert corpus["entity"].n_unique() == corpus.height
    assert corpus["mentions"].sum() == analysis.entities.height
    want = dict(analysis.entities.select("entity", "entity_label").unique().iter_rows())
    assert dict(corpus.select("entity", "label").iter_rows()) == want
    for a, b in (("entity_a", "label_a"), ("entity_b", "label_b")):
        got = analysis.cooccurrence.select(a, b).unique().iter_rows()
        assert all(want[x] == y for x, y in got)
    assert all(want[x] == y for x, y in analysis.name_variants.select("entity", "label")
               .unique().iter_rows())


def test_the_gazetteer_can_be_turned_off(default_model):
    assert presslens.default_options()["gazetteer"] is True
    a = presslens.analyze(DOCS, ids=IDS, gazetteer=False)
    e = a.entities
    assert e["entity_id"].null_count() == e.height
    assert e["country_code"].null_count() == e.height
    assert "gazetteer" not in set(e["alias_source"])
    us = e.filter(pl.col("text").is_in(["U.S.", "America"]))
    assert set(us["entity"]) <= {"U.S.", "America"}
    st = a.entity_stats
    assert st["latitude"].null_count() == st.height
    assert a.manifest["options"]["gazetteer"] is False


def test_a_place_tagged_with_two_labels_counts_once(default_model):
    # "US-led" gives "US" (MISC, adjectival); "US officials" gives "US" (LOC).
    a = presslens.analyze([
        "The US-led coalition met US officials. American troops and the US government agreed.",
        "Donald Trump said the U.S. would act.",
    ])
    us = a.entities.filter(pl.col("entity") == "United States")
    assert us.height >= 3 and set(us["text"]) <= {"US", "U.S."}, us
    assert set(us["entity_label"]) == {"LOC"}
    assert len(set(us["label"])) >= 2, us  # each mention keeps its own NER label
    row = corpus_row(a, "United States")
    assert row.height == 1 and row["label"].item() == "LOC"
    assert row["mentions"].item() == us.height
    variants = a.name_variants.filter(pl.col("entity") == "United States")
    assert set(variants["label"]) == {"LOC"} and variants["mentions"].sum() == us.height


def cli(*args):
    return subprocess.run([sys.executable, "-m", "presslens", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def test_append_relinks_old_and_new_mentions(tmp_path, default_model):
    first, second, out = tmp_path / "first", tmp_path / "second", tmp_path / "out"
    first.mkdir()
    second.mkdir()
    (first / "a.txt").write_text(DOCS[0] + "\n\n" + DOCS[1], encoding="utf-8")
    (second / "c.txt").write_text(DOCS[2], encoding="utf-8")
    assert (r := cli("run", first, "-o", out)).returncode == 0, r.stderr
    assert (r := cli("run", second, "-o", out, "--append")).returncode == 0, r.stderr
    run = presslens.read_run(out)
    e = run.entities
    trump = e.filter(pl.col("text") == "Trump")
    assert trump["entity"].to_list() == ["Donald Trump"]
    assert trump["alias_source"].to_list() == ["corpus"]
    us = e.filter(pl.col("text").is_in(["United States", "U.S.", "America"]))
    assert set(us["entity"]) == {"United States"} and us["doc_id"].n_unique() == 2
    assert corpus_row(run, "United States")["documents"].item() == 2
    assert run.manifest["options"]["gazetteer"] is True
    # The gazetteer changes results: a command without it is refused on this folder.
    r = cli("run", second, "-o", out, "--append", "--no-gazetteer")
    assert r.returncode == 2 and "option gazetteer" in r.stderr, r.stderr
    plain = tmp_path / "plain"
    assert (r := cli("run", first, "-o", plain, "--no-gazetteer")).returncode == 0, r.stderr
    e = presslens.read_table(plain, "entities")
    assert e["entity_id"].null_count() == e.height
    assert "U.S." in set(e["entity"])
