"""presslens train / evaluate: hand-checked metrics, data readers, a real short training
run whose loss must fall, and the trained model going through the Rust inference path."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

import presslens
import pytest
from conftest import REPO, base_encoder_dir
from presslens.training import common as mc
from presslens.training import evaluate as ev
from presslens.training import train as tr


def test_chunks_iob2_and_conlleval_quirks():
    assert mc.get_chunks(["B-PER", "I-PER", "O", "B-LOC"]) == [
        ("PER", 0, 1),
        ("LOC", 3, 3),
    ]
    # B after B of the same type starts a new entity
    assert mc.get_chunks(["B-PER", "B-PER"]) == [("PER", 0, 0), ("PER", 1, 1)]
    # conlleval: I-X after O opens an entity; a type change inside I- splits it
    assert mc.get_chunks(["O", "I-MISC", "I-MISC", "I-ORG"]) == [
        ("MISC", 1, 2),
        ("ORG", 3, 3),
    ]
    # entity running to the end of the sentence
    assert mc.get_chunks(["O", "B-ORG", "I-ORG"]) == [("ORG", 1, 2)]
    assert mc.get_chunks(["O", "O"]) == []


def _chunk_sets(seqs: list[list[str]]) -> list[set]:
    """Per-sentence sets of conlleval chunks, the entities ``span_prf`` scores."""
    return [set(mc.get_chunks(tags)) for tags in seqs]


def test_span_prf_on_conlleval_chunks_hand_computed():
    gold = [
        ["B-PER", "I-PER", "O", "B-LOC"],  # PER(0,1) LOC(3,3)
        ["B-ORG", "I-ORG", "I-ORG", "O"],  # ORG(0,2)
        ["O", "B-MISC", "I-MISC", "O", "B-PER"],  # MISC(1,2) PER(4,4)
    ]
    pred = [
        ["B-PER", "I-PER", "O", "B-ORG"],  # PER correct; ORG(3,3) wrong type
        ["B-ORG", "I-ORG", "O", "O"],  # ORG(0,1): right type, wrong right boundary
        [
            "O",
            "I-MISC",
            "I-MISC",
            "O",
            "O",
        ],  # MISC(1,2) correct (I- opens chunk); PER missed
    ]
    res = ev.span_prf(_chunk_sets(gold), _chunk_sets(pred))
    o = res["overall"]
    # gold 5 entities, predicted 4, correct 2
    assert (o["n_gold"], o["n_pred"], o["n_correct"]) == (5, 4, 2)
    assert o["precision"] == pytest.approx(2 / 4)
    assert o["recall"] == pytest.approx(2 / 5)
    assert o["f1"] == pytest.approx(2 * 0.5 * 0.4 / 0.9)
    per = res["per_type"]
    assert per["PER"]["precision"] == pytest.approx(1.0)
    assert per["PER"]["recall"] == pytest.approx(0.5)
    assert per["PER"]["f1"] == pytest.approx(2 / 3)
    assert per["MISC"]["f1"] == pytest.approx(1.0)
    assert per["ORG"]["n_correct"] == 0 and per["ORG"]["n_pred"] == 2 and per["ORG"]["n_gold"] == 1
    assert per["ORG"]["f1"] == 0.0
    assert per["LOC"]["recall"] == 0.0 and per["LOC"]["n_pred"] == 0


def test_perfect_and_empty():
    gold = [["B-LOC", "O", "B-PER", "I-PER"]]
    assert ev.span_prf(_chunk_sets(gold), _chunk_sets(gold))["overall"]["f1"] == pytest.approx(1.0)
    res = ev.span_prf(_chunk_sets([["O", "O"]]), _chunk_sets([["O", "O"]]))
    assert res["overall"]["f1"] == 0.0 and res["per_type"] == {}


def test_sentence_count_mismatch_raises():
    with pytest.raises(ValueError, match="number of sentences"):
        ev.span_prf(_chunk_sets([["O", "B-PER"]]), [])


def test_span_prf_and_gold_char_spans_hand_computed():
    text, spans = ev.gold_char_spans(
        ["Fumio", "Kishida", "met", "NATO", "in", "New", "York"],
        ["B-PER", "I-PER", "O", "B-ORG", "O", "B-LOC", "I-LOC"],
    )
    assert text == "Fumio Kishida met NATO in New York"
    assert spans == {("PER", 0, 13), ("ORG", 18, 22), ("LOC", 26, 34)}
    assert {text[s:e] for _, s, e in spans} == {"Fumio Kishida", "NATO", "New York"}
    pred = [{("PER", 6, 13), ("ORG", 18, 22), ("LOC", 26, 34), ("MISC", 0, 5)}, set()]
    gold = [spans, {("LOC", 0, 5)}]
    res = ev.span_prf(gold, pred)
    # gold 4, predicted 4, correct 2 (ORG, LOC); PER boundary wrong, MISC spurious
    o = res["overall"]
    assert (o["n_gold"], o["n_pred"], o["n_correct"]) == (4, 4, 2)
    assert o["precision"] == pytest.approx(0.5) and o["recall"] == pytest.approx(0.5)
    assert res["per_type"]["LOC"]["recall"] == pytest.approx(0.5)
    assert res["per_type"]["PER"]["f1"] == 0.0
    assert res["per_type"]["MISC"]["precision"] == 0.0


def test_environment_is_set_by_runs_not_by_imports():
    names = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "TOKENIZERS_PARALLELISM")
    env = {k: v for k, v in os.environ.items() if k not in names}
    code = (
        "import os\n"
        "from presslens.training import common, evaluate, train\n"
        f"print(sorted(k for k in {names!r} if k in os.environ))\n"
        "common.offline_env()\n"
        f"print([os.environ[k] for k in {names!r}])\n"
    )
    r = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["[]", "['1', '1', 'false']"]


def test_readers_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("sentence\tlabel\ngood film\t1\nno label here\n")
    with pytest.raises(mc.DataError, match=r"bad.tsv:3"):
        mc.read_sst2(bad)
    bad.write_text("sentence\tlabel\ngood film\t7\n")
    with pytest.raises(mc.DataError, match=r"bad.tsv:2: label 7"):
        mc.read_sst2(bad)
    conll = tmp_path / "bad.txt"
    conll.write_text("Putin B-PER\nspoke X-VERB\n")
    with pytest.raises(mc.DataError, match=r"bad.txt:2: no IOB2 tag"):
        mc.read_conll(conll)
    conll.write_text("SOCCER O 0\nJAPAN B-LOC 0\n")  # the shared data's layout
    assert mc.read_conll(conll) == [(["SOCCER", "JAPAN"], ["O", "B-LOC"])]
    conll.write_text("Acme B-COMPANY\nsold O\n\nMoscow B-LOC\n")
    sents = mc.read_conll(conll)
    assert sents == [(["Acme", "sold"], ["B-COMPANY", "O"]), (["Moscow"], ["B-LOC"])]
    assert mc.ner_labels_for(sents) == ["O", "B-COMPANY", "I-COMPANY", "B-LOC", "I-LOC"]


POSITIVE = [
    "a wonderful , moving and beautifully acted film",
    "the best movie i have seen this year , a delight",
    "brilliant , funny and warm from start to finish",
    "an excellent and inspiring story told with great care",
]
NEGATIVE = [
    "a dull , boring and painfully slow mess",
    "the worst film of the year , an awful waste of time",
    "tedious , stupid and badly written from start to finish",
    "a terrible and lifeless story told with no care at all",
]
NER = [
    ("Vladimir Putin met Fumio Kishida in Moscow .", "B-PER I-PER O B-PER I-PER O B-LOC O"),
    ("NATO warned Russia on Monday .", "B-ORG O B-LOC O O O"),
    ("Lavrov flew to Tokyo with Gazprom officials .", "B-PER O O B-LOC O B-ORG O O"),
    ("The Kremlin and the United Nations disagreed .", "O B-ORG O O B-ORG I-ORG O O"),
]


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    rows = [(t, 1) for t in POSITIVE] + [(t, 0) for t in NEGATIVE]
    (d / "train.tsv").write_text(
        "sentence\tlabel\n" + "".join(f"{t}\t{label}\n" for t, label in rows)
    )
    (d / "train.txt").write_text(
        "-DOCSTART- -X- -X- O\n\n"
        + "\n".join(
            "".join(f"{w} NNP B-NP {t}\n" for w, t in zip(s.split(), tags.split()))
            for s, tags in NER
        )
    )
    return d


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "tiny-news"
    result = tr.train(
        out,
        sst2=tiny_data,
        conll=tiny_data,
        base=base_encoder_dir(),
        epochs=12,
        batch_size=4,
        lr=2e-4,
        warmup_ratio=0.0,
        threads=2,
        seed=3,
        quiet=True,
    )
    return result


CASING_VECTORS = Path(__file__).resolve().parents[1] / "data" / "casing_vectors.json"


def test_casing_classes_match_the_shared_test_vectors():
    # The Rust suite checks src/infer/casing.rs against the same file.
    doc = json.loads(CASING_VECTORS.read_text(encoding="utf-8"))
    assert doc["classes"] == mc.CASING_CLASSES
    assert len(doc["cases"]) > 20
    for case in doc["cases"]:
        got = mc.CASING_CLASSES[mc.casing_class(case["text"])]
        assert got == case["class"], case["text"]


def test_training_encoders_give_casing_classes():
    tok = mc.load_tokenizer(base_encoder_dir())
    words = ["NATO", "warned", "McDonald", "in", "Tokyo", "."]
    [ex] = mc.encode_conll(tok, [(words, ["B-ORG", "O", "B-PER", "O", "B-LOC", "O"])], 64)
    pieces = tok.convert_ids_to_tokens(ex["ids"])
    first = {pieces[pos]: ex["types"][pos] for pos in ex["first_pos"].values()}
    C = mc.CASING_CLASSES.index
    assert first["nato"] == C("upper") and first["warned"] == C("lower")
    assert first["tokyo"] == C("title") and first["."] == C("none")
    assert first["mcdonald"] == C("mixed")
    assert ex["types"][0] == 0 and ex["types"][-1] == 0  # [CLS], [SEP]
    # The same sentence as running text gives the same classes (what inference sees).
    enc = tok(" ".join(words), return_offsets_mapping=True)
    assert enc["input_ids"] == ex["ids"]
    assert mc.casing_ids_from_offsets(" ".join(words), enc["offset_mapping"]) == ex["types"]

    # SST-2 is lower-cased: re-casing changes only the classes, never the word pieces.
    text = "it 's a charming and often affecting journey about straße ."
    [row] = mc.encode_sst2(tok, [(text, 1)], 64)
    ids, plain = list(row["ids"]), list(row["types"])
    assert set(plain) <= {C("lower"), C("none")}
    assert mc.recase_sst2([row], random.Random(0), 1.0) == 1
    assert row["ids"] == ids and row["types"][1] == C("title")  # "It"
    recased = mc.recase_like_news(text, random.Random(5), title_p=0.5, upper_p=0.3)
    assert len(recased) == len(text) and recased.lower() == text and recased != text
    assert mc.recase_sst2([row], random.Random(0), 0.0) == 0 and row["types"] == plain


def test_grown_type_embedding_starts_as_the_base_encoder():
    import torch

    tok = mc.load_tokenizer(base_encoder_dir())
    plain = mc.load_base(base_encoder_dir(), casing=False).eval()
    cased = mc.load_base(base_encoder_dir(), casing=True).eval()
    assert cased.casing and not plain.casing
    assert tuple(cased.bert.embeddings.token_type_embeddings.weight.shape) == (5, 384)
    text = "NATO warned McDonald in Tokyo ."
    enc = tok(text, return_offsets_mapping=True, return_tensors="pt")
    types = torch.tensor([mc.casing_ids_from_offsets(text, enc["offset_mapping"][0].tolist())])
    assert int(types.max()) > 1
    # The base's two rows are kept; the new rows are copies of row 0.
    w_plain = plain.bert.embeddings.token_type_embeddings.weight
    w = cased.bert.embeddings.token_type_embeddings.weight
    assert torch.equal(w[:2], w_plain) and all(torch.equal(w[k], w[0]) for k in range(2, 5))
    with torch.no_grad():
        a = plain.bert(
            input_ids=enc["input_ids"],
            attention_mask=enc["attention_mask"],
            token_type_ids=torch.where(types >= 2, 0, types),
        ).last_hidden_state
        b = cased.encode(enc["input_ids"], enc["attention_mask"], types).last_hidden_state
    # Before training, the classes of the new rows compute what type 0 of the base does.
    assert torch.allclose(a, b, atol=1e-5)


def test_training_loss_falls(trained):
    assert trained.steps == 12 * 3  # 2 sentiment + 1 NER batches per epoch
    for task in ("sentiment", "ner"):
        first = trained.mean_loss(task, first=3)
        last = trained.mean_loss(task, last=3)
        assert last < 0.5 * first, (task, first, last)


def test_trained_model_runs_in_presslens(trained, tiny_data):
    cfg = (trained.out / "config.json").read_text()
    assert '"presslens_heads"' in cfg and (trained.out / "model.safetensors").is_file()
    # Trained with casing classes (the default): the config says so, as a standard BERT.
    cfg_json = json.loads(cfg)
    assert cfg_json["presslens_casing"] == {"version": 1, "classes": mc.CASING_CLASSES}
    assert cfg_json["type_vocab_size"] == len(mc.CASING_CLASSES)
    umask = os.umask(0)
    os.umask(umask)
    assert trained.out.stat().st_mode & 0o777 == 0o777 & ~umask  # not mkdtemp's private 0700
    # The Rust inference path loads it, and it learned its (tiny) training set.
    res = ev.evaluate(str(trained.out), sst2=tiny_data / "train.tsv", conll=tiny_data / "train.txt")
    assert res["sst2"]["n"] == 8
    assert res["sst2"]["accuracy"] >= 0.75
    assert res["conll"]["overall"]["n_gold"] == 10
    assert res["conll"]["overall"]["f1"] >= 0.5
    a = presslens.analyze(
        "Vladimir Putin met Fumio Kishida in Moscow.",
        sentiment_model=trained.out,
        ner_model=trained.out,
    )
    assert a.sentences.height == 1


def test_saved_model_loads_back_in_pytorch_and_matches_the_rust_path(trained):
    """load_model inverts save_model; the Rust encoder (fp32, and int8 within tolerance)
    computes what PyTorch computes on the same weights and casing classes."""
    import torch

    model = mc.load_model(trained.out)
    tok = mc.load_tokenizer(trained.out)
    text = "Vladimir Putin met Fumio Kishida in MOSCOW on Monday."
    enc = tok(text, return_offsets_mapping=True)
    ids = torch.tensor([enc["input_ids"]])
    types = torch.tensor([mc.casing_ids_from_offsets(text, enc["offset_mapping"])])
    with torch.no_grad():
        probs = model(ids, torch.ones_like(ids), "sentiment", types).softmax(-1)[0]
    labels = [label.lower() for label in model.sentiment_labels]
    want = (probs[labels.index("positive")] - probs[labels.index("negative")]).item()
    for precision, tol in (("fp32", 1e-4), ("int8", 0.05)):
        sents, _ = presslens.predict([text], sentiment_model=trained.out, ner_model="none",
                                     precision=precision)
        assert abs(sents["polarity"].item() - want) < tol, (precision, sents, want)
    with pytest.raises(ValueError, match="presslens_heads"):
        mc.load_model(base_encoder_dir())


def test_single_task_model(tiny_data, tmp_path):
    out = tmp_path / "ner-only"
    tr.train(
        out,
        conll=tiny_data,
        base=base_encoder_dir(),
        max_steps=2,
        batch_size=4,
        casing=False,
        quiet=True,
    )
    # Without casing classes the model is a plain BERT (two token types, no casing key).
    cfg = json.loads((out / "config.json").read_text())
    assert "presslens_casing" not in cfg and cfg["type_vocab_size"] == 2
    sents, ents = presslens.predict(["Putin met Kishida."], sentiment_model="none", ner_model=out)
    assert sents["sentiment_label"].to_list() == [None]
    with pytest.raises(presslens.ModelError, match="no sentiment"):
        presslens.predict(["Putin met Kishida."], sentiment_model=out, ner_model="none")


def test_several_data_files_are_read_in_order(tiny_data, tmp_path):
    # The final model of a recipe chosen on dev trains on train + dev: --conll DIR FILE.
    extra = tmp_path / "dev.txt"
    extra.write_text("Kishida B-PER\nvisited O\nKunashir B-LOC\n. O\n\nNATO B-ORG\nmet O\n")
    out = tmp_path / "m"
    run = [sys.executable, "-m", "presslens", "train", "-o", str(out), "-q"]
    args = ["--conll", str(tiny_data), str(extra), "--base", str(base_encoder_dir())]
    p = subprocess.run([*run, *args, "--max-steps", "1"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    meta = json.loads((out / "training_args.json").read_text())
    assert meta["conll"] == [str(tiny_data / "train.txt"), str(extra)]
    assert meta["conll_train_sentences"] == len(NER) + 2
    p = subprocess.run(
        [*run, "--overwrite", "--conll", str(tiny_data), str(tmp_path / "nope.txt")],
        capture_output=True,
        text=True,
    )
    assert p.returncode == 1 and "nope.txt: no such file" in p.stderr


def test_cli_errors_are_clear(tmp_path):
    run = [sys.executable, "-m", "presslens"]
    p = subprocess.run([*run, "train", "-o", str(tmp_path / "m")], capture_output=True, text=True)
    assert p.returncode == 1 and "sst2" in p.stderr and "conll" in p.stderr
    p = subprocess.run(
        [*run, "evaluate", "--sst2", str(tmp_path / "missing.tsv")], capture_output=True, text=True
    )
    assert p.returncode == 1 and "missing.tsv" in p.stderr
    p = subprocess.run([*run, "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "train" in p.stdout and "evaluate" in p.stdout


def test_published_figures_are_those_of_the_shipped_model_eval_files():
    """The README and the model card quote the embedded model's scores: they must be the
    ones its eval files hold (a new model without new figures fails here)."""
    model = REPO / "python" / "presslens" / "models" / "news-minilm"
    card = (model / "README.md").read_text(encoding="utf-8")
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name, label in [("eval.json", "**int8**"), ("eval_fp32.json", "fp32 (")]:
        res = json.loads((model / name).read_text(encoding="utf-8"))
        conll = res["conll"]
        f1 = f"{100 * conll['overall']['f1']:.2f}"
        sst2 = f"{100 * res['sst2']['accuracy']:.2f}%"
        row = next(line for line in card.splitlines() if line.startswith(f"| {label}"))
        cells = [c.strip(" *") for c in row.split("|")]
        assert f1 in cells, (name, row)
        for t in ["PER", "LOC", "ORG", "MISC"]:
            assert f"{100 * conll['per_type'][t]['f1']:.2f}" in cells, (name, t, row)
        assert any(c.startswith(sst2) for c in cells), (name, sst2, row)
        assert f"F1 {f1}" in readme or f"{f1} in" in readme or f"({f1};" in readme, (name, f1)
        assert sst2 in readme, (name, sst2)
        if "newsmtsc" in res:
            news = f"{100 * res['newsmtsc']['target_macro_f1']:.2f}"
            assert news in cells, (name, news, row)
            assert news in readme, (name, news)
    args = json.loads((model / "training_args.json").read_text(encoding="utf-8"))
    assert f"| epochs | {args['args']['epochs']} ({args['steps']:,} optimiser steps) |" in card


# --------------------------------------------------------------------------- NewsMTSC

NEWS = [
    # (sentence, [(mention, label)]) with labels 0 negative, 1 neutral, 2 positive
    ("Japan condemned Russia's invasion of Ukraine.", [("Japan", 1), ("Russia", 0)]),
    ("Kishida praised the brave people of Ukraine.", [("Kishida", 1), ("Ukraine", 2)]),
    ("Critics said Putin lied again about the war.", [("Putin", 0)]),
    ("Lavrov flew to Tokyo on Monday.", [("Lavrov", 1), ("Tokyo", 1)]),
    ("The heroic Ukrainian army was hailed by Biden.", [("Ukrainian army", 2), ("Biden", 1)]),
    ("Medvedev issued another disgraceful threat.", [("Medvedev", 0)]),
]


def _newsmtsc_rows(data=NEWS):
    rows = []
    for i, (text, targets) in enumerate(data):
        ts = []
        for mention, label in targets:
            a = text.index(mention)
            ts.append(
                {"from": a, "to": a + len(mention), "mention": mention,
                 "polarity": [2.0, 4.0, 6.0][label]}
            )
        rows.append({"primary_gid": f"g{i}", "sentence_normalized": text, "targets": ts})
    return rows


@pytest.fixture(scope="module")
def news_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("newsmtsc") / "train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _newsmtsc_rows()))
    return path


def test_newsmtsc_reader_checks_spans_and_maps_labels(tmp_path, news_file):
    rows = mc.read_newsmtsc(news_file)
    assert rows[0] == (NEWS[0][0], [(0, 5, 1), (16, 22, 0)])
    assert mc.sentence_label(rows[0][1]) == mc.IGNORE_INDEX  # neutral and negative
    assert mc.sentence_label(rows[2][1]) == 0
    bad = _newsmtsc_rows()[:2]
    bad[1]["targets"][0]["to"] += 1
    path = tmp_path / "bad.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in bad))
    with pytest.raises(mc.DataError, match=r"bad.jsonl:2: sentence\[0:8\] is 'Kishida ',"):
        mc.read_newsmtsc(path)
    path.write_text('{"sentence_normalized": "x", "targets": [{"from": 0}]}\n')
    with pytest.raises(mc.DataError, match=r"bad.jsonl:1: not a NewsMTSC row"):
        mc.read_newsmtsc(path)


def test_target_pieces_are_the_mentions_word_pieces():
    tok = mc.load_tokenizer(base_encoder_dir())
    text = "The heroic Ukrainian army was hailed by Zelenskyy's allies."
    a, b = text.index("heroic Ukrainian army"), text.index("Zelenskyy")
    rows = [(text, [(a, a + len("heroic Ukrainian army"), 2), (b, b + len("Zelenskyy"), 1)])]
    ex = mc.encode_newsmtsc(tok, rows, 128)[0]
    pieces = tok.convert_ids_to_tokens(ex["ids"])
    got = [[pieces[i] for i in pos] for pos, _ in ex["targets"]]
    assert got[0] == ["heroic", "ukrainian", "army"], got
    # A name cut into several pieces keeps them all, and not the possessive after it.
    assert len(got[1]) > 1 and "".join(got[1]).replace("##", "") == "zelenskyy", got
    assert ex["sent_label"] == mc.IGNORE_INDEX


def test_two_class_sentiment_head_grows_to_three_keeping_its_rows():
    import torch

    model = mc.load_base(base_encoder_dir(), mc.SENTIMENT_LABELS, None, casing=True)
    with torch.no_grad():
        model.sentiment_classifier.weight.normal_()
        model.sentiment_classifier.bias.normal_()
    old_w = model.sentiment_classifier.weight.detach().clone()
    model.add_heads(mc.SENTIMENT3_LABELS, mc.TARGET_LABELS, ("cls", "mean", "max"))
    w = model.sentiment_classifier.weight
    assert torch.equal(w[0], old_w[0]) and torch.equal(w[2], old_w[1])
    assert not w[1].any()
    assert tuple(model.target_classifier.weight.shape) == (3, 3 * 384)
    assert model.tasks == ["sentiment", "target"]


@pytest.fixture(scope="module")
def news_trained(trained, news_file, tiny_data, tmp_path_factory):
    """The tiny sentiment + NER model continued on NewsMTSC-format data (``--init``)."""
    out = tmp_path_factory.mktemp("models") / "tiny-news-v4"
    return tr.train(
        out,
        init=trained.out,
        newsmtsc=news_file,
        newsmtsc_dev=news_file,
        sst2=tiny_data,
        conll=tiny_data,
        epochs=15,
        batch_size=6,
        lr=2e-4,
        warmup_ratio=0.0,
        threads=2,
        seed=5,
        quiet=True,
    )


def test_newsmtsc_training_learns_the_target_head(news_trained, trained):
    res = news_trained
    first, last = res.mean_loss("news", first=3), res.mean_loss("news", last=3)
    assert last < 0.5 * first, (first, last)
    cfg = json.loads((res.out / "config.json").read_text())
    heads = cfg["presslens_heads"]
    assert heads["target"]["kind"] == "span" and heads["target"]["pooling"] == ["cls", "mean"]
    assert list(heads["sentiment"]["id2label"].values()) == mc.SENTIMENT3_LABELS
    assert "ner" in heads
    meta = json.loads((res.out / "training_args.json").read_text())
    assert meta["init"] == str(trained.out) and meta["newsmtsc_train_sentences"] == len(NEWS)
    # Scored after every epoch on the dev file; it learned its (tiny) training set, in
    # which one sentence holds a negative and a neutral target.
    assert len(res.dev) == 15 and res.dev[-1]["target_accuracy"] >= 0.75, res.dev[-1]


def test_evaluate_newsmtsc_goes_through_the_rust_path_and_agrees_with_pytorch(
    news_trained, news_file
):
    res = ev.evaluate(str(news_trained.out), newsmtsc=news_file, precision="fp32")["newsmtsc"]
    n_targets = sum(len(t) for _, t in NEWS)
    assert res["sentences"] == len(NEWS) and res["targets"] == n_targets
    agreeing = [t for _, t in NEWS if len({label for _, label in t}) == 1]
    assert res["agreeing_sentences"] == len(agreeing)
    model = mc.load_model(news_trained.out)
    tok = mc.load_tokenizer(news_trained.out)
    ref = mc.score_newsmtsc(model, mc.encode_newsmtsc(tok, mc.read_newsmtsc(news_file), 128))
    # Same weights, same spans, fp32 on both sides: the same predictions.
    assert res["target_accuracy"] == pytest.approx(ref["target_accuracy"], abs=1e-9), (res, ref)
    assert res["target_macro_f1"] == pytest.approx(ref["target_macro_f1"], abs=1e-9)
    assert res["sentence_macro_f1"] == pytest.approx(ref["sentence_macro_f1"], abs=1e-9)
    assert "NewsMTSC" in ev.format_result({"model": "m", "encoder_precision": "fp32",
                                           "newsmtsc": res})


def test_predict_targets_scores_the_given_spans(news_trained):
    text = "Japan condemned Russia's invasion of Ukraine."
    spans = [(0, 5), (16, 22)]
    sents, targets = presslens.predict(
        [text], sentiment_model=news_trained.out, ner_model=news_trained.out, targets=[spans]
    )
    assert targets["text"].to_list() == ["Japan", "Russia"]
    assert targets.select("start", "end").rows() == spans
    assert set(targets["sentiment_label"].to_list()) <= {"negative", "neutral", "positive"}
    assert sents.height == 1 and sents["sentiment_label"][0] is not None
    with pytest.raises(presslens.PresslensError, match="targets"):
        presslens.predict([text, text], sentiment_model=news_trained.out,
                          ner_model=news_trained.out, targets=[spans])
    with pytest.raises(presslens.PresslensError, match="target head"):
        presslens.predict([text], sentiment_model=news_trained.out, ner_model="none",
                          targets=[spans])
