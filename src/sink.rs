//! Stage 6 — sink: write the output tables as Parquet part files in a run folder.
//!
//! A run folder holds one folder per table (`documents/`, `sentences/`, `entities/`,
//! `entity_stats/`, `cooccurrence/`, `name_variants/`) of zstd Parquet part files
//! (`part-00000.parquet`, ...), the hidden `_mentions/` folder (entity mentions with their
//! document-level linking, kept for re-linking after an append), the journal
//! (`_journal.json`, see [`crate::journal`]) and, once the run has finished, the manifest.
//!
//! Each chunk of documents is committed as it goes: its parts are written under temporary
//! names, flushed and renamed into place, then the journal records the chunk. A kill at any
//! moment leaves complete part files only; parts the journal does not list are removed by
//! the next command on the folder, which resumes after the last committed chunk. The
//! corpus-level tables (`entities` with its canonical names, and the analysis tables) are
//! written when the run finishes, from all the mentions; the manifest, written last, marks
//! the folder complete. One command writes into a folder at a time (a lock file).

use std::collections::HashSet;
use std::fs::File;
use std::path::{Path, PathBuf};

use polars::io::parquet::write::KeyValueMetadata;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ingest::{Corpus, InputSpec};
use crate::journal::{chunk_digest, ChunkEntry, Fingerprint, Journal, Session, JOURNAL};
use crate::link::{observe_mentions, Aggregator, CorpusIndex};
use crate::manifest::Counts;
use crate::options::PipelineOptions;
use crate::tables::{
    analysis_frames, table_err, DocRows, EntRows, Rows, SentRows, MANIFEST, TABLES,
};

/// What one chunk read from the input, for the journal.
#[derive(Debug, Clone)]
pub struct ChunkInput {
    pub documents: usize,
    /// [`chunk_digest`] of its raw documents.
    pub digest: String,
}

/// Where a run's chunks of rows go: a run folder ([`FolderSink`]) or memory ([`MemorySink`]).
pub trait ChunkSink {
    /// Take one chunk's rows.
    fn write(&mut self, rows: Rows, input: &ChunkInput) -> Result<()>;
}

/// Keeps every chunk's rows in memory (in-memory analysis).
#[derive(Debug, Default)]
pub struct MemorySink {
    pub rows: Rows,
}

impl ChunkSink for MemorySink {
    fn write(&mut self, rows: Rows, _input: &ChunkInput) -> Result<()> {
        self.rows.extend(rows);
        Ok(())
    }
}

/// How a command treats an output folder that holds a run already.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Start, or continue the folder's run over the same input after its last committed
    /// chunk (the default).
    #[default]
    Resume,
    /// Analyse only the documents whose `doc_id` is not in the folder yet, then recompute
    /// the corpus-level results over everything.
    Append,
    /// Remove the folder's presslens tables, journal and manifest first.
    Overwrite,
}

/// Folder of the mentions with their document-level linking (internal).
pub const MENTIONS: &str = "_mentions";
/// The lock file of a run folder (hidden; empty).
pub const LOCK_FILE: &str = ".presslens.lock";
/// Tables written chunk by chunk (the others are written when the run finishes).
const CHUNK_TABLES: [&str; 3] = ["documents", "sentences", MENTIONS];

/// File name of part `n`.
pub fn part_name(n: usize) -> String {
    format!("part-{n:05}.parquet")
}

fn part_number(name: &str) -> Option<usize> {
    name.strip_prefix("part-")?
        .strip_suffix(".parquet")?
        .parse()
        .ok()
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

/// Prefix of every temporary file a run writes; leftovers of a killed run are removed by
/// the next command on the folder (which holds the folder's lock).
const TEMP_PREFIX: &str = ".presslens-";

/// Write `bytes` to `path` atomically (temporary file in the same folder, then rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = temp_file(dir, TEMP_PREFIX)?;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .map_err(|e| Error::output("cannot write", path, e))?;
    tmp.persist(path)
        .map_err(|e| Error::output("cannot rename into", path, e.error))?;
    sync_dir(dir)
}

/// Make renames in `dir` durable.
fn sync_dir(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::output("cannot flush folder", dir, e))?;
    Ok(())
}

