from __future__ import annotations

import polars as pl
import presslens
import pytest
from conftest import check_offsets

DOC_COLS = [
    "doc_id",
    "source",
    "title",
    "text",
    "n_chars",
    "n_sentences",
    "sentiment_mean",
    "error",
]
SENT_COLS = [
    "doc_id",
    "sent_idx",
    "start",
    "end",
    "text",
    "sentiment_label",
    "sentiment_score",
    "polarity",
]
ENT_COLS = [
    *["doc_id", "sent_idx", "start", "end", "text", "label", "score"],
    *["sentiment_label", "sentiment_score", "polarity"],
    *["entity", "entity_label", "entity_id", "country_code", "alias_source"],
]


def test_split_sentences_issue_example():
    got = presslens.split_sentences("Mr. Abe met Mr. Putin in Sochi. Talks stalled.")
    assert got == ["Mr. Abe met Mr. Putin in Sochi.", "Talks stalled."]


def test_sentence_spans_are_python_character_offsets():
    text = "«Ça va?» dit‑il. Токио ответило — нет! 東京は答えた。 Done."
    spans = presslens.sentence_spans(text)
    assert [text[s:e] for s, e in spans] == presslens.split_sentences(text)
    assert spans and spans[-1][1] == len(text)


def test_clean_text_drops_boilerplate_and_normalises_quotes():
    raw = "Title\n\n0\n\nHe said “no” — twice.\n\nLeave a Reply\nPlease enter your comment!\n"
    out = presslens.clean_text(raw)
    assert "Leave a Reply" not in out and "Please enter" not in out
    assert '"no"' in out
    assert presslens.clean_text("Keep me.\nSPONSORED", drop_patterns=["^SPONSORED$"]) == "Keep me."
    with pytest.raises(ValueError, match="unclosed|regex|pattern"):
        presslens.clean_text("x", drop_patterns=["("])


def test_analyze_tables_and_offsets(tiny_model):
    res = presslens.analyze(
        [
            "Tokyo condemned Moscow. Lavrov was furious.",
            "   ",
            "Ünïcode “quotes” here. Second one.",
        ],
        ids=["a", "b", "c"],
        sentiment_model=tiny_model,
        ner_model=tiny_model,
    )
    assert isinstance(res.documents, pl.DataFrame)
    assert res.documents.columns[: len(DOC_COLS)] == DOC_COLS
    assert res.sentences.columns == SENT_COLS
    assert res.entities.columns == ENT_COLS
    docs = res.documents
    assert docs["doc_id"].to_list() == ["a", "b", "c"]
    assert docs.filter(pl.col("doc_id") == "b")["error"].item() == "empty document"
    assert res.sentences.filter(pl.col("doc_id") == "a")["text"].to_list() == [
        "Tokyo condemned Moscow.",
        "Lavrov was furious.",
    ]
    check_offsets(docs, res.sentences)
    check_offsets(docs, res.entities)
    pol = res.sentences["polarity"]
    assert pol.null_count() == 0 and pol.min() >= -1 and pol.max() <= 1
    assert set(res.sentences["sentiment_label"].unique()) <= {"positive", "neutral", "negative"}
    mean_a = res.sentences.filter(pl.col("doc_id") == "a")["polarity"].mean()
    assert docs.filter(pl.col("doc_id") == "a")["sentiment_mean"].item() == pytest.approx(mean_a)
    assert set(res.timings) >= {"clean", "segment", "infer", "total"}


def test_long_sentence_is_windowed_not_truncated(tiny_model):
    words = " ".join(["Tokyo and Moscow talked"] * 150) + "."
    res = presslens.analyze(words, sentiment_model=tiny_model, ner_model=tiny_model, max_window=32,
                            max_sentence_chars=10_000)
    assert res.sentences.height == 1
    assert res.sentences["polarity"].item() is not None
    check_offsets(res.documents, res.entities)
    # Tokens past the first window (32 tokens, about 25 characters of this text) are
    # still labelled: entities are found far beyond it, and none runs past the text.
    assert res.entities.height > 0
    assert res.entities["start"].max() > len(words) // 2
    assert res.entities["end"].max() <= len(words)


def test_task_can_be_switched_off(tiny_model):
    res = presslens.analyze("Tokyo condemned Moscow.", sentiment_model="none", ner_model=tiny_model)
    assert res.sentences["polarity"].null_count() == 1
    assert res.documents["sentiment_mean"].item() is None


