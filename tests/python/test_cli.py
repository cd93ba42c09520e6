from __future__ import annotations

import json
import subprocess
import sys

import polars as pl
import presslens
from conftest import SEEDS, check_offsets


def cli(*args, input=None):
    return subprocess.run(
        [sys.executable, "-m", "presslens", *map(str, args)],
        capture_output=True, text=True, input=input, timeout=600,
    )


def models(m):
    return ["--sentiment-model", m, "--ner-model", m]


def test_help_and_usage_errors():
    r = cli("--help")
    assert r.returncode == 0 and "run" in r.stdout and "bench" in r.stdout
    r = cli("run")
    assert r.returncode == 2 and "OUTPUT" in r.stderr.upper()


def test_split_command():
    r = cli("split", "--offsets", input="Dr. Smith left at 5 p.m. on Friday. He came back.")
    assert r.returncode == 0
    lines = [line.split("\t") for line in r.stdout.splitlines()]
    assert [x[2] for x in lines] == ["Dr. Smith left at 5 p.m. on Friday.", "He came back."]
    assert lines[1][:2] == ["36", "49"]


def test_missing_input_is_fatal_with_clear_message(tmp_path, tiny_model):
    r = cli("run", tmp_path / "nope", "-o", tmp_path / "out", *models(tiny_model))
    assert r.returncode == 2
    assert "nope" in r.stderr and "no such file or directory" in r.stderr
    assert not (tmp_path / "out").exists()


def test_bad_documents_do_not_stop_the_run(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "good.txt").write_text("A title\n\nTokyo spoke. Moscow replied.\n")
    (corpus / "sub" / "nested.md").write_text("# Heading\n\nNested article text here.\n")
    (corpus / "empty.txt").write_text("  \n\n")
    (corpus / "binary.txt").write_bytes(b"\x00\x01\x02\x03PK\x00")
    (corpus / "latin1.txt").write_bytes("Café in Tōkyō. Prix: 5 €.".encode("latin-1", "replace"))
    (corpus / "boiler.txt").write_text("Leave a Reply\nPlease enter your comment!\n")
    out = tmp_path / "out"
    r = cli("run", corpus, "-o", out, *models(tiny_model))
    assert r.returncode == 0, r.stderr
    assert "3 document(s) failed" in r.stderr
    docs = presslens.read_table(out, "documents")
    errors = dict(zip(docs["doc_id"], docs["error"]))
    assert errors["good"] is None and errors["sub/nested"] is None and errors["latin1"] is None
    assert errors["empty"] == "empty document"
    assert "binary" in errors["binary"]
    assert errors["boiler"].startswith("no text left after cleaning")
    warn = dict(zip(docs["doc_id"], docs["warning"]))
    assert "invalid UTF-8" in warn["latin1"]
    assert docs.filter(pl.col("doc_id") == "sub/nested")["title"].item() == "Heading"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["counts"]["documents"] == 6
    assert {e["doc_id"] for e in manifest["errors"]} == {"empty", "binary", "boiler"}
    sents = presslens.read_table(out, "sentences")
    check_offsets(docs, sents)
    hidden = [p.name for p in out.iterdir() if p.name.startswith(".")]
    assert hidden == [".presslens.lock"], "temp files left"


def test_jsonl_and_csv_inputs(tmp_path, tiny_model):
    jl = tmp_path / "c.jsonl"
    jl.write_text(
        json.dumps({"id": "n1", "title": "Given title", "text": "Kishida met Biden. They talked."})
        + "\n{broken json\n"
        + json.dumps({"id": "n3", "body": "no text field"}) + "\n"
    )
    out = tmp_path / "out1"
    r = cli("run", jl, "-o", out, *models(tiny_model))
    assert r.returncode == 0, r.stderr
    docs = presslens.read_table(out, "documents")
    assert docs["doc_id"].to_list() == ["n1", "c-line2", "n3"]
    assert docs["title"][0] == "Given title"
    assert docs["error"][1].startswith("invalid JSON") and docs["source"][1].endswith("c.jsonl:2")
    assert docs["error"][2] == "row has no 'text' field"

    csv = tmp_path / "c.csv"
    csv.write_text('key,article\nk1,"Putin spoke, then left. Abe stayed."\nk2,\n')
    out = tmp_path / "out2"
    r = cli("run", csv, "-o", out, "--id-col", "key", "--text-col", "article", *models(tiny_model))
    assert r.returncode == 0, r.stderr
    docs = presslens.read_table(out, "documents")
    assert docs["doc_id"].to_list() == ["k1", "k2"]
    assert docs["n_sentences"].to_list() == [2, 0]
    r = cli("run", csv, "-o", out, "--text-col", "nope", *models(tiny_model))
    assert r.returncode == 2 and "no text column 'nope'; columns are: key, article" in r.stderr


