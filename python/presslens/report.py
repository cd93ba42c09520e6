"""``presslens report``: one self-contained HTML file of a finished run's views.

The views (tables and figures) come from :mod:`presslens.views`, the same functions the
notebook ``notebooks/seed_analysis.ipynb`` uses; this module renders them as HTML, with the
style sheet ``report.css`` (package data) and the figures inlined, so nothing is fetched at
view time.
"""

from __future__ import annotations

import argparse
import base64
import html
import io
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import polars as pl
from matplotlib.figure import Figure

from presslens import Analysis, InputError, read_run
from presslens.views import View, _corpus_stats, build_views, with_metadata

__all__ = ["limits", "main", "render_html", "write_report"]

def limits(manifest: dict) -> str:
    """The "Limits" section, for the models the run used (its manifest): what the
    sentiment means depends on the sentiment head (two labels, SST-2 style, or three) and on
    where the entities' sentiment comes from (a target head, or the sentence)."""
    info = manifest.get("models", {}).get("sentiment") or {}
    classes = info.get("sentiment_classes") or len(info.get("labels", {}).get("sentiment", []))
    if classes == 3:
        sentiment = """<li><b>Sentiment has three classes</b> (negative, neutral, positive).
It measures the tone of the wording as the model learned it, not the author's stance toward a
country or person. Polarity is P(positive) − P(negative), not calibrated.</li>"""
    else:
        sentiment = """<li><b>Sentiment is movie-review sentiment.</b> The sentiment head has two
labels (SST-2 style, trained on film reviews). On political prose it measures the tone of the
wording, not the author's stance toward a country or person: a sentence condemning an invasion
and one praising a treaty can both come out negative or positive for reasons unrelated to the
dispute. Polarity is P(positive) − P(negative) per sentence, not calibrated.</li>"""
    if manifest.get("mention_sentiment") == "target":
        entity = """<li><b>Entity sentiment is the sentiment toward each mention</b>, from the
model's target head (in "Japan condemned Russia's invasion" Japan and Russia get their own).
It is the model's reading of one sentence at a time, not the article's stance; means over a
handful of mentions (see the counts) are noise.</li>"""
    else:
        entity = """<li><b>Entity sentiment is sentence sentiment.</b> An entity's polarity is the
mean polarity of the sentences that mention it (this model has no target head); it does not say
what the sentence says <i>about</i> that entity. Means over a handful of mentions are
noise.</li>"""
    return f"""\
<p><b>Read these figures with their limits in mind.</b></p>
<ul>
{sentiment}
{entity}
<li><b>NER is uncased and trained on 1996 Reuters news (CoNLL-2003)</b>: expect missed or
mistyped names (about 86 F1 on the CoNLL test set), nationality adjectives as MISC
("Russian"), and metonymy counted as places ("Tokyo" for the Japanese government).</li>
<li><b>Linking is rule-based</b> (titles, surnames, acronyms defined in the text) plus the user's
alias table. Names no rule can tie together stay separate unless the alias table maps
them.</li>
<li>A handful of opinion pieces is not a sample of any outlet's coverage.</li>
</ul>
"""


def _css() -> str:
    """The report's style sheet, ``report.css`` next to this module."""
    return resources.files("presslens").joinpath("report.css").read_text(encoding="utf-8")