def test_clear_errors(tiny_model, tmp_path):
    with pytest.raises(presslens.ModelError, match="no such model folder|not found"):
        presslens.analyze("x.", sentiment_model="./no/such/model", ner_model=tiny_model)
    with pytest.raises(ValueError, match="device"):
        presslens.analyze("x.", sentiment_model=tiny_model, ner_model=tiny_model, device="tpu")
    with pytest.raises(presslens.InputError, match="no such file"):
        presslens.run(
            tmp_path / "missing", tmp_path / "out", sentiment_model=tiny_model, ner_model=tiny_model
        )
    with pytest.raises(presslens.OptionError, match="1 ids for 2 texts"):
        presslens.analyze(["a.", "b."], ids=["x"], sentiment_model=tiny_model, ner_model=tiny_model)


def test_hub_id_without_network_is_a_model_error(tiny_model):
    # Same loading path as local folders, through rust-bert's RemoteResource; with no
    # network here it must fail with a clear message, not hang or panic.
    with pytest.raises(presslens.ModelError, match="presslens-no-such-org/no-such-model"):
        presslens.analyze(
            "x.", sentiment_model="presslens-no-such-org/no-such-model", ner_model=tiny_model
        )


def test_linking_rules_and_alias_table_on_hand_written_documents(tmp_path, default_model):
    table = tmp_path / "aliases.csv"
    table.write_text("alias,canonical,label\nNorthern Territories,Kuril Islands,\n")
    docs = [
        "Russian President Vladimir Putin visited Moscow. Later, Putin said President Putin's "
        "plan was final. The North Atlantic Treaty Organization (NATO) disagreed, "
        "and NATO said so.",
        "Prime Minister Fumio Kishida spoke in Tokyo about the Northern Territories. "
        "Kishida's aides agreed. Putin was not there.",
    ]
    a = presslens.analyze(docs, ids=["ru", "jp"], aliases=table)
    e = a.entities
    putin_ru = e.filter((pl.col("doc_id") == "ru") & pl.col("text").str.contains("Putin"))
    assert putin_ru.height >= 2 and set(putin_ru["entity"]) == {"Vladimir Putin"}
    # "Putin" alone in the Japanese article links to the corpus' full name.
    putin_jp = e.filter((pl.col("doc_id") == "jp") & (pl.col("text") == "Putin"))
    assert putin_jp["entity"].to_list() == ["Vladimir Putin"]
    kishida = e.filter(pl.col("text").str.contains("Kishida"))
    assert set(kishida["entity"]) == {"Fumio Kishida"}
    nato = e.filter(pl.col("text") == "NATO")
    assert set(nato["entity"]) == {"North Atlantic Treaty Organization"}
    assert set(nato["alias_source"]) == {"rule"}
    islands = e.filter(pl.col("text").str.contains("Northern Territories"))
    assert islands["entity"].to_list() == ["Kuril Islands"]
    assert islands["alias_source"].to_list() == ["table"]
    moscow = e.filter(pl.col("text") == "Moscow")
    assert moscow["alias_source"].to_list() == ["none"]
    v = a.name_variants.filter(pl.col("entity") == "Vladimir Putin")
    assert set(v["doc_id"]) == {"ru", "jp"}
    st = a.entity_stats.filter(
        (pl.col("scope") == "corpus") & (pl.col("entity") == "Vladimir Putin")
    )
    assert st["documents"].item() == 2 and st["mentions"].item() == putin_ru.height + 1
    assert set(a.cooccurrence.columns) == {
        "entity_a",
        "label_a",
        "entity_b",
        "label_b",
        "sentences",
        "documents",
        "mean_polarity",
        "polarity_a",
        "polarity_b",
    }


def test_bad_alias_table_is_a_clear_error(tmp_path):
    bad = tmp_path / "aliases.csv"
    bad.write_text("name,target\na,b\n")
    with pytest.raises(presslens.InputError, match="alias"):
        presslens.analyze("Putin spoke.", aliases=bad, sentiment_model="none", ner_model="none")


def test_read_table(tmp_path, tiny_model):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Title\n\nAbe met Putin in Sochi. Talks stalled.\n")
    presslens.run(
        tmp_path / "in", tmp_path / "out", sentiment_model=tiny_model, ner_model=tiny_model
    )
    for name in presslens.TABLES:
        assert isinstance(presslens.read_table(tmp_path / "out", name), pl.DataFrame)
    with pytest.raises(ValueError, match="unknown table"):
        presslens.read_table(tmp_path / "out", "nope")