def test_parquet_input_and_python_run_matches_cli(tmp_path, tiny_model):
    src = tmp_path / "in.parquet"
    frame = pl.DataFrame({"doc_id": ["x", "y"], "text": ["Tokyo met Moscow. Two.", "Three."]})
    frame.write_parquet(src)
    manifest = presslens.run(src, tmp_path / "py", sentiment_model=tiny_model,
                             ner_model=tiny_model, drop_patterns="^Three")
    r = cli("run", src, "-o", tmp_path / "cli", "--drop-pattern", "^Three", *models(tiny_model))
    assert r.returncode == 0, r.stderr
    py, cl = presslens.read_run(tmp_path / "py"), presslens.read_run(tmp_path / "cli")
    assert manifest == py.manifest
    assert manifest["counts"]["documents"] == 2 and manifest["counts"]["sentences"] == 2
    assert manifest["errors"][0]["doc_id"] == "y", "the drop pattern reached the run"
    assert py.manifest["options"] == cl.manifest["options"]
    for name in presslens.TABLES:
        assert getattr(py, name).equals(getattr(cl, name)), name
    assert py.entities.height == manifest["counts"]["entities"]
    assert py.manifest["models"]["ner"]["source"] == str(tiny_model)


def test_kept_columns_reach_the_documents_table(tmp_path, tiny_model):
    csv = tmp_path / "c.csv"
    csv.write_text("id,outlet,text,year\n1,NHK,Tokyo spoke.,2022\n2,TASS,,2023\n3,TASS,Moscow.,\n")
    out = tmp_path / "out"
    r = cli("run", csv, "-o", out, "--keep-col", "outlet,year", *models(tiny_model))
    assert r.returncode == 0, r.stderr
    docs = presslens.read_table(out, "documents")
    assert docs.columns[-2:] == ["outlet", "year"]
    assert docs.select("doc_id", "outlet", "year").rows() == [
        ("1", "NHK", "2022"), ("2", "TASS", "2023"), ("3", "TASS", None)]
    assert docs["error"][1] == "empty 'text' field", "a failed row keeps its columns"
    # The same from Python, from JSONL (non-strings are kept as JSON text).
    jl = tmp_path / "c.jsonl"
    jl.write_text(json.dumps({"text": "Hi there.", "outlet": "NHK", "tags": ["a", 1]}) + "\n")
    presslens.run(jl, tmp_path / "out2", keep_cols=["outlet", "tags"],
                  sentiment_model=tiny_model, ner_model=tiny_model)
    docs = presslens.read_table(tmp_path / "out2", "documents")
    assert docs.select("outlet", "tags").rows() == [("NHK", '["a",1]')]
    # Errors name the problem, before anything is written.
    for args, message in [
        (["--keep-col", "url"], "no kept column 'url'; columns are: id, outlet, text, year"),
        (["--keep-col", "title"], "'title' is a column of the documents table"),
    ]:
        r = cli("run", csv, "-o", tmp_path / "bad", *args, *models(tiny_model))
        assert r.returncode == 2 and message in r.stderr, r.stderr
        assert not (tmp_path / "bad" / "documents").exists()
    r = cli("run", SEEDS, "-o", tmp_path / "bad", "--keep-col", "outlet", *models(tiny_model))
    assert r.returncode == 2 and "join your metadata to the documents table" in r.stderr


def test_seed_run_is_independent_of_chunking(tmp_path, tiny_model):
    tables = {}
    for chunk in ("1", "256"):
        out = tmp_path / f"out{chunk}"
        r = cli("run", SEEDS, "-o", out, "--chunk-size", chunk, *models(tiny_model))
        assert r.returncode == 0, r.stderr
        assert presslens.read_table(out, "documents").height == 5
        tables[chunk] = (presslens.read_table(out, "sentences"),
                         presslens.read_table(out, "entities"))
    (s1, e1), (s256, e256) = tables["1"], tables["256"]
    assert s1.height > 200
    assert s1.select("doc_id", "start", "end", "text").equals(
        s256.select("doc_id", "start", "end", "text"))
    assert e1.select("doc_id", "start", "end", "label").equals(
        e256.select("doc_id", "start", "end", "label"))


