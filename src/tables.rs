//! The output tables: their names, their columns, and the rows that fill them.
//!
//! Every table name and column is written here once: the sink writes these frames (each
//! table a folder of part files, `<name>/part-NNNNN.parquet`), the manifest lists [`TABLES`],
//! and Python reads the names from `presslens._presslens.TABLES`.

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::link::{Aggregator, CoocRows, CorpusIndex, StatsRows, VariantRows};

/// The tables of a run, in order; each is written as `<name>.parquet`.
pub const TABLES: [&str; 6] = [
    "documents",
    "sentences",
    "entities",
    "entity_stats",
    "cooccurrence",
    "name_variants",
];
/// Name of the run's manifest file.
pub const MANIFEST: &str = "manifest.json";

/// Columns of the `documents` table, which kept input columns may not shadow.
pub const DOCUMENT_COLUMNS: [&str; 9] = [
    "doc_id",
    "source",
    "title",
    "text",
    "n_chars",
    "n_sentences",
    "sentiment_mean",
    "error",
    "warning",
];

/// Rows of the three tables for a chunk of documents (column-oriented).
#[derive(Debug, Default, Clone)]
pub struct Rows {
    pub doc: DocRows,
    pub sent: SentRows,
    pub ent: EntRows,
}

#[derive(Debug, Default, Clone)]
pub struct DocRows {
    pub doc_id: Vec<String>,
    pub source: Vec<String>,
    pub title: Vec<Option<String>>,
    pub text: Vec<String>,
    pub n_chars: Vec<i64>,
    pub n_sentences: Vec<i64>,
    pub sentiment_mean: Vec<Option<f64>>,
    pub error: Vec<Option<String>>,
    pub warning: Vec<Option<String>>,
    /// Per document, the values of the kept input columns (see `InputSpec::keep_cols`).
    pub meta: Vec<Vec<Option<String>>>,
}

#[derive(Debug, Default, Clone)]
pub struct SentRows {
    pub doc_id: Vec<String>,
    pub sent_idx: Vec<i64>,
    pub start: Vec<i64>,
    pub end: Vec<i64>,
    pub text: Vec<String>,
    pub sentiment_label: Vec<Option<String>>,
    pub sentiment_score: Vec<Option<f32>>,
    pub polarity: Vec<Option<f32>>,
}

#[derive(Debug, Default, Clone)]
pub struct EntRows {
    pub doc_id: Vec<String>,
    pub sent_idx: Vec<i64>,
    pub start: Vec<i64>,
    pub end: Vec<i64>,
    pub text: Vec<String>,
    pub label: Vec<String>,
    pub score: Vec<f32>,
    /// The sentiment toward the mention (the target head's), else its sentence's; the
    /// `sentences` columns of the same names.
    pub sentiment_label: Vec<Option<String>>,
    pub sentiment_score: Vec<Option<f32>>,
    pub polarity: Vec<Option<f32>>,
    // Linking within the document; replaced by `entity` / `alias_source` once the corpus
    // is resolved.
    pub name: Vec<String>,
    pub ent_label: Vec<String>,
    pub from_table: Vec<bool>,
}

/// All tables of an analysis, in [`TABLES`] order.
#[derive(Debug, Clone)]
pub struct Tables {
    frames: Vec<(&'static str, DataFrame)>,
}

impl Tables {
    /// Name the frames, given in [`TABLES`] order.
    pub fn new(frames: [DataFrame; 6]) -> Self {
        Tables {
            frames: TABLES.into_iter().zip(frames).collect(),
        }
    }

    /// One table by name.
    pub fn get(&self, name: &str) -> Option<&DataFrame> {
        self.frames.iter().find(|(n, _)| *n == name).map(|(_, f)| f)
    }

    /// Rows of a table (0 for an unknown name).
    pub fn height(&self, name: &str) -> usize {
        self.get(name).map_or(0, DataFrame::height)
    }

    /// (name, frame) in [`TABLES`] order.
    pub fn into_named(self) -> Vec<(&'static str, DataFrame)> {
        self.frames
    }
}

pub(crate) fn table_err(table: &str) -> impl Fn(PolarsError) -> Error + '_ {
    move |source| Error::Table {
        table: table.to_string(),
        source,
    }
}

impl Rows {
    /// Append another chunk's rows.
    pub fn extend(&mut self, o: Rows) {
        macro_rules! ext {
            ($t:ident: $($f:ident),+) => { $( self.$t.$f.extend(o.$t.$f); )+ };
        }
        ext!(doc: doc_id, source, title, text, n_chars, n_sentences, sentiment_mean, error, warning,
             meta);
        ext!(sent: doc_id, sent_idx, start, end, text, sentiment_label, sentiment_score, polarity);
        ext!(ent: doc_id, sent_idx, start, end, text, label, score, sentiment_label,
             sentiment_score, polarity, name, ent_label, from_table);
    }

