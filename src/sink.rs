//! Stage 5 — sink: the output tables and their Parquet files.
//!
//! Each table is written as one zstd-compressed Parquet file, chunk by chunk (one row
//! group per chunk), so memory stays bounded however large the corpus. Files are written
//! under a temporary name in the output folder and renamed into place only when the run
//! has finished, so a reader never sees a half-written table.

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::link::{
    Aggregator, AliasSource, CoocRows, CorpusIndex, MentionRow, StatsRows, VariantRows,
};

/// Table names; each is written as `<name>.parquet`.
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
    // Linking within the document, and the sentence's sentiment (for the analysis
    // tables); replaced by `entity` / `alias_source` once the corpus is resolved.
    pub name: Vec<String>,
    pub ent_label: Vec<String>,
    pub from_table: Vec<bool>,
    pub polarity: Vec<Option<f32>>,
    pub sentiment: Vec<Option<String>>,
}

/// All tables of an analysis.
#[derive(Debug, Clone)]
pub struct Tables {
    pub documents: DataFrame,
    pub sentences: DataFrame,
    pub entities: DataFrame,
    pub entity_stats: DataFrame,
    pub cooccurrence: DataFrame,
    pub name_variants: DataFrame,
}

impl Tables {
    /// (name, frame) in [`TABLES`] order.
    pub fn into_named(self) -> [(&'static str, DataFrame); 6] {
        [
            ("documents", self.documents),
            ("sentences", self.sentences),
            ("entities", self.entities),
            ("entity_stats", self.entity_stats),
            ("cooccurrence", self.cooccurrence),
            ("name_variants", self.name_variants),
        ]
    }
}

fn table_err(table: &str) -> impl Fn(PolarsError) -> Error + '_ {
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
        ext!(ent: doc_id, sent_idx, start, end, text, label, score, name, ent_label, from_table,
             polarity, sentiment);
    }

    /// The documents and sentences frames; `kept` names the kept input columns, appended
    /// to `documents` as string columns.
    fn doc_sent_frames(d: DocRows, s: SentRows, kept: &[String]) -> Result<[DataFrame; 2]> {
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
        let entities = link_entities(&ent, index, &mut agg)?;
        let (stats, cooc, variants) = agg.finish();
        let [entity_stats, cooccurrence, name_variants] = analysis_frames(stats, cooc, variants)?;
        Ok(Tables {
            documents,
            sentences,
            entities,
            entity_stats,
            cooccurrence,
            name_variants,
        })
    }
}

impl EntRows {
    /// Entity rows with their linking columns, as spilled during a run.
    fn spill_frame(self) -> Result<DataFrame> {
        let e = self;
        df!(
            "doc_id" => e.doc_id, "sent_idx" => e.sent_idx, "start" => e.start, "end" => e.end,
            "text" => e.text, "label" => e.label, "score" => e.score, "_name" => e.name,
            "_ent_label" => e.ent_label, "_from_table" => e.from_table,
            "_polarity" => e.polarity, "_sentiment" => e.sentiment,
        )
        .map_err(table_err("entities"))
    }

    /// Read back a slice of the spill file.
    fn from_spill(df: &DataFrame) -> std::result::Result<Self, PolarsError> {
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
            name: strs(df, "_name")?,
            ent_label: strs(df, "_ent_label")?,
            from_table: df
                .column("_from_table")?
                .bool()?
                .iter()
                .map(|v| v.unwrap_or(false))
                .collect(),
            polarity: df.column("_polarity")?.f32()?.iter().collect(),
            sentiment: df
                .column("_sentiment")?
                .str()?
                .iter()
                .map(|v| v.map(str::to_string))
                .collect(),
        })
    }
}

/// Final `entities` rows (canonical `entity`, `alias_source`), feeding the aggregator.
fn link_entities(e: &EntRows, index: &CorpusIndex, agg: &mut Aggregator) -> Result<DataFrame> {
    let n = e.doc_id.len();
    let mut entity = Vec::with_capacity(n);
    let mut source = Vec::with_capacity(n);
    for i in 0..n {
        let canonical = index.canonical(&e.ent_label[i], &e.name[i]);
        let src = if e.from_table[i] {
            AliasSource::Table
        } else if canonical != e.text[i] {
            AliasSource::Rule
        } else {
            AliasSource::None
        };
        agg.push(&MentionRow {
            doc_id: &e.doc_id[i],
            sent_idx: e.sent_idx[i],
            surface: &e.text[i],
            entity: &canonical,
            label: &e.ent_label[i],
            polarity: e.polarity[i],
            sentiment: e.sentiment[i].as_deref(),
        });
        entity.push(canonical);
        source.push(src.as_str());
    }
    df!(
        "doc_id" => &e.doc_id, "sent_idx" => &e.sent_idx, "start" => &e.start,
        "end" => &e.end, "text" => &e.text, "label" => &e.label, "score" => &e.score,
        "entity" => entity, "alias_source" => source,
    )
    .map_err(table_err("entities"))
}

