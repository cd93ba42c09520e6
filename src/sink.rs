//! Stage 6 — sink: write the output tables as Parquet files.
//!
//! Each table is written as one zstd-compressed Parquet file, chunk by chunk (one row
//! group per chunk), so memory stays bounded however large the corpus. Files are written
//! under a temporary name in the output folder and renamed into place only when the run
//! has finished, the manifest last, so a reader never sees a half-written table. The sink
//! only writes: the rows and frames come from [`crate::tables`], the corpus-level names
//! from [`crate::link`].

use std::fs::File;
use std::path::{Path, PathBuf};

use polars::io::parquet::write::KeyValueMetadata;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::link::{Aggregator, CorpusIndex};
use crate::tables::{
    analysis_frames, file_name, table_err, DocRows, EntRows, Rows, SentRows, MANIFEST, TABLES,
};

/// Where a run's chunks of rows go: files ([`TableSink`]) or memory ([`MemorySink`]).
pub trait ChunkSink {
    /// Take one chunk's rows.
    fn write(&mut self, rows: Rows) -> Result<()>;
}

/// Keeps every chunk's rows in memory (in-memory analysis).
#[derive(Debug, Default)]
pub struct MemorySink {
    pub rows: Rows,
}

impl ChunkSink for MemorySink {
    fn write(&mut self, rows: Rows) -> Result<()> {
        self.rows.extend(rows);
        Ok(())
    }
}

/// Rows of the spill file read back per post-pass slice.
const SPILL_SLICE: usize = 200_000;

struct TableFile {
    name: &'static str,
    rows: usize,
    tmp: tempfile::NamedTempFile,
    writer: polars::io::parquet::write::BatchedWriter<File>,
}

/// A temporary file in `dir` with the mode a new file gets under the process' umask
/// (0644 usually), not the 0600 of temporary files: the tables are for other readers too.
fn temp_file(dir: &Path, prefix: &str) -> Result<tempfile::NamedTempFile> {
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(std::fs::Permissions::from_mode(0o666));
    }
    b.tempfile_in(dir)
        .map_err(|e| Error::output("cannot create a temporary file in", dir, e))
}

impl TableFile {
    fn create(dir: &Path, name: &'static str, schema: &Schema) -> Result<Self> {
        let tmp = temp_file(dir, &format!(".{name}.parquet."))?;
        let file = tmp
            .as_file()
            .try_clone()
            .map_err(|e| Error::output("cannot open", tmp.path(), e))?;
        // Strings are written as Arrow `large_string` in the file's Arrow schema, not polars'
        // `string_view`, which older readers (pyarrow < 15, DuckDB, Spark) cannot read.
        let arrow_schema =
            polars_parquet::write::schema_to_metadata_key(&schema.to_arrow(CompatLevel::oldest()));
        let writer = ParquetWriter::new(file)
            .with_compression(ParquetCompression::Zstd(None))
            .with_key_value_metadata(Some(KeyValueMetadata::Static(vec![arrow_schema])))
            .batched(schema)
            .map_err(table_err(name))?;
        Ok(TableFile {
            name,
            rows: 0,
            tmp,
            writer,
        })
    }

    fn write(&mut self, df: &DataFrame) -> Result<()> {
        if df.height() > 0 {
            self.writer.write_batch(df).map_err(table_err(self.name))?;
            self.rows += df.height();
        }
        Ok(())
    }

    /// Close the Parquet file and flush it to disk (still under its temporary name).
    fn close(self) -> Result<Closed> {
        self.writer.finish().map_err(table_err(self.name))?;
        self.tmp
            .as_file()
            .sync_all()
            .map_err(|e| Error::output("cannot flush", self.tmp.path(), e))?;
        Ok(Closed {
            name: self.name,
            rows: self.rows,
            tmp: self.tmp,
        })
    }
}

/// A table file written and flushed under its temporary name.
struct Closed {
    name: &'static str,
    rows: usize,
    tmp: tempfile::NamedTempFile,
}

/// Writes the tables of one run into an output folder, atomically.
///
/// Documents and sentences stream straight into their files. Entity mentions stream into
/// a temporary spill file with their in-document linking; [`TableSink::finish`] reads it
/// back slice by slice once the corpus-wide names are known, writing `entities` and the
/// analysis tables; [`Finished::commit`] moves them into place. Nothing appears under a
/// final name until the run has finished.
pub struct TableSink {
    dir: PathBuf,
    /// Held for the life of the sink: one run writes into a folder at a time.
    lock: File,
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
    let mut tmp = temp_file(dir, ".presslens-")?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::output("cannot write", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::output("cannot rename into", path, e.error))?;
    Ok(())
}

impl ChunkSink for TableSink {
    fn write(&mut self, rows: Rows) -> Result<()> {
        let Rows { doc, sent, ent } = rows;
        let [d, s] = Rows::doc_sent_frames(doc, sent, &self.kept)?;
        self.documents.write(&d)?;
        self.sentences.write(&s)?;
        self.spill.write(&ent.spill_frame()?)
    }
}

/// The tables of a finished run, flushed under temporary names, waiting for the manifest.
pub struct Finished {
    dir: PathBuf,
    _lock: File,
    files: Vec<Closed>,
}

/// The lock file of a run folder (hidden; empty).
pub const LOCK_FILE: &str = ".presslens.lock";

/// Prefixes of the temporary files a run writes in its folder; leftovers of a killed run
/// are removed by the next run (which holds the folder's lock).
const TEMP_PREFIXES: [&str; 2] = [".presslens-", ".entities-spill.parquet."];

fn is_temp_name(name: &str) -> bool {
    TEMP_PREFIXES.iter().any(|p| name.starts_with(p))
        || TABLES
            .iter()
            .any(|t| name.starts_with(&format!(".{t}.parquet.")))
}