def test_cleaning_options(tmp_path, tiny_model):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    para = "The ministry repeated its long statement about the disputed islands today."
    (corpus / "dup.txt").write_text(f"Title\n\n{para}\n\n{para}\n\nPROMO CORNER 42X\n")
    rules = tmp_path / "rules.txt"
    rules.write_text("# my rules\n^promo corner 42x$\n")
    out = tmp_path / "out"
    r = cli("run", corpus, "-o", out, "--clean-rules", rules, *models(tiny_model))
    assert r.returncode == 0, r.stderr
    text = presslens.read_table(out, "documents")["text"].item()
    assert text.count(para) == 1 and "PROMO CORNER" not in text
    r = cli("run", corpus, "-o", out, "--keep-duplicate-lines", *models(tiny_model))
    assert r.returncode == 2 and "option keep_duplicate_lines: true now" in r.stderr
    r = cli("run", corpus, "-o", out, "--keep-duplicate-lines", "--overwrite",
            *models(tiny_model))
    assert r.returncode == 0, r.stderr
    text = presslens.read_table(out, "documents")["text"].item()
    assert text.count(para) == 2 and "PROMO CORNER 42X" in text
    r = cli("run", corpus, "-o", out, "--drop-pattern", "(", *models(tiny_model))
    assert r.returncode == 2 and "(" in r.stderr


def test_strict_exit_codes(tmp_path, tiny_model):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Tokyo spoke. Moscow replied.\n")
    (corpus / "empty.txt").write_text("\n")
    r = cli("run", corpus, "-o", tmp_path / "a", *models(tiny_model))
    assert r.returncode == 0, r.stderr
    r = cli("run", corpus, "-o", tmp_path / "b", "--strict", *models(tiny_model))
    assert r.returncode == 1 and "1 document(s) failed" in r.stderr
    assert (tmp_path / "b" / "manifest.json").is_file(), "--strict still writes the tables"
    (corpus / "empty.txt").unlink()
    r = cli("run", corpus, "-o", tmp_path / "c", "--strict", *models(tiny_model))
    assert r.returncode == 0, r.stderr


def test_manifest_timings_include_linking_and_finishing(tmp_path, tiny_model):
    out = tmp_path / "out"
    r = cli("run", SEEDS, "-o", out, *models(tiny_model))
    assert r.returncode == 0, r.stderr
    t = json.loads((out / "manifest.json").read_text())["timings_s"]
    assert t["link"] > 0
    stages = t["ingest"] + t["clean"] + t["segment"] + t["infer"] + t["link"] + t["write"]
    assert t["total"] >= stages * 0.99, t


def test_python_options_are_the_cli_options():
    """Every option of the core reaches Python's run/analyze/predict and the CLI."""
    import inspect

    from presslens import _presslens

    def params(fn):
        return set(inspect.signature(fn).parameters)

    pipeline = set(_presslens.option_names_of("pipeline"))
    inputs = set(_presslens.option_names_of("input"))
    infer = set(_presslens.option_names_of("infer"))
    assert params(presslens.run) == {"input", "output", "append", "overwrite"} | inputs | pipeline
    assert params(presslens.analyze) == {"texts", "ids"} | pipeline
    assert params(presslens.predict) == {"sentences", "targets"} | infer
    assert set(presslens.default_options()) == pipeline
    flags = {"drop_patterns": "--drop-pattern", "abbreviations": "--abbreviation",
             "keep_cols": "--keep-col", "share_encoder": "--no-shared-encoder",
             "gazetteer": "--no-gazetteer"}
    # --no-shared-encoder and --no-encoder-streams are hidden benchmarking switches; the
    # others are in --help.
    help_text = cli("run", "--help").stdout
    for name in (pipeline | inputs) - {"share_encoder", "encoder_streams"}:
        flag = flags.get(name, "--" + name.replace("_", "-"))
        assert flag in help_text, flag