def _png(fig: Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _table_html(df: pl.DataFrame, max_rows: int = 60) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    for row in df.head(max_rows).iter_rows():
        cells = []
        for v in row:
            if v is None:
                cells.append("<td></td>")
            elif isinstance(v, float):
                cells.append(f'<td class="num">{v:.3f}</td>')
            elif isinstance(v, int):
                cells.append(f'<td class="num">{v}</td>')
            else:
                cells.append(f"<td>{html.escape(str(v))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    more = (
        f"<p class='meta'>{df.height - max_rows} more rows not shown.</p>"
        if df.height > max_rows
        else ""
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>{more}"


def _view_html(view: View) -> str:
    parts = [f"<h2>{html.escape(view.title)}</h2>", f"<p class='note'>{html.escape(view.text)}</p>"]
    if view.figure is not None:
        parts.append(
            f'<img alt="{html.escape(view.title)}" src="data:image/png;base64,{_png(view.figure)}">'
        )
    if view.table is not None and view.table.height:
        parts.append(
            f"<details{' open' if view.figure is None else ''}><summary>table</summary>"
            f"{_table_html(view.table)}</details>"
        )
    return "\n".join(parts)


def render_html(run: Analysis, views: Sequence[View], *, title: str | None = None) -> str:
    """The self-contained HTML page of a run's views."""
    m = run.manifest
    counts = m.get("counts", {})
    distinct = _corpus_stats(run).height
    cards = [
        ("documents", counts.get("documents", run.documents.height)),
        ("sentences", counts.get("sentences", run.sentences.height)),
        ("entity mentions", counts.get("entities", run.entities.height)),
        ("distinct entities", distinct),
    ]
    failed = run.documents.filter(pl.col("error").is_not_null())
    models = m.get("models", {})
    model_lines = "".join(
        f"<li>{html.escape(task)}: {html.escape(str(info.get('source', '?')))}</li>"
        for task, info in models.items()
        if isinstance(info, dict)
    )
    created = m.get("created_unix")
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(created)) if created else "unknown"
    source = (m.get("input") or {}).get("path", "?")
    aliases = m.get("options", {}).get("aliases")
    doc_table = run.documents.select(
        "doc_id",
        "title",
        "n_sentences",
        pl.col("sentiment_mean").round(3),
        "error",
    )
    page_title = title or f"presslens report — {source}"
    body = [
        f"<h1>{html.escape(page_title)}</h1>",
        f"<p class='meta'>Run of {html.escape(str(source))} on {when}"
        f"{'; alias table ' + html.escape(str(aliases)) if aliases else '; no alias table'}"
        f"; presslens {html.escape(str(m.get('presslens_version', '?')))}.</p>",
        "<div class='cards'>"
        + "".join(f"<div class='card'><b>{v:,}</b>{html.escape(k)}</div>" for k, v in cards)
        + "</div>",
    ]
    if failed.height:
        body.append(
            f"<p class='err'>{failed.height} document(s) could not be analysed; see the "
            "documents table.</p>"
        )
    if model_lines:
        body.append(f"<p class='meta'>Models:</p><ul class='meta'>{model_lines}</ul>")
    body += [_view_html(v) for v in views]
    body += [
        "<h2>Documents</h2>",
        _table_html(doc_table, max_rows=50),
        "<h2>Limits</h2>",
        limits(m),
        "<p class='meta'>Made by <code>presslens report</code>. The tables behind every view "
        "are the run's Parquet files (documents, sentences, entities, entity_stats, "
        "cooccurrence, name_variants).</p>",
    ]
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(page_title)}</title><style>\n{_css()}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )


def write_report(
    run_dir: str | os.PathLike,
    output: str | os.PathLike,
    *,
    title: str | None = None,
    entities: Sequence[str] | None = None,
    variants: Sequence[str] | None = None,
    max_docs: int = 12,
    by: str | None = None,
    meta: str | os.PathLike | None = None,
) -> Path:
    """Write the HTML report of the finished run in ``run_dir`` to ``output`` (atomically).

    ``meta``: a table of document metadata joined on ``doc_id`` (see :func:`with_metadata`);
    ``by``: a ``documents`` column to group articles by (see :func:`build_views`)."""
    run = read_run(run_dir)
    if meta is not None:
        run = with_metadata(run, meta)
    views = build_views(run, entities=entities, variants=variants, max_docs=max_docs, by=by)
    page = render_html(run, views, title=title)
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(page)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def _names(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="presslens report",
        description="Write a self-contained HTML report (inline CSS and PNG figures, nothing "
        "fetched at view time) of a finished `presslens run` folder.",
    )
    parser.add_argument("run_dir", help="output folder of `presslens run`")
    parser.add_argument("-o", "--output", default="report.html", help="HTML file to write")
    parser.add_argument("--title", help="page title")
    parser.add_argument(
        "--entities",
        type=_names,
        help="comma-separated entities for the entity-sentiment view (canonical names or a "
        "surface form, e.g. 'Russia,Japan,Putin'); default: the most widespread",
    )
    parser.add_argument(
        "--variants",
        type=_names,
        help="comma-separated entities for the naming view; default: the entity with the most "
        "surface forms",
    )
    parser.add_argument(
        "--by",
        metavar="COLUMN",
        help="compare groups of articles sharing a value of this documents column (e.g. "
        "outlet, kept by `presslens run --keep-col outlet` or joined with --meta)",
    )
    parser.add_argument(
        "--meta",
        metavar="FILE",
        help="document metadata to join on doc_id: CSV, TSV, JSONL or Parquet with a doc_id "
        "column (for a folder of text files, the file name without extension)",
    )
    parser.add_argument(
        "--max-docs",
        type=int,
        default=12,
        help="articles (or groups) in per-document views (default 12)",
    )
    args = parser.parse_args(None if argv is None else list(argv))
    if args.max_docs < 1:
        parser.error("--max-docs must be at least 1")
    try:
        out = write_report(
            args.run_dir,
            args.output,
            title=args.title,
            entities=args.entities,
            variants=args.variants,
            max_docs=args.max_docs,
            by=args.by,
            meta=args.meta,
        )
    except (InputError, ValueError, OSError) as e:
        print(f"presslens report: error: {e}", file=sys.stderr)
        return 1
    print(f"presslens report: wrote {out} ({out.stat().st_size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