fn analysis_frames(s: StatsRows, c: CoocRows, v: VariantRows) -> Result<[DataFrame; 3]> {
    let stats = df!(
        "scope" => s.scope, "doc_id" => s.doc_id, "entity" => s.entity, "label" => s.label,
        "mentions" => s.mentions, "documents" => s.documents, "sentences" => s.sentences,
        "mean_polarity" => s.mean_polarity, "n_positive" => s.n_positive,
        "n_negative" => s.n_negative, "first_sent" => s.first_sent, "last_sent" => s.last_sent,
    )
    .map_err(table_err("entity_stats"))?;
    let cooc = df!(
        "entity_a" => c.entity_a, "label_a" => c.label_a, "entity_b" => c.entity_b,
        "label_b" => c.label_b, "sentences" => c.sentences, "documents" => c.documents,
        "mean_polarity" => c.mean_polarity,
    )
    .map_err(table_err("cooccurrence"))?;
    let variants = df!(
        "entity" => v.entity, "label" => v.label, "doc_id" => v.doc_id,
        "surface" => v.surface, "mentions" => v.mentions,
    )
    .map_err(table_err("name_variants"))?;
    Ok([stats, cooc, variants])
}

/// Rows of the spill file read back per post-pass slice.
const SPILL_SLICE: usize = 200_000;

struct TableFile {
    name: &'static str,
    tmp: tempfile::NamedTempFile,
    writer: polars::io::parquet::write::BatchedWriter<File>,
}

impl TableFile {
    fn create(dir: &Path, name: &'static str, schema: &Schema) -> Result<Self> {
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{name}.parquet."))
            .tempfile_in(dir)
            .map_err(|e| Error::io("cannot create a temporary file in", dir, e))?;
        let file = tmp
            .as_file()
            .try_clone()
            .map_err(|e| Error::io("cannot open", tmp.path(), e))?;
        let writer = ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .batched(schema)
            .map_err(table_err(name))?;
        Ok(TableFile { name, tmp, writer })
    }

    fn write(&mut self, df: &DataFrame) -> Result<()> {
        if df.height() > 0 {
            self.writer.write_batch(df).map_err(table_err(self.name))?;
        }
        Ok(())
    }

    /// Close the Parquet file and flush it to disk (still under its temporary name).
    fn close(self) -> Result<tempfile::NamedTempFile> {
        self.writer.finish().map_err(table_err(self.name))?;
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::io("cannot flush", self.tmp.path(), e))?;
        Ok(self.tmp)
    }
}

/// Writes the tables of one run into an output folder, atomically.
///
/// Documents and sentences stream straight into their files. Entity mentions stream into
/// a temporary spill file with their in-document linking; [`TableSink::finish`] reads it
/// back slice by slice once the corpus-wide names are known, writing `entities` and the
/// analysis tables. Nothing appears under a final name until the run has finished.
pub struct TableSink {
    dir: PathBuf,
    kept: Vec<String>,
    documents: TableFile,
    sentences: TableFile,
    spill: TableFile,
}

impl std::fmt::Debug for TableSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TableSink").field("dir", &self.dir).finish()
    }
}

/// Write `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".presslens-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file in", dir, e))?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::io("cannot write", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::io("cannot rename into", path, e.error))?;
    Ok(())
}