/// Write `df` as the Parquet file `dir/name`, atomically. Strings are declared as Arrow
/// `large_string` in the file's Arrow schema, not polars' `string_view`, which older readers
/// (pyarrow < 15, DuckDB, Spark) cannot read.
fn write_parquet(dir: &Path, name: &str, table: &str, df: &mut DataFrame) -> Result<usize> {
    let tmp = temp_file(dir, TEMP_PREFIX)?;
    let file = tmp
        .as_file()
        .try_clone()
        .map_err(|e| Error::output("cannot open", tmp.path(), e))?;
    let arrow_schema =
        polars_parquet::write::schema_to_metadata_key(&df.schema().to_arrow(CompatLevel::oldest()));
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Zstd(None))
        .with_key_value_metadata(Some(KeyValueMetadata::Static(vec![arrow_schema])))
        .finish(df)
        .map_err(table_err(table))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::output("cannot flush", tmp.path(), e))?;
    let target = dir.join(name);
    tmp.persist(&target)
        .map_err(|e| Error::output("cannot rename into", &target, e.error))?;
    Ok(df.height())
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

/// The part files of a table folder, by part number.
fn parts(table_dir: &Path) -> Vec<(usize, PathBuf)> {
    let mut out: Vec<(usize, PathBuf)> = std::fs::read_dir(table_dir)
        .map(|rd| {
            rd.flatten()
                .filter_map(|e| {
                    let n = part_number(e.file_name().to_str()?)?;
                    Some((n, e.path()))
                })
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn remove_file(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::output("cannot remove", path, e)),
    }
}

/// Remove temporary files (of killed runs) from `dir` and its table folders.
fn remove_temp_files(dir: &Path) {
    let folders = std::iter::once(dir.to_path_buf())
        .chain(TABLES.iter().chain(&[MENTIONS]).map(|t| dir.join(t)));
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            if entry
                .file_name()
                .to_str()
                .is_some_and(|n| n.starts_with(TEMP_PREFIX))
            {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// What a command on a run folder skips: chunks of the interrupted run it continues, or,
/// for an append, the document ids the folder holds already.
#[derive(Debug, Default)]
pub struct Plan {
    /// Chunks committed by the interrupted run over this input, to skip after checking
    /// that the input still holds the same documents.
    pub resume: Vec<ChunkEntry>,
    /// Document ids already in the folder (append).
    pub known_ids: Option<HashSet<String>>,
}

/// A run folder being written.
pub struct FolderSink {
    dir: PathBuf,
    /// Held for the life of the sink: one command writes into a folder at a time.
    _lock: File,
    kept: Vec<String>,
    /// The `gazetteer` option: corpus-level linking over every mention happens here.
    gazetteer: bool,
    journal: Journal,
    session: usize,
}

impl std::fmt::Debug for FolderSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FolderSink")
            .field("dir", &self.dir)
            .finish()
    }
}

/// Same input, as far as resuming is concerned.
fn same_input(a: &InputSpec, b: &InputSpec) -> bool {
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    canon(&a.path) == canon(&b.path)
        && a.format == b.format
        && a.text_col == b.text_col
        && a.id_col == b.id_col
        && a.title_col == b.title_col
        && a.keep_cols == b.keep_cols
}

impl FolderSink {
    /// Open (or create) the run folder `dir` for a command reading `input` with `opts`:
    /// take its lock, clean up after killed runs, and decide from its journal whether this
    /// starts, resumes or appends, or must be refused (with what differs).
    pub fn open(
        dir: &Path,
        input: &InputSpec,
        opts: &PipelineOptions,
        mode: Mode,
    ) -> Result<(Self, Plan)> {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::output("cannot create output folder", dir, e))?;
        let lock = lock_folder(dir)?;
        remove_temp_files(dir);
        if mode == Mode::Overwrite {
            Self::remove_run(dir)?;
        }
        let old_layout: Vec<String> = TABLES
            .iter()
            .map(|t| format!("{t}.parquet"))
            .filter(|f| dir.join(f).is_file())
            .collect();
        if !old_layout.is_empty() {
            return Err(Error::output(
                "refusing to write into",
                dir,
                std::io::Error::other(format!(
                    "it holds a run in the single-file layout of earlier presslens versions \
                     ({}); pass --overwrite to replace it, or choose another folder",
                    old_layout.join(", ")
                )),
            ));
        }
        let fingerprint = Fingerprint::new(opts)?;
        let mut plan = Plan::default();
        let journal = match Journal::read(dir)? {
            None => Journal::new(fingerprint),
            Some(j) => {
                let diffs = fingerprint.differences(&j.fingerprint);
                if !diffs.is_empty() {
                    return Err(refuse(
                        dir,
                        &format!(
                            "it holds a run with other options or models ({}); rerun with the \
                             folder's options to resume or append, or pass --overwrite to \
                             start over",
                            diffs.join("; ")
                        ),
                    ));
                }
                j
            }
        };
        let mut sink = FolderSink {
            dir: dir.to_path_buf(),
            _lock: lock,
            kept: input.keep_cols.clone(),
            gazetteer: opts.gazetteer,
            session: journal.sessions.len(),
            journal,
        };
        if let Some(first) = sink.journal.sessions.first() {
            if first.input.keep_cols != input.keep_cols {
                return Err(refuse(
                    dir,
                    &format!(
                        "its documents table keeps the columns [{}], this command keeps [{}]; \
                         keep the same columns, or pass --overwrite to start over",
                        first.input.keep_cols.join(", "),
                        input.keep_cols.join(", ")
                    ),
                ));
            }
        }
        let last = sink.journal.sessions.last().cloned();
        match (mode, last) {
            (Mode::Overwrite, _) | (_, None) => sink.start_session(input, false),
            (Mode::Append, Some(last)) => {
                if last.append && !last.complete && same_input(&last.input, input) {
                    sink.session -= 1; // an interrupted append of the same input: continue it
                } else {
                    sink.start_session(input, true);
                }
                plan.known_ids = Some(sink.document_ids()?);
            }
            (Mode::Resume, Some(last)) => {
                if !same_input(&last.input, input) {
                    return Err(refuse(
                        dir,
                        &format!(
                            "it holds a run over {}; this command reads {}: pass --append to \
                             add its new documents, or --overwrite to start over",
                            last.input.path.display(),
                            input.path.display()
                        ),
                    ));
                }
                sink.session -= 1;
                if last.append {
                    plan.known_ids = Some(sink.document_ids()?);
                } else {
                    plan.resume = last.chunks;
                }
            }
        }
        sink.remove_uncommitted_parts()?;
        // The tables are about to change: the folder is not a finished run until the new
        // manifest is written.
        remove_file(&dir.join(MANIFEST))?;
        sync_dir(dir)?;
        Ok((sink, plan))
    }

    fn start_session(&mut self, input: &InputSpec, append: bool) {
        self.journal.sessions.push(Session {
            input: input.clone(),
            append,
            chunks: Vec::new(),
            complete: false,
        });
        self.session = self.journal.sessions.len() - 1;
    }

    /// Remove what presslens wrote in `dir` (table folders, journal, manifest, the
    /// single-file tables of earlier versions); other files stay.
    fn remove_run(dir: &Path) -> Result<()> {
        for t in TABLES.iter().chain(&[MENTIONS]) {
            let folder = dir.join(t);
            if folder.is_dir() {
                std::fs::remove_dir_all(&folder)
                    .map_err(|e| Error::output("cannot remove", &folder, e))?;
            }
            remove_file(&dir.join(format!("{t}.parquet")))?;
        }
        remove_file(&dir.join(JOURNAL))?;
        remove_file(&dir.join(MANIFEST))
    }

    /// Part files that the journal does not list were written by a killed command after
    /// its last commit: remove them.
    fn remove_uncommitted_parts(&self) -> Result<()> {
        let committed: HashSet<usize> = self.journal.chunks().map(|c| c.part).collect();
        for t in CHUNK_TABLES {
            for (n, path) in parts(&self.dir.join(t)) {
                if !committed.contains(&n) {
                    remove_file(&path)?;
                }
            }
        }
        Ok(())
    }

    /// Every `doc_id` of the committed documents.
    fn document_ids(&self) -> Result<HashSet<String>> {
        let mut ids = HashSet::new();
        for (_, path) in parts(&self.dir.join("documents")) {
            let df = read_parquet(&path, "documents", Some(&["doc_id"]))?;
            let col = df
                .column("doc_id")
                .and_then(|c| c.str().cloned())
                .map_err(table_err("documents"))?;
            ids.extend(col.iter().flatten().map(str::to_string));
        }
        Ok(ids)
    }

    /// Apply the plan to the input before anything is analysed: skip the chunks being
    /// resumed (checking that the input still holds the same documents) or the documents
    /// the folder has. Returns how many documents are skipped that way (resume only).
    pub fn skip_done(&self, plan: Plan, corpus: &mut Corpus) -> Result<usize> {
        let mut skipped = 0;
        for c in &plan.resume {
            let docs = corpus.next_chunk(c.documents);
            if docs.len() != c.documents || chunk_digest(&docs) != c.digest {
                return Err(refuse(
                    &self.dir,
                    &format!(
                        "its interrupted run read other documents from this input (chunk \
                         {}, documents {}..{}, differ): the input changed; pass --overwrite \
                         to start over, or --append to add only new document ids",
                        part_name(c.part),
                        skipped,
                        skipped + c.documents
                    ),
                ));
            }
            skipped += c.documents;
        }
        if let Some(ids) = plan.known_ids {
            corpus.exclude_ids(ids);
        }
        Ok(skipped)
    }

    /// Link all mentions with the corpus' names, write `entities` and the analysis tables,
    /// and gather the folder's totals for the manifest.
    pub fn finish(mut self) -> Result<Finished> {
        self.journal.sessions[self.session].complete = true;
        self.journal.write(&self.dir)?;
        let mentions = parts(&self.dir.join(MENTIONS));
        let mut index = CorpusIndex::new(self.gazetteer);
        for (_, path) in &mentions {
            let df = read_parquet(path, "entities", None)?;
            let rows = EntRows::from_spill(&df).map_err(table_err("entities"))?;
            observe_mentions(&mut index, &rows);
        }
        index.resolve();
        let mut rows_per_table = Vec::new();
        for t in CHUNK_TABLES.iter().take(2) {
            let n = self.journal.chunks().map(|c| match *t {
                "documents" => c.documents,
                _ => c.sentences,
            });
            rows_per_table.push((*t, n.sum()));
        }
        let ent_dir = self.table_dir("entities")?;
        let mut agg = Aggregator::default();
        let mut n_entities = 0;
        for (n, path) in &mentions {
            let df = read_parquet(path, "entities", None)?;
            let rows = EntRows::from_spill(&df).map_err(table_err("entities"))?;
            let mut linked = rows.linked_frame(&index, &mut agg)?;
            n_entities += write_parquet(&ent_dir, &part_name(*n), "entities", &mut linked)?;
        }
        // Readers glob the part files: every table has at least one, if only empty.
        if mentions.is_empty() {
            let mut empty = EntRows::default().linked_frame(&index, &mut Aggregator::default())?;
            write_parquet(&ent_dir, &part_name(0), "entities", &mut empty)?;
        }
        let committed: HashSet<PathBuf> = mentions
            .iter()
            .map(|(n, _)| ent_dir.join(part_name(*n)))
            .collect();
        for (_, path) in parts(&ent_dir) {
            if !committed.contains(&path) && !mentions.is_empty() {
                remove_file(&path)?;
            }
        }
        rows_per_table.push(("entities", n_entities));
        if self.journal.chunks().next().is_none() {
            let [mut d, mut s] =
                Rows::doc_sent_frames(DocRows::default(), SentRows::default(), &self.kept)?;
            write_parquet(
                &self.table_dir("documents")?,
                &part_name(0),
                "documents",
                &mut d,
            )?;
            write_parquet(
                &self.table_dir("sentences")?,
                &part_name(0),
                "sentences",
                &mut s,
            )?;
        }
        for (name, mut df) in TABLES[3..].iter().zip(analysis_frames(agg)?) {
            let dir = self.table_dir(name)?;
            for (_, path) in parts(&dir) {
                remove_file(&path)?;
            }
            rows_per_table.push((name, write_parquet(&dir, &part_name(0), name, &mut df)?));
            sync_dir(&dir)?;
        }
        sync_dir(&ent_dir)?;
        let mut counts = Counts::default();
        for c in self.journal.chunks() {
            counts.documents += c.documents;
            counts.sentences += c.sentences;
            counts.entities += c.entities;
            counts.failed_documents += c.failed_documents;
        }
        Ok(Finished {
            errors: self.document_errors()?,
            dir: self.dir,
            _lock: self._lock,
            rows: rows_per_table,
            counts,
        })
    }

    /// The per-document errors of every committed document, for the manifest.
    fn document_errors(&self) -> Result<Vec<DocError>> {
        let mut out = Vec::new();
        for (_, path) in parts(&self.dir.join("documents")) {
            let df = read_parquet(&path, "documents", Some(&["doc_id", "source", "error"]))?;
            let col = |c: &str| {
                df.column(c)
                    .and_then(|c| c.str().cloned())
                    .map_err(table_err("documents"))
            };
            let (ids, sources, errors) = (col("doc_id")?, col("source")?, col("error")?);
            for i in 0..df.height() {
                if let Some(e) = errors.get(i) {
                    out.push(DocError {
                        doc_id: ids.get(i).unwrap_or_default().to_string(),
                        source: sources.get(i).unwrap_or_default().to_string(),
                        error: e.to_string(),
                    });
                }
            }
        }
        Ok(out)
    }

    fn table_dir(&self, table: &str) -> Result<PathBuf> {
        let dir = self.dir.join(table);
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::output("cannot create table folder", &dir, e))?;
        Ok(dir)
    }
}

