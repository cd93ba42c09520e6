"""Analysis views of a finished run: the tables and figures behind ``presslens report``.

Each view is a function of an :class:`~presslens.Analysis` that returns the polars table it
shows and, where a picture helps, a matplotlib ``Figure`` (made without ``pyplot``, so it
works under any backend: inline in Jupyter, or rendered to PNG for the report). The
notebook ``notebooks/seed_analysis.ipynb`` and the HTML report (:mod:`presslens.report`)
use the same functions.

Views: sentiment along each article, mean polarity per article, top entities per article,
how each document names an entity (``name_variants``), entity sentiment per document (the
mentions' sentiment: toward each mention when the model has a target head), and entity
co-occurrence. Views stay bounded on large corpora: the per-document views show the
documents with the most sentences (``max_docs``), and the report says so. With ``by`` (a
``documents`` column such as ``outlet``, kept from the input or joined with
:func:`with_metadata`) they compare groups of articles instead.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from matplotlib.figure import Figure

from presslens import Analysis

__all__ = [
    "View",
    "build_views",
    "cooccurrence",
    "doc_labels",
    "entity_sentiment",
    "mean_polarity",
    "name_variants",
    "resolve_entities",
    "sentiment_arcs",
    "top_entities",
    "with_metadata",
]

NEG, POS, NEUTRAL = "#c0392b", "#2471a3", "#7f8c8d"
_LABEL_COLOURS = {"positive": POS, "negative": NEG, "neutral": NEUTRAL}


@dataclass(frozen=True)
class View:
    """One view: a title, prose, the table it shows and an optional figure."""

    title: str
    text: str
    table: pl.DataFrame | None = None
    figure: Figure | None = None


# --------------------------------------------------------------------------- helpers


def _shorten(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def doc_labels(run: Analysis, width: int = 38) -> dict[str, str]:
    """A short label per document: its id and the start of its title."""
    labels = {}
    for doc_id, title in run.documents.select("doc_id", "title").iter_rows():
        short_id = doc_id if len(doc_id) <= 12 else doc_id[:12] + "…"
        labels[doc_id] = f"{short_id} · {_shorten(title, width)}" if title else short_id
    return labels


def _largest_docs(run: Analysis, max_docs: int) -> list[str]:
    """Ids of the ``max_docs`` analysed documents with the most sentences, in corpus order."""
    docs = run.documents.filter(pl.col("error").is_null()).with_row_index("_order")
    top = docs.sort(["n_sentences", "_order"], descending=[True, False]).head(max_docs)
    return top.sort("_order")["doc_id"].to_list()


@dataclass(frozen=True)
class _Units:
    """What the per-document views compare: the articles themselves, or groups of articles
    sharing a value of a ``documents`` column (``by``, e.g. the outlet)."""

    key: str  # column name of the unit in the views' tables: "doc_id" or the column
    noun: str  # "article" or the column name
    doc_unit: pl.DataFrame  # doc_id -> unit, for the documents taking part
    order: list[str]  # units shown, in order
    label: Callable[[str, int], str]  # (unit, width) -> label shown in figures

    def attach(self, df: pl.DataFrame) -> pl.DataFrame:
        """``df`` (with ``doc_id``) restricted to the units shown, with a ``unit`` column."""
        return df.join(self.doc_unit, on="doc_id", how="inner").filter(
            pl.col("unit").is_in(self.order)
        )


NO_VALUE = "(none)"


def _check_by(run: Analysis, by: str) -> None:
    if by not in run.documents.columns:
        raise ValueError(
            f"no column {by!r} in the documents table (columns: "
            f"{', '.join(run.documents.columns)}); keep one with `presslens run --keep-col "
            f"{by}` or join one with `presslens report --meta FILE`"
        )


def _units(run: Analysis, by: str | None, max_docs: int) -> _Units:
    if by is None:
        docs = _largest_docs(run, max_docs)
        return _Units(
            "doc_id",
            "article",
            pl.DataFrame(
                {"doc_id": docs, "unit": docs}, schema={"doc_id": pl.String, "unit": pl.String}
            ),
            docs,
            lambda unit, width: doc_labels(run, width).get(unit, unit),
        )
    _check_by(run, by)
    docs = run.documents.filter(pl.col("error").is_null()).select(
        "doc_id",
        pl.col(by).cast(pl.String).fill_null(NO_VALUE).alias("unit"),
        "n_sentences",
    )
    sizes = (
        docs.group_by("unit")
        .agg(pl.col("n_sentences").sum(), pl.len().alias("docs"))
        .sort(["n_sentences", "unit"], descending=[True, False])
        .head(max_docs)
    )
    n_docs = {u: n for u, _, n in sizes.iter_rows()}

    def label(unit: str, width: int) -> str:
        n = n_docs.get(unit, 0)
        return f"{_shorten(unit, width)} ({n} doc{'s' if n != 1 else ''})"

    return _Units(by, by, docs.select("doc_id", "unit"), sorted(n_docs), label)


def with_metadata(run: Analysis, path: str | os.PathLike) -> Analysis:
    """``run`` with the columns of a metadata table joined to ``documents`` on ``doc_id``.

    ``path``: CSV, TSV, JSONL or Parquet with a ``doc_id`` column (for a folder of text
    files, the file name without extension) and e.g. ``outlet``, ``date``, ``stance``.
    """
    p = Path(path)
    readers = {
        ".csv": lambda: pl.read_csv(p, infer_schema=False),
        ".tsv": lambda: pl.read_csv(p, separator="\t", infer_schema=False),
        ".jsonl": lambda: pl.read_ndjson(p),
        ".ndjson": lambda: pl.read_ndjson(p),
        ".parquet": lambda: pl.read_parquet(p),
    }
    read = readers.get(p.suffix.lower())
    if read is None:
        raise ValueError(f"{p}: metadata must be .csv, .tsv, .jsonl or .parquet")
    try:
        meta = read()
    except (OSError, pl.exceptions.PolarsError) as e:
        raise ValueError(f"{p}: cannot read metadata: {e}") from e
    if "doc_id" not in meta.columns:
        cols = ", ".join(meta.columns)
        raise ValueError(f"{p}: metadata needs a doc_id column (columns: {cols})")
    clash = [c for c in meta.columns if c != "doc_id" and c in run.documents.columns]
    if clash:
        raise ValueError(f"{p}: columns {', '.join(clash)} are already in the documents table")
    meta = meta.with_columns(pl.col("doc_id").cast(pl.String))
    dup = meta.filter(pl.col("doc_id").is_duplicated())["doc_id"].unique().sort().to_list()
    if dup:
        raise ValueError(f"{p}: doc_id repeated: {', '.join(dup[:5])}")
    documents = run.documents.join(meta, on="doc_id", how="left", maintain_order="left")
    return dataclasses.replace(run, documents=documents)


def _corpus_stats(run: Analysis) -> pl.DataFrame:
    return run.entity_stats.filter(pl.col("scope") == "corpus")


def resolve_entities(run: Analysis, names: Sequence[str]) -> list[str]:
    """Map user-given names to the run's canonical entity names.

    A name matches a canonical entity name (case-insensitively) or, failing that, a surface
    form some document used (``"Putin"`` → ``"Vladimir Putin"``). Unknown names raise
    ``ValueError`` with the closest entity names.
    """
    stats = _corpus_stats(run).group_by("entity").agg(pl.col("mentions").sum())
    canon = {e.lower(): e for e in stats["entity"].to_list()}
    surfaces = (
        run.name_variants.group_by(pl.col("surface").str.to_lowercase().alias("s"), "entity")
        .agg(pl.col("mentions").sum())
        .sort("mentions", descending=True)
    )
    out: list[str] = []
    for name in names:
        key = name.strip().lower()
        if key in canon:
            out.append(canon[key])
            continue
        hit = surfaces.filter(pl.col("s") == key)
        if hit.height:
            out.append(hit["entity"][0])
            continue
        known = list(canon.values()) + run.name_variants["surface"].unique().to_list()
        close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ValueError(f"entity {name!r} is not in this run{hint}")
    return list(dict.fromkeys(out))


def _default_entities(run: Analysis, n: int = 6) -> list[str]:
    """The entities found in the most documents (then the most mentioned), MISC excluded."""
    stats = (
        _corpus_stats(run)
        .filter(pl.col("label") != "MISC")
        .group_by("entity")
        .agg(pl.col("documents").max(), pl.col("mentions").sum())
        .sort(["documents", "mentions", "entity"], descending=[True, True, False])
    )
    return stats.head(n)["entity"].to_list()


def _heatmap(
    values: list[list[float | None]],
    rows: list[str],
    cols: list[str],
    notes: list[list[str]] | None,
    *,
    cmap: str,
    vmin: float,
    vmax: float,
    colorbar: str,
) -> Figure:
    import numpy as np

    data = np.array([[np.nan if v is None else v for v in r] for r in values], dtype=float)
    fig = Figure(figsize=(max(6.0, 0.95 * len(cols) + 3.5), max(2.2, 0.42 * len(rows) + 1.6)))
    ax = fig.add_subplot()
    ax.set_facecolor("#eeeeee")
    img = ax.imshow(np.ma.masked_invalid(data), cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), rows, fontsize=8)
    if notes is not None:
        for i, row in enumerate(notes):
            for j, note in enumerate(row):
                if note:
                    dark = not np.isnan(data[i, j]) and abs(data[i, j]) > 0.6 * max(
                        abs(vmin), abs(vmax)
                    )
                    ax.text(
                        j,
                        i,
                        note,
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if dark else "black",
                    )
    fig.colorbar(img, ax=ax, label=colorbar, shrink=0.8)
    fig.tight_layout()
    return fig


def _count_heatmap(
    values: list[list[int | None]], rows: list[str], cols: list[str], *, cmap: str, colorbar: str
) -> Figure:
    """A heatmap of counts from 0 to the largest, each non-empty cell annotated."""
    vmax = max((v for row in values for v in row if v), default=1)
    notes = [[str(v) if v else "" for v in row] for row in values]
    return _heatmap(
        values, rows, cols, notes, cmap=cmap, vmin=0, vmax=vmax, colorbar=colorbar
    )


# --------------------------------------------------------------------------- views


def sentiment_arcs(
    run: Analysis, *, max_docs: int = 12, window: int = 5, by: str | None = None
) -> View:
    """Polarity of each sentence along each article, with a centred rolling mean (titles
    prefixed with the article's ``by`` value when given)."""
    docs = _largest_docs(run, max_docs)
    labels = doc_labels(run, width=70)
    if by is not None:
        _check_by(run, by)
        group = dict(run.documents.select("doc_id", pl.col(by).cast(pl.String)).iter_rows())
        labels = {d: f"[{group.get(d) or NO_VALUE}] {lab}" for d, lab in labels.items()}
    sents = run.sentences.filter(pl.col("doc_id").is_in(docs) & pl.col("polarity").is_not_null())
    fig = Figure(figsize=(9.5, 1.55 * max(1, len(docs)) + 0.6))
    axes = fig.subplots(max(1, len(docs)), 1, sharey=True, squeeze=False)[:, 0]
    for ax, doc_id in zip(axes, docs):
        d = sents.filter(pl.col("doc_id") == doc_id).sort("sent_idx")
        x, y = d["sent_idx"].to_list(), d["polarity"].to_list()
        colours = [_LABEL_COLOURS.get(lab, NEUTRAL) for lab in d["sentiment_label"].to_list()]
        ax.bar(x, y, width=0.85, color=colours, alpha=0.45)
        if len(y) >= 2:
            smooth = d["polarity"].rolling_mean(window, center=True, min_samples=1).to_list()
            ax.plot(x, smooth, color="black", linewidth=1.2)
        ax.axhline(0, color="#555555", linewidth=0.5)
        ax.set_ylim(-1.05, 1.05)
        ax.set_title(labels[doc_id], fontsize=8.5, loc="left")
        ax.tick_params(labelsize=7)
    axes[-1].set_xlabel("sentence index", fontsize=8)
    fig.supylabel("polarity (P(pos) − P(neg))", fontsize=8)
    fig.tight_layout()
    table = (
        sents.group_by("doc_id")
        .agg(
            pl.len().alias("sentences"),
            *[
                (pl.col("sentiment_label") == label).mean().round(3).alias(f"share_{label}")
                for label in ("positive", "neutral", "negative")
            ],
            pl.col("polarity").mean().round(3).alias("mean_polarity"),
        )
        .sort("doc_id")
    )
    n_docs = run.documents.filter(pl.col("error").is_null()).height
    shown = "" if n_docs <= len(docs) else f" (the {len(docs)} longest of {n_docs} documents)"
    text = (
        f"Each bar is one sentence{shown}, its height the polarity (P(positive) − "
        "P(negative)), its colour the label: blue positive, grey neutral, red negative; the "
        f"line is a centred rolling mean over {window} sentences. Runs of negative sentences "
        "show where an article turns to conflict, sanctions or blame."
    )
    return View("Sentiment along each article", text, table, fig)


def mean_polarity(run: Analysis, *, by: str | None = None) -> View:
    """Mean sentence polarity per article (or per value of the ``by`` column), ± one
    standard error."""
    units = _units(run, by, max_docs=sys.maxsize)
    key = units.key
    stats = (
        units.attach(run.sentences.filter(pl.col("polarity").is_not_null()))
        .group_by("unit")
        .agg(
            pl.col("polarity").mean().alias("mean_polarity"),
            (pl.col("polarity").std() / pl.len().sqrt()).fill_null(0.0).alias("std_error"),
            pl.len().alias("sentences"),
            pl.col("doc_id").n_unique().alias("documents"),
        )
        .sort("mean_polarity")
    )
    if stats.height <= 40:
        fig = Figure(figsize=(8.5, 0.42 * stats.height + 1.4))
        ax = fig.add_subplot()
        y = stats["mean_polarity"].to_list()
        ax.barh(
            [units.label(u, 38) for u in stats["unit"]],
            y,
            xerr=stats["std_error"].to_list(),
            color=[POS if v >= 0 else NEG for v in y],
            alpha=0.8,
            capsize=3,
        )
        ax.axvline(0, color="#555555", linewidth=0.6)
        ax.set_xlim(-1, 1)
        ax.tick_params(labelsize=8)
        ax.set_xlabel("mean sentence polarity (± 1 standard error)", fontsize=8)
    else:
        fig = Figure(figsize=(8.5, 3.2))
        ax = fig.add_subplot()
        ax.hist(stats["mean_polarity"].to_list(), bins=40, range=(-1, 1), color=NEUTRAL)
        ax.set_xlabel(f"mean sentence polarity per {units.noun}", fontsize=8)
        ax.set_ylabel(f"{units.noun}s", fontsize=8)
    fig.tight_layout()
    pooled = "" if by is None else " (all sentences of its articles pooled)"
    text = (
        f"The mean polarity of each {units.noun}'s sentences{pooled}. Error bars are one "
        "standard error: bars whose error bars overlap are not clearly different in tone."
    )
    table = (
        stats.with_columns(pl.col("mean_polarity", "std_error").round(3))
        .rename({"unit": key})
        .sort(key)
    )
    if by is None:
        table = table.drop("documents")
    return View(f"Mean polarity per {units.noun}", text, table, fig)


def top_entities(run: Analysis, *, n: int = 8, max_docs: int = 12, by: str | None = None) -> View:
    """The most mentioned entities of each article (or value of the ``by`` column)."""
    units = _units(run, by, max_docs)
    counts_df = (
        units.attach(run.entity_stats.filter(pl.col("scope") == "document"))
        .group_by("unit", "entity", "label")
        .agg(pl.col("mentions").sum())
    )
    per_unit = (
        counts_df.sort(["unit", "mentions", "entity"], descending=[False, True, False])
        .group_by("unit", maintain_order=True)
        .head(n)
    )
    table = (
        per_unit.with_columns(
            pl.format("{} {} ({})", pl.col("entity"), pl.col("label"), pl.col("mentions")).alias(
                "item"
            ),
            pl.int_range(pl.len()).over("unit").add(1).alias("rank"),
        )
        .select("unit", "rank", "item")
        .pivot(on="unit", index="rank", values="item")
    )
    # A heatmap of the corpus' top entities against the units.
    top = (
        _corpus_stats(run)
        .sort(["mentions", "entity"], descending=[True, False])
        .head(15)
        .select("entity", "label")
    )
    counts = {(e, lab, u): m for u, e, lab, m in counts_df.iter_rows()}
    values = [[counts.get((e, lab, u)) for u in units.order] for e, lab in top.iter_rows()]
    fig = None
    if top.height and units.order:
        fig = _count_heatmap(
            values,
            [f"{e} ({lab})" for e, lab in top.iter_rows()],
            [units.label(u, 24) for u in units.order],
            cmap="Greens",
            colorbar="mentions",
        )
    text = (
        f"The table lists the {n} most mentioned entities of each {units.noun} (label, "
        f"mentions). The heatmap counts the corpus' 15 most mentioned entities in each "
        f"{units.noun}: who and what each outlet talks about."
    )
    return View(f"Top entities per {units.noun}", text, table, fig)


def _variant_entities(run: Analysis, n: int) -> list[str]:
    forms = (
        run.name_variants.group_by("entity")
        .agg(
            pl.col("surface").str.to_lowercase().n_unique().alias("forms"),
            pl.col("doc_id").n_unique().alias("docs"),
            pl.col("mentions").sum(),
        )
        .filter((pl.col("forms") >= 2) & (pl.col("docs") >= 2))
        .sort(["forms", "mentions"], descending=True)
    )
    return forms.head(n)["entity"].to_list()


def name_variants(
    run: Analysis,
    entities: Sequence[str] | None = None,
    *,
    max_docs: int = 12,
    by: str | None = None,
) -> View:
    """How each article (or value of the ``by`` column) names an entity: surface forms ×
    articles, with counts.

    ``entities`` default to the entity with the most distinct surface forms used in at least
    two documents (with the seed alias table: the Kuril Islands).
    """
    chosen = list(entities) if entities else _variant_entities(run, 1)
    units = _units(run, by, max_docs)
    nv = units.attach(run.name_variants.filter(pl.col("entity").is_in(chosen)))
    counts_df = nv.group_by("entity", "surface", "unit").agg(pl.col("mentions").sum())
    table = (
        counts_df.sort("unit")
        .pivot(on="unit", index=["entity", "surface"], values="mentions")
        .sort(["entity", "surface"])
    )
    fig = None
    if nv.height:
        present = [u for u in units.order if u in set(nv["unit"].to_list())]
        rows = table.select("entity", "surface").rows()
        counts = {(e, sf, u): m for e, sf, u, m in counts_df.iter_rows()}
        values = [[counts.get((e, sf, u)) for u in present] for e, sf in rows]
        fig = _count_heatmap(
            values,
            [sf if len(chosen) == 1 else f"{sf} → {e}" for e, sf in rows],
            [units.label(u, 24) for u in present],
            cmap="Purples",
            colorbar="mentions",
        )
    others = _variant_entities(run, 10)
    text = (
        f"The names each {units.noun} uses for {', '.join(chosen) or 'no entity'} (linked to "
        "one entity by the alias table and the linking rules; the surface form is what the "
        "article wrote). The choice of name is itself a stance marker. Other entities named "
        f"in several ways: {', '.join(o for o in others if o not in chosen) or 'none'}."
    )
    return View(f"How each {units.noun} names it", text, table, fig)


def entity_sentiment(
    run: Analysis,
    entities: Sequence[str] | None = None,
    *,
    max_docs: int = 12,
    by: str | None = None,
) -> View:
    """Mean polarity of each entity's mentions, per article (or value of the ``by``
    column), with the counts of positive, neutral and negative mentions.

    A mention's polarity is the sentiment toward it when the model has a target head
    (``run.manifest["mention_sentiment"] == "target"``), else its sentence's."""
    chosen = list(entities) if entities else _default_entities(run)
    units = _units(run, by, max_docs)
    stats = run.entity_stats
    if "n_neutral" not in stats.columns:  # a run of presslens before three-class sentiment
        stats = stats.with_columns(pl.lit(0, pl.Int64).alias("n_neutral"))
    per_unit = (
        units.attach(
            stats.filter(
                (pl.col("scope") == "document")
                & pl.col("entity").is_in(chosen)
                & pl.col("mean_polarity").is_not_null()
            )
        )
        # Pool documents (and an entity tagged with two labels): the means are over
        # mentions, so weight them by mentions.
        .group_by("unit", "entity")
        .agg(
            (
                (pl.col("mean_polarity") * pl.col("mentions")).sum()
                / pl.col("mentions").sum()
            ).alias("mean_polarity"),
            pl.col("mentions", "n_positive", "n_neutral", "n_negative").sum(),
        )
    )
    look = {(row[0], row[1]): row[2:] for row in per_unit.iter_rows()}
    values = [[look.get((u, e), (None,))[0] for e in chosen] for u in units.order]

    def note(u: str, e: str) -> str:
        if (u, e) not in look:
            return "–"
        p, _, pos, neu, neg = look[(u, e)]
        return f"{p:+.2f}\n{pos}/{neu}/{neg}"

    notes = [[note(u, e) for e in chosen] for u in units.order]
    fig = None
    if chosen and units.order:
        fig = _heatmap(
            values,
            [units.label(u, 40) for u in units.order],
            chosen,
            notes,
            cmap="RdBu",
            vmin=-1,
            vmax=1,
            colorbar="mean polarity of its mentions",
        )
    table = (
        per_unit.with_columns(pl.col("mean_polarity").round(3))
        .pivot(on="entity", index="unit", values="mean_polarity")
        .rename({"unit": units.key})
        .sort(units.key)
    )
    if run.manifest.get("mention_sentiment") == "target":
        what = (
            "the sentiment toward each mention (the model's target head: in \"Japan "
            "condemned Russia\" Japan and Russia get their own), averaged over the entity's "
            "mentions"
        )
        caveat = "It is the model's reading of each sentence, not the article's stance."
    else:
        what = (
            "the mean polarity of the sentences that mention the entity (this model has no "
            "target head: every entity of a sentence gets that sentence's polarity)"
        )
        caveat = "It says in what tone an article writes around an entity, not whether it "
        caveat += "supports it."
    text = (
        f"For each {units.noun} and entity: {what}. Under each mean, the numbers of positive "
        f"/ neutral / negative mentions (– = not mentioned). {caveat}"
    )
    return View(f"Entity sentiment per {units.noun}", text, table, fig)


def cooccurrence(run: Analysis, *, n: int = 12) -> View:
    """How often the most mentioned entities appear in the same sentence."""
    co = run.cooccurrence
    top = (
        _corpus_stats(run)
        .filter(
            pl.col("entity").is_in(co["entity_a"].implode())
            | pl.col("entity").is_in(co["entity_b"].implode())
        )
        .group_by("entity")
        .agg(pl.col("mentions").sum())
        .sort(["mentions", "entity"], descending=[True, False])
        .head(n)["entity"]
        .to_list()
    )
    pairs = (
        co.filter(pl.col("entity_a").is_in(top) & pl.col("entity_b").is_in(top))
        .group_by("entity_a", "entity_b")
        .agg(pl.col("sentences").sum(), pl.col("documents").max())
    )
    count = {}
    for a, b, s, _ in pairs.iter_rows():
        count[(a, b)] = count.get((a, b), 0) + s
        count[(b, a)] = count.get((b, a), 0) + s
    values = [[count.get((a, b)) if a != b else None for b in top] for a in top]
    fig = None
    if top:
        fig = _count_heatmap(
            values, top, top, cmap="Oranges", colorbar="sentences mentioning both"
        )
    table = (
        co.sort(["sentences", "documents"], descending=True)
        .head(15)
        .with_columns(
            pl.col(c).round(3)
            for c in ("mean_polarity", "polarity_a", "polarity_b")
            if c in co.columns
        )
    )
    text = (
        f"Sentences that mention both entities, for the {len(top)} most mentioned entities "
        "(top pairs of the whole corpus in the table, with the mean polarity of each "
        "entity's mentions in those sentences, polarity_a and polarity_b, and of both, "
        "mean_polarity). Pairs show which actors the articles put side by side."
    )
    return View("Entity co-occurrence", text, table, fig)


# --------------------------------------------------------------------------- all views


def build_views(
    run: Analysis,
    *,
    entities: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    max_docs: int = 12,
    by: str | None = None,
) -> list[View]:
    """The report's views, in order (entity names are resolved with :func:`resolve_entities`).

    ``by``: a ``documents`` column (e.g. ``outlet``) to compare groups of articles instead
    of single articles in the per-document views."""
    ents = resolve_entities(run, entities) if entities else None
    vars_ = resolve_entities(run, variants) if variants else None
    return [
        sentiment_arcs(run, max_docs=max_docs, by=by),
        mean_polarity(run, by=by),
        top_entities(run, max_docs=max_docs, by=by),
        name_variants(run, vars_, max_docs=max_docs, by=by),
        entity_sentiment(run, ents, max_docs=max_docs, by=by),
        cooccurrence(run),
    ]