    /// The documents and sentences frames; `kept` names the kept input columns, appended
    /// to `documents` as string columns.
    pub(crate) fn doc_sent_frames(
        d: DocRows,
        s: SentRows,
        kept: &[String],
    ) -> Result<[DataFrame; 2]> {
        let meta: Vec<Column> = kept
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let values: Vec<Option<String>> = d
                    .meta
                    .iter()
                    .map(|row| row.get(j).cloned().flatten())
                    .collect();
                Column::new(name.as_str().into(), values)
            })
            .collect();
        let mut documents = df!(
            "doc_id" => d.doc_id, "source" => d.source, "title" => d.title, "text" => d.text,
            "n_chars" => d.n_chars, "n_sentences" => d.n_sentences,
            "sentiment_mean" => d.sentiment_mean, "error" => d.error, "warning" => d.warning,
        )
        .map_err(table_err("documents"))?;
        documents
            .hstack_mut(&meta)
            .map_err(table_err("documents"))?;
        let sentences = df!(
            "doc_id" => s.doc_id, "sent_idx" => s.sent_idx, "start" => s.start, "end" => s.end,
            "text" => s.text, "sentiment_label" => s.sentiment_label,
            "sentiment_score" => s.sentiment_score, "polarity" => s.polarity,
        )
        .map_err(table_err("sentences"))?;
        Ok([documents, sentences])
    }

    /// Build all tables of an in-memory analysis; `index` must have observed these rows.
    pub fn into_tables(self, index: &CorpusIndex, kept: &[String]) -> Result<Tables> {
        let Rows { doc, sent, ent } = self;
        let [documents, sentences] = Self::doc_sent_frames(doc, sent, kept)?;
        let mut agg = Aggregator::default();
        let entities = ent.linked_frame(index, &mut agg)?;
        let [entity_stats, cooccurrence, name_variants] = analysis_frames(agg)?;
        Ok(Tables::new([
            documents,
            sentences,
            entities,
            entity_stats,
            cooccurrence,
            name_variants,
        ]))
    }
}

/// Empty `documents`, `sentences` and mentions frames of a distributed run's batch (see
/// [`crate::pipeline::Pipeline::analyze_batch`]): their columns and types.
pub fn batch_frames(kept: &[String]) -> Result<[DataFrame; 3]> {
    let [d, s] = Rows::doc_sent_frames(DocRows::default(), SentRows::default(), kept)?;
    Ok([d, s, EntRows::default().spill_frame()?])
}

impl EntRows {
    /// Entity rows with their linking columns, as spilled during a run.
    pub(crate) fn spill_frame(self) -> Result<DataFrame> {
        let e = self;
        df!(
            "doc_id" => e.doc_id, "sent_idx" => e.sent_idx, "start" => e.start, "end" => e.end,
            "text" => e.text, "label" => e.label, "score" => e.score,
            "sentiment_label" => e.sentiment_label, "sentiment_score" => e.sentiment_score,
            "polarity" => e.polarity, "_name" => e.name, "_ent_label" => e.ent_label,
            "_from_table" => e.from_table,
        )
        .map_err(table_err("entities"))
    }

    /// Read back a slice of the spill file.
    pub(crate) fn from_spill(df: &DataFrame) -> std::result::Result<Self, PolarsError> {
        fn strs(df: &DataFrame, c: &str) -> PolarsResult<Vec<String>> {
            Ok(df
                .column(c)?
                .str()?
                .iter()
                .map(|v| v.unwrap_or_default().to_string())
                .collect())
        }
        fn ints(df: &DataFrame, c: &str) -> PolarsResult<Vec<i64>> {
            Ok(df
                .column(c)?
                .i64()?
                .iter()
                .map(|v| v.unwrap_or(0))
                .collect())
        }
        Ok(EntRows {
            doc_id: strs(df, "doc_id")?,
            sent_idx: ints(df, "sent_idx")?,
            start: ints(df, "start")?,
            end: ints(df, "end")?,
            text: strs(df, "text")?,
            label: strs(df, "label")?,
            score: df
                .column("score")?
                .f32()?
                .iter()
                .map(|v| v.unwrap_or(0.0))
                .collect(),
            sentiment_label: df
                .column("sentiment_label")?
                .str()?
                .iter()
                .map(|v| v.map(str::to_string))
                .collect(),
            sentiment_score: df.column("sentiment_score")?.f32()?.iter().collect(),
            polarity: df.column("polarity")?.f32()?.iter().collect(),
            name: strs(df, "_name")?,
            ent_label: strs(df, "_ent_label")?,
            from_table: df
                .column("_from_table")?
                .bool()?
                .iter()
                .map(|v| v.unwrap_or(false))
                .collect(),
        })
    }
}