impl TableSink {
    /// Create the output folder (if needed) and open the temporary table files; `kept`
    /// names the input columns kept in `documents`.
    pub fn create(dir: &Path, kept: &[String]) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io("cannot create output folder", dir, e))?;
        let [d, s] = Rows::doc_sent_frames(DocRows::default(), SentRows::default(), kept)?;
        let spill = EntRows::default().spill_frame()?;
        Ok(TableSink {
            dir: dir.to_path_buf(),
            kept: kept.to_vec(),
            documents: TableFile::create(dir, "documents", d.schema())?,
            sentences: TableFile::create(dir, "sentences", s.schema())?,
            spill: TableFile::create(dir, "entities-spill", spill.schema())?,
        })
    }

    /// Append a chunk's rows to the tables.
    pub fn write(&mut self, rows: Rows) -> Result<()> {
        let Rows { doc, sent, ent } = rows;
        let [d, s] = Rows::doc_sent_frames(doc, sent, &self.kept)?;
        self.documents.write(&d)?;
        self.sentences.write(&s)?;
        self.spill.write(&ent.spill_frame()?)
    }

    /// Link the spilled mentions with the corpus' names, write `entities` and the
    /// analysis tables, move every table into place and write the manifest last.
    pub fn finish(self, index: &CorpusIndex, manifest: &serde_json::Value) -> Result<Vec<PathBuf>> {
        let dir = self.dir.clone();
        let mut done = vec![
            ("documents", self.documents.close()?),
            ("sentences", self.sentences.close()?),
        ];
        let spill = self.spill.close()?;
        let empty = link_entities(&EntRows::default(), index, &mut Aggregator::default())?;
        let mut entities = TableFile::create(&dir, "entities", empty.schema())?;
        let mut agg = Aggregator::default();
        let n_rows = {
            let f = spill
                .reopen()
                .map_err(|e| Error::io("cannot open", spill.path(), e))?;
            ParquetReader::new(f)
                .num_rows()
                .map_err(table_err("entities"))?
        };
        let mut offset = 0;
        while offset < n_rows {
            let f = spill
                .reopen()
                .map_err(|e| Error::io("cannot open", spill.path(), e))?;
            let df = ParquetReader::new(f)
                .with_slice(Some((offset, SPILL_SLICE)))
                .finish()
                .map_err(table_err("entities"))?;
            offset += SPILL_SLICE;
            let rows = EntRows::from_spill(&df).map_err(table_err("entities"))?;
            entities.write(&link_entities(&rows, index, &mut agg)?)?;
        }
        drop(spill);
        done.push(("entities", entities.close()?));
        let (stats, cooc, variants) = agg.finish();
        let frames = analysis_frames(stats, cooc, variants)?;
        for (name, df) in ["entity_stats", "cooccurrence", "name_variants"]
            .into_iter()
            .zip(frames)
        {
            let mut f = TableFile::create(&dir, name, df.schema())?;
            f.write(&df)?;
            done.push((name, f.close()?));
        }
        let mut written = Vec::new();
        for (name, tmp) in done {
            let target = dir.join(format!("{name}.parquet"));
            tmp.persist(&target)
                .map_err(|e| Error::io("cannot rename into", &target, e.error))?;
            written.push(target);
        }
        let target = dir.join(MANIFEST);
        let text = serde_json::to_string_pretty(manifest).map_err(|e| Error::Option {
            option: "manifest",
            reason: e.to_string(),
        })?;
        write_atomic(&target, text.as_bytes())?;
        written.push(target);
        Ok(written)
    }
}

/// Read one table of a finished run.
pub fn read_table(dir: &Path, name: &str) -> Result<DataFrame> {
    let path = dir.join(format!("{name}.parquet"));
    let f = File::open(&path).map_err(|e| Error::io("cannot open", &path, e))?;
    ParquetReader::new(f).finish().map_err(table_err(name))
}

/// Per-document error entry of the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DocError {
    pub doc_id: String,
    pub source: String,
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(doc: &str, n: usize) -> Rows {
        let mut r = Rows::default();
        r.doc.doc_id.push(doc.into());
        r.doc.source.push("s".into());
        r.doc.title.push(None);
        r.doc.text.push("x".repeat(n));
        r.doc.n_chars.push(n as i64);
        r.doc.n_sentences.push(1);
        r.doc.sentiment_mean.push(Some(0.5));
        r.doc.error.push(None);
        r.doc.warning.push(None);
        r
    }

    #[test]
    fn ingest_knows_the_documents_columns_kept_columns_may_not_shadow() {
        let kept = ["outlet".to_string()];
        let [d, _] =
            Rows::doc_sent_frames(DocRows::default(), SentRows::default(), &kept).expect("frames");
        let names: Vec<&str> = d.get_column_names().iter().map(|c| c.as_str()).collect();
        let mut expected = crate::ingest::DOCUMENT_COLUMNS.to_vec();
        expected.push("outlet");
        assert_eq!(names, expected);
    }

    #[test]
    fn chunks_become_one_file_per_table_and_no_temp_files_remain() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut sink = TableSink::create(dir.path(), &[]).expect("sink");
        sink.write(rows("a", 3)).expect("w1");
        sink.write(Rows::default()).expect("empty chunk");
        sink.write(rows("b", 5)).expect("w2");
        // Nothing is visible under the final names before finish.
        assert!(!dir.path().join("documents.parquet").exists());
        sink.finish(&CorpusIndex::default(), &serde_json::json!({"ok": true}))
            .expect("finish");
        let docs = read_table(dir.path(), "documents").expect("read");
        assert_eq!(docs.height(), 2);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
        assert!(names.contains(&"manifest.json".to_string()));
        let ents = read_table(dir.path(), "entities").expect("read");
        assert_eq!(ents.height(), 0);
        assert_eq!(ents.get_column_names().len(), 9);
        for t in TABLES {
            assert!(dir.path().join(format!("{t}.parquet")).is_file(), "{t}");
        }
    }

    #[test]
    fn dropped_sink_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            let mut sink = TableSink::create(dir.path(), &[]).expect("sink");
            sink.write(rows("a", 3)).expect("w1");
        }
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
    }
}