fn refuse(dir: &Path, why: &str) -> Error {
    Error::output(
        "refusing to write into",
        dir,
        std::io::Error::other(why.to_string()),
    )
}

impl ChunkSink for FolderSink {
    /// Commit one chunk: its parts of `documents`, `sentences` and `_mentions`, then the
    /// journal entry that makes them part of the run.
    fn write(&mut self, rows: Rows, input: &ChunkInput) -> Result<()> {
        let part = self.journal.next_part();
        let name = part_name(part);
        let Rows { doc, sent, ent } = rows;
        let failed = doc.error.iter().filter(|e| e.is_some()).count();
        let n_entities = ent.doc_id.len();
        let [mut d, mut s] = Rows::doc_sent_frames(doc, sent, &self.kept)?;
        let mut m = ent.spill_frame()?;
        let mut sentences = 0;
        for (table, df) in [
            ("documents", &mut d),
            ("sentences", &mut s),
            (MENTIONS, &mut m),
        ] {
            let dir = self.table_dir(table)?;
            let n = write_parquet(&dir, &name, table, df)?;
            if table == "sentences" {
                sentences = n;
            }
            sync_dir(&dir)?;
        }
        self.journal.sessions[self.session].chunks.push(ChunkEntry {
            part,
            documents: input.documents,
            sentences,
            entities: n_entities,
            failed_documents: failed,
            digest: input.digest.clone(),
        });
        self.journal.write(&self.dir)
    }
}