impl EntRows {
    /// The final `entities` frame: each mention with its canonical `entity` and
    /// `alias_source` (see [`crate::link::link_mentions`], which also feeds `agg`).
    pub(crate) fn linked_frame(
        &self,
        index: &CorpusIndex,
        agg: &mut Aggregator,
    ) -> Result<DataFrame> {
        let e = self;
        let (entity, source) = crate::link::link_mentions(e, index, agg);
        df!(
            "doc_id" => &e.doc_id, "sent_idx" => &e.sent_idx, "start" => &e.start,
            "end" => &e.end, "text" => &e.text, "label" => &e.label, "score" => &e.score,
            "sentiment_label" => &e.sentiment_label, "sentiment_score" => &e.sentiment_score,
            "polarity" => &e.polarity, "entity" => entity, "alias_source" => source,
        )
        .map_err(table_err("entities"))
    }
}

/// Corpus-level linking of a distributed run ([`crate::link::link_distinct`]): `distinct`
/// holds the document-linked mentions counted by the spill frame's linking columns and
/// surface (`_ent_label`, `_name`, `_from_table`, `text`, and `count`); returns them with
/// the `entity` and `alias_source` of the `entities` table.
pub fn link_distinct_frame(distinct: DataFrame) -> Result<DataFrame> {
    let err = table_err("entities");
    let strs = |c: &str| -> Result<Vec<String>> {
        Ok(distinct
            .column(c)
            .map_err(&err)?
            .str()
            .map_err(&err)?
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect())
    };
    let (label, name, surface) = (strs("_ent_label")?, strs("_name")?, strs("text")?);
    let from_table: Vec<bool> = distinct
        .column("_from_table")
        .and_then(|c| c.bool().cloned())
        .map_err(&err)?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let count: Vec<u64> = distinct
        .column("count")
        .and_then(|c| c.cast(&DataType::UInt64))
        .and_then(|c| c.u64().cloned())
        .map_err(&err)?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let rows: Vec<crate::link::DistinctMention> = (0..label.len())
        .map(|i| crate::link::DistinctMention {
            label: &label[i],
            name: &name[i],
            from_table: from_table[i],
            surface: &surface[i],
            count: count[i],
        })
        .collect();
    let (entity, source): (Vec<String>, Vec<&str>) =
        crate::link::link_distinct(&rows).into_iter().unzip();
    let mut out = distinct.clone();
    out.with_column(Column::new("entity".into(), entity))
        .map_err(&err)?;
    out.with_column(Column::new("alias_source".into(), source))
        .map_err(&err)?;
    Ok(out)
}

/// The `entity_stats`, `cooccurrence` and `name_variants` frames of the mentions `agg` saw.
pub(crate) fn analysis_frames(agg: Aggregator) -> Result<[DataFrame; 3]> {
    let (s, c, v): (StatsRows, CoocRows, VariantRows) = agg.finish();
    let stats = df!(
        "scope" => s.scope, "doc_id" => s.doc_id, "entity" => s.entity, "label" => s.label,
        "mentions" => s.mentions, "documents" => s.documents, "sentences" => s.sentences,
        "mean_polarity" => s.mean_polarity, "n_positive" => s.n_positive,
        "n_neutral" => s.n_neutral, "n_negative" => s.n_negative,
        "first_sent" => s.first_sent, "last_sent" => s.last_sent,
    )
    .map_err(table_err("entity_stats"))?;
    let cooc = df!(
        "entity_a" => c.entity_a, "label_a" => c.label_a, "entity_b" => c.entity_b,
        "label_b" => c.label_b, "sentences" => c.sentences, "documents" => c.documents,
        "mean_polarity" => c.mean_polarity, "polarity_a" => c.polarity_a,
        "polarity_b" => c.polarity_b,
    )
    .map_err(table_err("cooccurrence"))?;
    let variants = df!(
        "entity" => v.entity, "label" => v.label, "doc_id" => v.doc_id,
        "surface" => v.surface, "mentions" => v.mentions,
    )
    .map_err(table_err("name_variants"))?;
    Ok([stats, cooc, variants])
}
