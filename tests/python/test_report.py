"""The analysis views, `presslens report` (rendered in headless Chromium) and the notebook."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from conftest import REPO
from presslens import views

ACTORS = "Russia,Japan,Putin,Kishida,NATO,United States"


@pytest.fixture(scope="module")
def html_report(seed_run_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "sub" / "report.html"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "presslens",
            "report",
            str(seed_run_dir),
            "-o",
            str(out),
            "--entities",
            ACTORS,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout
    return out


def test_names_resolve_to_linked_entities(seed_run):
    assert views.resolve_entities(
        seed_run, ["putin", "Kishida", "Northern Territories", "USA"]
    ) == ["Vladimir Putin", "Fumio Kishida", "Kuril Islands", "United States"]
    with pytest.raises(ValueError, match="'Puttin' is not in this run; did you mean 'Putin'"):
        views.resolve_entities(seed_run, ["Puttin"])


def test_views_agree_with_the_tables(seed_run):
    # Mean polarity per article = the documents table's sentiment_mean (another code path).
    mean = views.mean_polarity(seed_run).table.join(seed_run.documents, on="doc_id")
    assert mean.height == 5
    assert ((mean["mean_polarity"] - mean["sentiment_mean"]).abs() < 1e-3).all()
    # Each entity-sentiment cell is the document-scope mean from entity_stats.
    actors = views.resolve_entities(seed_run, ACTORS.split(","))
    tone = views.entity_sentiment(seed_run, actors).table
    assert set(tone.columns) == {"doc_id", *actors}
    stats = seed_run.entity_stats.filter(pl.col("scope") == "document")
    for row in tone.iter_rows(named=True):
        for actor in actors:
            s = stats.filter((pl.col("doc_id") == row["doc_id"]) & (pl.col("entity") == actor))
            if s.height == 0:
                assert row[actor] is None
            elif s.height == 1:
                assert row[actor] == pytest.approx(s["mean_polarity"][0], abs=1e-3)
    # The naming view (default entity: most surface forms) is the islands, with the forms
    # each article used.
    names = views.name_variants(seed_run).table
    assert set(names["entity"]) == {"Kuril Islands"}
    doc004 = next(c for c in names.columns if c.startswith("004"))
    forms = names.filter(pl.col(doc004).is_not_null())["surface"].to_list()
    assert forms == ["Northern Territories"]
    # Co-occurrence: the top pair is Japan–Russia, and the matrix is symmetric.
    co = views.cooccurrence(seed_run, n=6)
    assert {co.table["entity_a"][0], co.table["entity_b"][0]} == {"Japan", "Russia"}
    arcs = views.sentiment_arcs(seed_run)
    assert arcs.table["sentences"].sum() == seed_run.sentences.height
    assert len(arcs.figure.axes) == 5


def _two_groups(run, tmp_path) -> Path:
    """A metadata table putting the first three seed articles in group A, the rest in B."""
    ids = sorted(run.documents["doc_id"].to_list())
    meta = tmp_path / "meta.csv"
    pl.DataFrame({"doc_id": ids, "side": ["A"] * 3 + ["B"] * (len(ids) - 3)}).write_csv(meta)
    return meta


def test_grouped_views_pool_their_articles(seed_run, tmp_path):
    run = views.with_metadata(seed_run, _two_groups(seed_run, tmp_path))
    side = run.documents.select("doc_id", "side")
    # Mean polarity per group = the mean over all sentences of its articles.
    sents = seed_run.sentences.join(side, on="doc_id").filter(pl.col("polarity").is_not_null())
    mean = views.mean_polarity(run, by="side")
    assert mean.title == "Mean polarity per side"
    for g, m, n_docs in mean.table.select("side", "mean_polarity", "documents").iter_rows():
        group = sents.filter(pl.col("side") == g)
        assert m == pytest.approx(group["polarity"].mean(), abs=1e-3)
        assert n_docs == group["doc_id"].n_unique()
    # Entity sentiment per group = the mean polarity of the group's mentions of the entity
    # (their sentiment, toward the mention or of its sentence), recomputed from `entities`.
    actors = views.resolve_entities(seed_run, ACTORS.split(","))
    tone = views.entity_sentiment(run, actors, by="side").table
    assert tone["side"].to_list() == ["A", "B"]
    mentions = seed_run.entities.filter(pl.col("entity").is_in(actors)).join(side, on="doc_id")
    for row in tone.iter_rows(named=True):
        for actor in actors:
            m = mentions.filter((pl.col("side") == row["side"]) & (pl.col("entity") == actor))
            expected = m["polarity"].mean() if m.height else None
            assert row[actor] == pytest.approx(expected, abs=1e-3), (row["side"], actor)
    # Names per group: the counts of the group's articles added up.
    names = views.name_variants(run, ["Kuril Islands"], by="side").table
    nv = seed_run.name_variants.join(side, on="doc_id").filter(pl.col("entity") == "Kuril Islands")
    for g in ("A", "B"):
        assert names[g].sum() == nv.filter(pl.col("side") == g)["mentions"].sum()
    top = views.top_entities(run, by="side")
    assert top.table.columns == ["rank", "A", "B"] and top.title == "Top entities per side"
    arcs = views.sentiment_arcs(run, by="side")
    assert arcs.figure.axes[0].get_title(loc="left").startswith("[A] 000")


def test_metadata_and_grouping_errors(seed_run, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,side\n1,A\n")
    with pytest.raises(ValueError, match="needs a doc_id column"):
        views.with_metadata(seed_run, bad)
    bad.write_text("doc_id,title\n1,A\n")
    with pytest.raises(ValueError, match="title are already in the documents table"):
        views.with_metadata(seed_run, bad)
    bad.write_text("doc_id,side\nx,A\nx,B\n")
    with pytest.raises(ValueError, match="doc_id repeated: x"):
        views.with_metadata(seed_run, bad)
    with pytest.raises(ValueError, match="no column 'outlet' in the documents table"):
        views.entity_sentiment(seed_run, by="outlet")


def test_report_by_group_from_the_cli(seed_run_dir, seed_run, tmp_path):
    out = tmp_path / "r.html"
    r = subprocess.run(
        [sys.executable, "-m", "presslens", "report", str(seed_run_dir), "-o", str(out),
         "--meta", str(_two_groups(seed_run, tmp_path)), "--by", "side"],
        capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 0, r.stderr
    page = out.read_text(encoding="utf-8")
    for title in ("Mean polarity per side", "Entity sentiment per side", "How each side names it"):
        assert f"<h2>{title}</h2>" in page
    assert page.count('src="data:image/png;base64,') == 6
    r = subprocess.run(
        [sys.executable, "-m", "presslens", "report", str(seed_run_dir), "-o", str(out),
         "--by", "outlet"],
        capture_output=True, text=True, timeout=600,
    )
    assert r.returncode == 1 and "keep one with `presslens run --keep-col outlet`" in r.stderr


def test_report_is_self_contained(html_report, seed_run):
    page = html_report.read_text(encoding="utf-8")
    # Nothing is fetched at view time: no external src/href, every image inline.
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<script src" not in page and "<link" not in page
    # The style sheet (package data presslens/report.css) is inlined.
    css = (REPO / "python" / "presslens" / "report.css").read_text(encoding="utf-8")
    assert f"<style>\n{css}</style>" in page
    assert page.count('src="data:image/png;base64,') == 6
    for title in (
        "Sentiment along each article",
        "Mean polarity per article",
        "Top entities per article",
        "How each article names it",
        "Entity sentiment per article",
        "Entity co-occurrence",
        "Limits",
    ):
        assert f"<h2>{title}</h2>" in page
    assert "Northern Territories" in page and "Vladimir Putin" in page
    # The limits name the kind of sentiment the run's models give.
    m = seed_run.manifest
    classes = m["models"]["sentiment"]["sentiment_classes"]
    assert ("movie-review sentiment" in page) == (classes == 2)
    assert ("Sentiment has three classes" in page) == (classes == 3)
    target = m["mention_sentiment"] == "target"
    assert ("Entity sentiment is the sentiment toward each mention" in page) == target
    assert ("Entity sentiment is sentence sentiment" in page) == (not target)
    assert html_report.stat().st_mode & 0o044  # readable by others, like any written file


def test_report_renders_in_headless_chromium(html_report, tmp_path):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail(
            "Chromium is needed to check the report renders: apt-get install chromium "
            "(`make deps` does)"
        )
    shot = tmp_path / "report.png"
    r = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1280,2400",
            f"--screenshot={shot}",
            html_report.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    from matplotlib.image import imread

    img = imread(shot)[..., :3]
    assert img.shape[:2] == (2400, 1280)
    # Not blank: a real share of non-white pixels...
    non_white = (img < 0.95).any(axis=2).mean()
    assert non_white > 0.03, f"only {non_white:.1%} of the screenshot is not white"
    # ...and coloured ones: the figures' red and blue bars were decoded and drawn.
    saturation = img.max(axis=2) - img.min(axis=2)
    assert (saturation > 0.25).mean() > 0.01
    assert np.unique((img * 15).round().reshape(-1, 3), axis=0).shape[0] > 50


def test_report_errors_name_the_problem(seed_run_dir, tmp_path):
    cli = [sys.executable, "-m", "presslens", "report"]
    r = subprocess.run(
        [*cli, str(tmp_path), "-o", str(tmp_path / "r.html")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1
    assert f"{tmp_path}: not a finished presslens run" in r.stderr
    r = subprocess.run(
        [*cli, str(seed_run_dir), "-o", str(tmp_path / "r.html"), "--entities", "Atlantis"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 1 and "entity 'Atlantis' is not in this run" in r.stderr
    assert not (tmp_path / "r.html").exists()


def test_notebook_executes(tmp_path):
    import nbclient
    import nbformat

    path = REPO / "notebooks" / "seed_analysis.ipynb"
    nb = nbformat.read(path, as_version=4)
    # Committed without outputs (README): nothing stale in the repository.
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    client = nbclient.NotebookClient(
        nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    client.execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 6
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "'Vladimir Putin', 'Fumio Kishida', 'NATO', 'United States'" in printed