/// A run folder whose tables are all written, waiting for its manifest.
pub struct Finished {
    dir: PathBuf,
    _lock: File,
    /// Rows per table.
    pub rows: Vec<(&'static str, usize)>,
    /// Totals over every committed chunk (all sessions).
    pub counts: Counts,
    pub errors: Vec<DocError>,
}

impl Finished {
    /// Write the manifest, which marks the folder a finished run.
    pub fn commit(self, manifest: &serde_json::Value) -> Result<PathBuf> {
        let text = serde_json::to_string_pretty(manifest).map_err(Error::Manifest)?;
        let target = self.dir.join(MANIFEST);
        write_atomic(&target, text.as_bytes())?;
        Ok(target)
    }
}

fn read_parquet(path: &Path, table: &str, columns: Option<&[&str]>) -> Result<DataFrame> {
    let f = File::open(path).map_err(|e| Error::io("cannot open", path, e))?;
    let mut r = ParquetReader::new(f);
    if let Some(cols) = columns {
        r = r.with_columns(Some(cols.iter().map(|c| c.to_string()).collect()));
    }
    r.finish().map_err(table_err(table))
}

/// Read one table of a finished run (all its parts).
pub fn read_table(dir: &Path, name: &str) -> Result<DataFrame> {
    let mut out: Option<DataFrame> = None;
    for (_, path) in parts(&dir.join(name)) {
        let df = read_parquet(&path, name, None)?;
        match &mut out {
            None => out = Some(df),
            Some(acc) => {
                acc.vstack_mut(&df).map_err(table_err(name))?;
            }
        }
    }
    out.ok_or_else(|| Error::Input {
        path: dir.join(name),
        reason: "no part files: not a presslens run folder".into(),
    })
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

    fn rows(doc: &str) -> Rows {
        let mut r = Rows::default();
        r.doc.doc_id.push(doc.into());
        r.doc.source.push("s".into());
        r.doc.title.push(None);
        r.doc.text.push("x".into());
        r.doc.n_chars.push(1);
        r.doc.n_sentences.push(0);
        r.doc.sentiment_mean.push(None);
        r.doc.error.push(None);
        r.doc.warning.push(None);
        r
    }

    fn chunk(digest: &str) -> ChunkInput {
        ChunkInput {
            documents: 1,
            digest: digest.into(),
        }
    }

    fn input(dir: &Path) -> InputSpec {
        InputSpec {
            path: dir.to_path_buf(),
            ..Default::default()
        }
    }

    fn opts() -> PipelineOptions {
        let mut o = PipelineOptions::default();
        o.infer.sentiment_model = None;
        o.infer.ner_model = None;
        o
    }

    #[test]
    fn chunks_commit_parts_then_journal_and_uncommitted_parts_are_removed() {
        let dir = tempfile::tempdir().expect("tmp");
        let src = tempfile::tempdir().expect("src");
        let (mut sink, plan) =
            FolderSink::open(dir.path(), &input(src.path()), &opts(), Mode::Resume).expect("open");
        assert!(plan.resume.is_empty() && plan.known_ids.is_none());
        sink.write(rows("a"), &chunk("d0")).expect("w0");
        sink.write(rows("b"), &chunk("d1")).expect("w1");
        // A second command is refused while this one holds the folder.
        let e = FolderSink::open(dir.path(), &input(src.path()), &opts(), Mode::Resume)
            .expect_err("locked");
        assert!(e.to_string().contains("another presslens run"), "{e}");
        drop(sink); // killed before finishing
                    // A part written after the last commit (a kill between rename and journal).
        let orphan = dir.path().join("documents").join(part_name(2));
        std::fs::copy(dir.path().join("documents").join(part_name(0)), &orphan).expect("cp");
        let (sink, plan) =
            FolderSink::open(dir.path(), &input(src.path()), &opts(), Mode::Resume).expect("open");
        assert!(!orphan.exists(), "uncommitted part removed");
        let digests: Vec<&str> = plan.resume.iter().map(|c| c.digest.as_str()).collect();
        assert_eq!(digests, ["d0", "d1"]);
        let f = sink.finish().expect("finish");
        assert_eq!(f.counts.documents, 2);
        assert_eq!(f.rows[0], ("documents", 2));
        f.commit(&serde_json::json!({})).expect("commit");
        assert_eq!(
            read_table(dir.path(), "documents").expect("read").height(),
            2
        );
        for t in TABLES {
            assert!(!parts(&dir.path().join(t)).is_empty(), "{t} has a part");
        }
    }

    /// `rows(doc)` with mentions: (sentence, surface, label).
    fn rows_with(doc: &str, ents: &[(i64, &str, &str)]) -> Rows {
        let mut r = rows(doc);
        for &(sent, surface, label) in ents {
            let e = &mut r.ent;
            e.doc_id.push(doc.into());
            e.sent_idx.push(sent);
            e.start.push(0);
            e.end.push(1);
            e.text.push(surface.into());
            e.label.push(label.into());
            e.score.push(0.9);
            e.sentiment_label.push(None);
            e.sentiment_score.push(None);
            e.polarity.push(None);
            e.name.push(surface.into());
            e.ent_label.push(label.into());
            e.from_table.push(false);
        }
        r
    }

    #[test]
    fn append_relinks_every_mention_with_the_gazetteer_and_corpus_rules() {
        for gazetteer in [true, false] {
            let dir = tempfile::tempdir().expect("tmp");
            let src = tempfile::tempdir().expect("src");
            let more = tempfile::tempdir().expect("more");
            let o = PipelineOptions {
                gazetteer,
                ..opts()
            };
            let (mut sink, _) =
                FolderSink::open(dir.path(), &input(src.path()), &o, Mode::Resume).expect("open");
            let first = [(0, "Donald Trump", "PER"), (0, "U.S.", "LOC")];
            sink.write(rows_with("a", &first), &chunk("d0"))
                .expect("w0");
            sink.finish()
                .expect("finish")
                .commit(&serde_json::json!({}))
                .expect("commit");
            // An append: "Trump" alone and "US" tagged MISC, in a new document.
            let (mut sink, _) = FolderSink::open(dir.path(), &input(more.path()), &o, Mode::Append)
                .expect("append");
            let second = [(0, "Trump", "PER"), (0, "US", "MISC")];
            sink.write(rows_with("b", &second), &chunk("d1"))
                .expect("w1");
            sink.finish()
                .expect("finish")
                .commit(&serde_json::json!({}))
                .expect("commit");
            let e = read_table(dir.path(), "entities").expect("entities");
            let col = |c: &str| -> Vec<Option<String>> {
                let v = e.column(c).expect("c").str().expect("s").clone();
                v.iter().map(|x| x.map(str::to_string)).collect()
            };
            let entity = col("entity");
            let source = col("alias_source");
            // Chunk order: a's Donald Trump, U.S.; b's Trump, US.
            assert_eq!(entity[2].as_deref(), Some("Donald Trump"));
            assert_eq!(source[2].as_deref(), Some("corpus"));
            if gazetteer {
                assert_eq!(entity[1].as_deref(), Some("United States"));
                assert_eq!(entity[3].as_deref(), Some("United States"));
                assert_eq!(col("entity_label")[3].as_deref(), Some("LOC"));
                assert_eq!(col("country_code")[3].as_deref(), Some("US"));
                assert_eq!(source[3].as_deref(), Some("gazetteer"));
            } else {
                assert_eq!(entity[1].as_deref(), Some("U.S."));
                assert_eq!(entity[3].as_deref(), Some("US"));
                assert_eq!(col("entity_id")[3], None);
            }
            let st = read_table(dir.path(), "entity_stats").expect("stats");
            let scope = st.column("scope").expect("c").str().expect("s").clone();
            let names = st.column("entity").expect("c").str().expect("s").clone();
            let corpus_names: HashSet<&str> = (0..st.height())
                .filter(|&i| scope.get(i) == Some("corpus"))
                .filter_map(|i| names.get(i))
                .collect();
            let want: HashSet<&str> = if gazetteer {
                HashSet::from(["Donald Trump", "United States"])
            } else {
                HashSet::from(["Donald Trump", "U.S.", "US"])
            };
            assert_eq!(corpus_names, want);
        }
    }

    #[test]
    fn other_options_other_input_and_old_layouts_are_refused() {
        let dir = tempfile::tempdir().expect("tmp");
        let src = tempfile::tempdir().expect("src");
        let (mut sink, _) =
            FolderSink::open(dir.path(), &input(src.path()), &opts(), Mode::Resume).expect("open");
        sink.write(rows("a"), &chunk("d0")).expect("w0");
        drop(sink);
        let mut other = opts();
        other.abbreviations = vec!["Gen".into()];
        let e = FolderSink::open(dir.path(), &input(src.path()), &other, Mode::Resume)
            .expect_err("options");
        assert!(e.to_string().contains("option abbreviations"), "{e}");
        let elsewhere = tempfile::tempdir().expect("other input");
        let e = FolderSink::open(dir.path(), &input(elsewhere.path()), &opts(), Mode::Resume)
            .expect_err("input");
        assert!(e.to_string().contains("--append"), "{e}");
        let (_, plan) =
            FolderSink::open(dir.path(), &input(elsewhere.path()), &opts(), Mode::Append)
                .expect("append");
        assert_eq!(plan.known_ids, Some(HashSet::from(["a".to_string()])));
        std::fs::write(dir.path().join("sentences.parquet"), b"old").expect("w");
        let e = FolderSink::open(dir.path(), &input(src.path()), &opts(), Mode::Resume)
            .expect_err("old layout");
        assert!(e.to_string().contains("single-file layout"), "{e}");
        FolderSink::open(dir.path(), &input(src.path()), &opts(), Mode::Overwrite).expect("ow");
        assert!(!dir.path().join("sentences.parquet").exists());
        assert!(!dir.path().join("documents").exists());
    }
}
