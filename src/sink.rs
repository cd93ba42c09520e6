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

/// Table names; each is written as `<name>.parquet`.
pub const TABLES: [&str; 3] = ["documents", "sentences", "entities"];
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
        ext!(doc: doc_id, source, title, text, n_chars, n_sentences, sentiment_mean, error, warning);
        ext!(sent: doc_id, sent_idx, start, end, text, sentiment_label, sentiment_score, polarity);
        ext!(ent: doc_id, sent_idx, start, end, text, label, score);
    }

    /// Build the three DataFrames (documents, sentences, entities).
    pub fn into_frames(self) -> Result<[DataFrame; 3]> {
        let Rows {
            doc: d,
            sent: s,
            ent: e,
        } = self;
        let documents = df!(
            "doc_id" => d.doc_id, "source" => d.source, "title" => d.title, "text" => d.text,
            "n_chars" => d.n_chars, "n_sentences" => d.n_sentences,
            "sentiment_mean" => d.sentiment_mean, "error" => d.error, "warning" => d.warning,
        )
        .map_err(table_err("documents"))?;
        let sentences = df!(
            "doc_id" => s.doc_id, "sent_idx" => s.sent_idx, "start" => s.start, "end" => s.end,
            "text" => s.text, "sentiment_label" => s.sentiment_label,
            "sentiment_score" => s.sentiment_score, "polarity" => s.polarity,
        )
        .map_err(table_err("sentences"))?;
        let entities = df!(
            "doc_id" => e.doc_id, "sent_idx" => e.sent_idx, "start" => e.start, "end" => e.end,
            "text" => e.text, "label" => e.label, "score" => e.score,
        )
        .map_err(table_err("entities"))?;
        Ok([documents, sentences, entities])
    }
}

struct TableFile {
    name: &'static str,
    tmp: tempfile::NamedTempFile,
    writer: polars::io::parquet::write::BatchedWriter<File>,
}

/// Writes the tables of one run into an output folder, atomically.
pub struct TableSink {
    dir: PathBuf,
    files: Vec<TableFile>,
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
    /// Create the output folder (if needed) and open the temporary table files.
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::io("cannot create output folder", dir, e))?;
        let schemas = Rows::default().into_frames()?;
        let mut files = Vec::new();
        for (name, empty) in TABLES.iter().zip(schemas) {
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
                .batched(empty.schema())
                .map_err(table_err(name))?;
            files.push(TableFile { name, tmp, writer });
        }
        Ok(TableSink {
            dir: dir.to_path_buf(),
            files,
        })
    }

    /// Append a chunk's rows to the tables.
    pub fn write(&mut self, rows: Rows) -> Result<()> {
        let frames = rows.into_frames()?;
        for (f, df) in self.files.iter_mut().zip(frames) {
            if df.height() > 0 {
                f.writer.write_batch(&df).map_err(table_err(f.name))?;
            }
        }
        Ok(())
    }

    /// Close the tables, move them into place and write the manifest last.
    pub fn finish(self, manifest: &serde_json::Value) -> Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for f in self.files {
            f.writer.finish().map_err(table_err(f.name))?;
            f.tmp
                .as_file()
                .sync_all()
                .map_err(|e| Error::io("cannot flush", f.tmp.path(), e))?;
            let target = self.dir.join(format!("{}.parquet", f.name));
            f.tmp
                .persist(&target)
                .map_err(|e| Error::io("cannot rename into", &target, e.error))?;
            written.push(target);
        }
        let target = self.dir.join(MANIFEST);
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
    fn chunks_become_one_file_per_table_and_no_temp_files_remain() {
        let dir = tempfile::tempdir().expect("tmp");
        let mut sink = TableSink::create(dir.path()).expect("sink");
        sink.write(rows("a", 3)).expect("w1");
        sink.write(Rows::default()).expect("empty chunk");
        sink.write(rows("b", 5)).expect("w2");
        // Nothing is visible under the final names before finish.
        assert!(!dir.path().join("documents.parquet").exists());
        sink.finish(&serde_json::json!({"ok": true}))
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
        assert_eq!(ents.get_column_names().len(), 7);
    }

    #[test]
    fn dropped_sink_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("tmp");
        {
            let mut sink = TableSink::create(dir.path()).expect("sink");
            sink.write(rows("a", 3)).expect("w1");
        }
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
    }
}