/// Take the folder's lock, or fail naming the folder when another run holds it.
fn lock_folder(dir: &Path) -> Result<File> {
    let path = dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| Error::output("cannot create the lock file", &path, e))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::output(
            "another presslens run is writing into",
            dir,
            std::io::Error::new(
                std::io::ErrorKind::ResourceBusy,
                "its lock is held; wait for it to finish or choose another output folder",
            ),
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::output("cannot lock", &path, e)),
    }
}

/// Remove temporary files that killed runs left in `dir` (the caller holds the lock).
fn remove_stale_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_str().is_some_and(is_temp_name) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

impl TableSink {
    /// Create the output folder (if needed) and open the temporary table files; `kept`
    /// names the input columns kept in `documents`.
    pub fn create(dir: &Path, kept: &[String]) -> Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::output("cannot create output folder", dir, e))?;
        let lock = lock_folder(dir)?;
        remove_stale_temp_files(dir);
        let [d, s] = Rows::doc_sent_frames(DocRows::default(), SentRows::default(), kept)?;
        let spill = EntRows::default().spill_frame()?;
        Ok(TableSink {
            dir: dir.to_path_buf(),
            lock,
            kept: kept.to_vec(),
            documents: TableFile::create(dir, "documents", d.schema())?,
            sentences: TableFile::create(dir, "sentences", s.schema())?,
            spill: TableFile::create(dir, "entities-spill", spill.schema())?,
        })
    }

    /// Link the spilled mentions with the corpus' names and write `entities` and the
    /// analysis tables (under temporary names).
    pub fn finish(self, index: &CorpusIndex) -> Result<Finished> {
        let dir = self.dir.clone();
        let mut files = vec![self.documents.close()?, self.sentences.close()?];
        let spill = self.spill.close()?.tmp;
        let empty = EntRows::default().linked_frame(index, &mut Aggregator::default())?;
        let mut entities = TableFile::create(&dir, "entities", empty.schema())?;
        let mut agg = Aggregator::default();
        let reopen = || {
            spill
                .reopen()
                .map_err(|e| Error::output("cannot open", spill.path(), e))
        };
        let n_rows = ParquetReader::new(reopen()?)
            .num_rows()
            .map_err(table_err("entities"))?;
        let mut offset = 0;
        while offset < n_rows {
            let df = ParquetReader::new(reopen()?)
                .with_slice(Some((offset, SPILL_SLICE)))
                .finish()
                .map_err(table_err("entities"))?;
            offset += SPILL_SLICE;
            let rows = EntRows::from_spill(&df).map_err(table_err("entities"))?;
            entities.write(&rows.linked_frame(index, &mut agg)?)?;
        }
        drop(spill);
        files.push(entities.close()?);
        for (name, df) in TABLES[3..].iter().zip(analysis_frames(agg)?) {
            let mut f = TableFile::create(&dir, name, df.schema())?;
            f.write(&df)?;
            files.push(f.close()?);
        }
        Ok(Finished {
            dir,
            _lock: self.lock,
            files,
        })
    }
}

impl Finished {
    /// Rows per table, in [`TABLES`] order.
    pub fn rows(&self) -> Vec<(&'static str, usize)> {
        self.files.iter().map(|c| (c.name, c.rows)).collect()
    }

    /// Move every table into place and write the manifest last. The previous manifest is
    /// removed first, so a folder caught between two runs' tables has no manifest: a run
    /// folder is complete exactly when `manifest.json` exists (and its `rows` match).
    pub fn commit(self, manifest: &serde_json::Value) -> Result<Vec<PathBuf>> {
        let text = serde_json::to_string_pretty(manifest).map_err(Error::Manifest)?;
        let old = self.dir.join(MANIFEST);
        match std::fs::remove_file(&old) {
            Ok(()) => sync_dir(&self.dir)?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::output("cannot remove the old", old, e)),
        }
        let mut written = Vec::new();
        for Closed { name, tmp, .. } in self.files {
            let target = self.dir.join(file_name(name));
            tmp.persist(&target)
                .map_err(|e| Error::output("cannot rename into", &target, e.error))?;
            written.push(target);
        }
        sync_dir(&self.dir)?;
        let target = self.dir.join(MANIFEST);
        write_atomic(&target, text.as_bytes())?;
        sync_dir(&self.dir)?;
        written.push(target);
        Ok(written)
    }
}

/// Make renames in `dir` durable.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::output("cannot flush folder", dir, e))?;
    Ok(())
}

/// Read one table of a finished run.
pub fn read_table(dir: &Path, name: &str) -> Result<DataFrame> {
    let path = dir.join(file_name(name));
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
    use crate::tables::{DocRows, Rows, SentRows};

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
        let mut expected = crate::tables::DOCUMENT_COLUMNS.to_vec();
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
        sink.finish(&CorpusIndex::default())
            .expect("finish")
            .commit(&serde_json::json!({"ok": true}))
            .expect("commit");
        let docs = read_table(dir.path(), "documents").expect("read");
        assert_eq!(docs.height(), 2);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        let hidden: Vec<&String> = names.iter().filter(|n| n.starts_with('.')).collect();
        assert_eq!(hidden, [LOCK_FILE], "only the lock file is hidden: {names:?}");
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
            // A second sink into the same folder is refused while the first holds it.
            let e = TableSink::create(dir.path(), &[]).expect_err("locked");
            assert!(e.to_string().contains("another presslens run"), "{e}");
        }
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("ls")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [LOCK_FILE]);
        // Once dropped, the folder is free again.
        TableSink::create(dir.path(), &[]).expect("unlocked");
    }
}