def test_option_errors_name_the_option(tiny_model):
    m = {"sentiment_model": tiny_model, "ner_model": tiny_model}
    with pytest.raises(presslens.OptionError, match="chunk_size") as e:
        presslens.analyze("x.", chunk_size=-1, **m)
    assert isinstance(e.value, ValueError) and isinstance(e.value, presslens.PresslensError)
    with pytest.raises(presslens.OptionError, match="batch_size: must be at least 1"):
        presslens.analyze("x.", batch_size=0, **m)
    with pytest.raises(presslens.OptionError, match="empty model name"):
        presslens.analyze("x.", sentiment_model="")
    with pytest.raises(presslens.OptionError, match="regex|pattern"):
        presslens.analyze("x.", drop_patterns=["(unclosed"], **m)


def test_every_cli_option_works_from_python(tiny_model, tmp_path):
    rules = tmp_path / "rules.txt"
    rules.write_text("^promo corner 42x$\n")
    text = ("PROMO CORNER 42X\nThe envoy met Brigadr. Tanaka in Tokyo about the talks.\n"
            "The envoy met Brigadr. Tanaka in Tokyo about the talks.\n")
    kw = {"sentiment_model": tiny_model, "ner_model": tiny_model}
    base = presslens.analyze(text, **kw)
    res = presslens.analyze(text, clean_rules=rules, keep_duplicate_lines=True,
                            abbreviations="Brigadr", share_encoder=False, **kw)
    assert "PROMO CORNER" in base.documents["text"].item()
    assert "PROMO CORNER" not in res.documents["text"].item()
    assert res.documents["text"].item().count("Brigadr. Tanaka") == 2
    assert base.documents["text"].item().count("Brigadr. Tanaka") == 1
    assert any(s.endswith("Brigadr.") for s in base.sentences["text"])
    assert not any(s.endswith("Brigadr.") for s in res.sentences["text"])
    assert res.manifest["options"]["share_encoder"] is False


def test_precision_int8_by_default_on_cpu_fp32_on_request(tiny_model):
    text = "Tokyo condemned Moscow. The envoy met Putin in Tokyo about the islands."
    kw = {"sentiment_model": tiny_model, "ner_model": tiny_model}
    default = presslens.analyze(text, **kw)
    fp32 = presslens.analyze(text, precision="fp32", **kw)
    int8 = presslens.analyze(text, precision="int8", threads=1, **kw)
    assert {m["precision"] for m in default.manifest["models"].values()} == {"int8"}
    assert {m["precision"] for m in fp32.manifest["models"].values()} == {"fp32"}
    assert fp32.manifest["options"]["precision"] == "fp32"
    # int8 approximates fp32: same sentences, polarities close but not identical.
    a, b = default.sentences["polarity"].to_list(), fp32.sentences["polarity"].to_list()
    assert len(a) == len(b) == 2
    assert all(abs(x - y) < 0.05 for x, y in zip(a, b)) and a != b
    # One stream or several: the same numbers.
    assert int8.sentences["polarity"].to_list() == a
    with pytest.raises(presslens.OptionError, match="precision"):
        presslens.analyze(text, precision="int4", **kw)


def test_output_problems_are_output_errors(tiny_model, tmp_path):
    (tmp_path / "in.txt").write_text("Tokyo spoke.")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(presslens.OutputError, match="cannot create output folder"):
        presslens.run(tmp_path / "in.txt", blocker / "out", sentiment_model=tiny_model,
                      ner_model=tiny_model)


def test_in_memory_manifest_and_lone_surrogates(tiny_model):
    res = presslens.analyze(["Tokyo spoke \ud800 loudly.", "Moscow replied."],
                            sentiment_model=tiny_model, ner_model=tiny_model)
    assert res.manifest["counts"]["documents"] == 2
    assert res.manifest["input"] is None
    warning = res.documents["warning"][0]
    assert warning and "replaced with U+FFFD" in warning
    assert "\ufffd" in res.documents["text"][0]
    assert res.documents["warning"][1] is None


def test_caps_bound_the_work_per_document(tiny_model):
    run_on = " ".join(["Tokyo and Moscow talked"] * 150)  # 3,599 characters, no full stop
    kw = {"sentiment_model": tiny_model, "ner_model": tiny_model}
    res = presslens.analyze([run_on, "x" * 101], max_sentence_chars=1000, max_document_chars=100,
                            **kw)
    assert res.sentences.filter(pl.col("doc_id") == res.documents["doc_id"][0]).height == 0
    assert "over the limit of 100 (max_document_chars)" in res.documents["error"][0]
    assert "over the limit of 100" in res.documents["error"][1]
    res = presslens.analyze(run_on, max_sentence_chars=1000, **kw)
    assert res.sentences.height == 4
    assert res.sentences["text"].str.len_chars().max() <= 1000
    assert "1 sentence(s) longer than 1000 characters cut" in res.documents["warning"].item()
    check_offsets(res.documents, res.sentences)
