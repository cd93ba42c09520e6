//! Stage 1 — ingest: turn an input path into a stream of raw documents.
//!
//! Supported inputs: a folder of `.txt`/`.md` files (recursively), a single text file,
//! JSONL (`.jsonl`, `.ndjson`), CSV/TSV, or Parquet with a text column. Documents are
//! produced lazily so that a corpus of millions of articles streams with bounded memory.
//! This module holds what every format shares ([`InputSpec`], [`Format`], [`RawDoc`],
//! [`Corpus`] and the helpers below); each format is read by its own submodule:
//! [`text`] (folders and text files), [`jsonl`], [`csv`] (CSV and TSV) and [`parquet`].
//!
//! Problems with one document (unreadable file, binary content, a row without text)
//! never stop the stream: the document is yielded with its `error` set.

#[cfg(test)]
mod bad_input;
mod csv;
mod frame;
mod jsonl;
mod parquet;
mod text;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Column names tried, in order, when the user names no text column.
pub const TEXT_COLUMN_CANDIDATES: [&str; 5] = ["text", "content", "body", "article", "document"];
/// Column names tried, in order, when the user names no id column.
pub const ID_COLUMN_CANDIDATES: [&str; 3] = ["id", "doc_id", "document_id"];
/// Column names tried, in order, for an explicit title.
pub const TITLE_COLUMN_CANDIDATES: [&str; 2] = ["title", "headline"];

/// Input format. `Auto` decides from the path (folder or file extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Auto,
    Txt,
    Jsonl,
    Csv,
    Tsv,
    Parquet,
}

/// Where and how to read a corpus.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct InputSpec {
    pub path: PathBuf,
    pub format: Format,
    /// Column (or JSON field) holding the article text; auto-detected when `None`.
    pub text_col: Option<String>,
    /// Column holding a stable document id; auto-detected when `None`, else a content hash.
    pub id_col: Option<String>,
    /// Column holding the title; auto-detected when `None`, else the first line of the text.
    pub title_col: Option<String>,
    /// Columns (or JSON fields) copied as they are into the `documents` table, e.g. the
    /// outlet, date or URL; table inputs only. Values are kept as strings.
    #[serde(deserialize_with = "crate::options::string_or_list")]
    pub keep_cols: Vec<String>,
    /// Folders: also follow symbolic links whose target is outside the input folder (by
    /// default such a link is a per-document error; links inside the folder are followed).
    pub follow_links: bool,
}

/// One document as read, before cleaning.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawDoc {
    pub doc_id: String,
    /// Path of the file, or `path:line N` / `path#row N` for a row of a table.
    pub source: String,
    /// Title given by a title column (else the cleaner takes the first line).
    pub title: Option<String>,
    pub text: String,
    /// Something was repaired (e.g. invalid UTF-8 decoded lossily).
    pub warning: Option<String>,
    /// The document could not be read; `text` is empty.
    pub error: Option<String>,
    /// Values of the kept columns ([`InputSpec::keep_cols`]), in that order; a row that
    /// could not be read has none.
    pub meta: Vec<Option<String>>,
}

impl RawDoc {
    pub(crate) fn failed(doc_id: String, source: String, error: String) -> Self {
        RawDoc {
            doc_id,
            source,
            error: Some(error),
            ..Default::default()
        }
    }
}

/// Stable content hash used as a doc id when the input has none: 16 hex digits of SHA-256.
pub fn content_id(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Decode bytes as UTF-8, lossily; returns the text and a warning when bytes were replaced,
/// or an error when the content looks binary or is empty.
pub fn decode_text(bytes: &[u8]) -> std::result::Result<(String, Option<String>), String> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err("empty document".into());
    }
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Err("binary content (NUL bytes); not a text document".into());
    }
    let controls = head
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\n' | b'\r' | b'\t' | 0x0c))
        .count();
    if controls * 10 > head.len() {
        return Err(format!(
            "binary content ({controls} control bytes in the first {} bytes); not a text document",
            head.len()
        ));
    }
    Ok(lossy_utf8(bytes))
}

/// Decode bytes as UTF-8, replacing each invalid sequence with U+FFFD; the warning says
/// how many were replaced (the same text for every format).
pub(crate) fn lossy_utf8(bytes: &[u8]) -> (String, Option<String>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_owned(), None),
        Err(_) => {
            let replaced = bytes
                .utf8_chunks()
                .filter(|c| !c.invalid().is_empty())
                .count();
            (
                String::from_utf8_lossy(bytes).into_owned(),
                Some(format!(
                    "invalid UTF-8: {replaced} sequence(s) replaced with U+FFFD"
                )),
            )
        }
    }
}

/// Join two optional warnings of one document.
pub(crate) fn join_warnings(a: Option<String>, b: Option<String>) -> Option<String> {
    match (a, b) {
        (Some(a), Some(b)) => Some(format!("{a}; {b}")),
        (a, b) => a.or(b),
    }
}

fn resolve_format(spec: &InputSpec) -> Result<Format> {
    if spec.format != Format::Auto {
        return Ok(spec.format);
    }
    if spec.path.is_dir() {
        return Ok(Format::Txt);
    }
    let ext = spec
        .path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    Ok(match ext.as_str() {
        "jsonl" | "ndjson" | "json" => Format::Jsonl,
        "csv" => Format::Csv,
        "tsv" | "tab" => Format::Tsv,
        "parquet" | "pq" => Format::Parquet,
        "txt" | "md" | "text" | "" => Format::Txt,
        other => {
            return Err(Error::Input {
                path: spec.path.clone(),
                reason: format!(
                    "unknown file type '.{other}': expected a folder, .txt, .md, .jsonl, .csv, .tsv or .parquet (or pass --format)"
                ),
            })
        }
    })
}

/// A lazily-read corpus: iterate it to get [`RawDoc`]s in a stable order.
pub struct Corpus {
    inner: Box<dyn Iterator<Item = RawDoc> + Send>,
    total: Option<usize>,
    format: Format,
    ids: UniqueIds,
    /// Document ids to leave out (ids already in the output, for an append).
    exclude: HashSet<String>,
    excluded: usize,
}

/// Makes repeated document ids unique, stably: the second `a` becomes `a#2`, the third
/// `a#3` (skipping any `a#k` the input uses itself). Linear in the number of documents.
#[derive(Debug, Default)]
struct UniqueIds {
    seen: HashSet<String>,
    /// Next suffix to try per repeated id.
    next: HashMap<String, usize>,
}

impl UniqueIds {
    fn make_unique(&mut self, id: String) -> String {
        if !self.seen.contains(&id) {
            self.seen.insert(id.clone());
            return id;
        }
        let k = self.next.entry(id.clone()).or_insert(2);
        loop {
            let candidate = format!("{id}#{k}");
            *k += 1;
            if self.seen.insert(candidate.clone()) {
                return candidate;
            }
        }
    }
}

impl std::fmt::Debug for Corpus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Corpus")
            .field("total", &self.total)
            .field("format", &self.format)
            .finish()
    }
}

impl Corpus {
    /// Open a corpus. Fails only on fatal problems: missing path, unreadable table,
    /// no text column.
    pub fn open(spec: &InputSpec) -> Result<Self> {
        if !spec.path.exists() {
            return Err(Error::Input {
                path: spec.path.clone(),
                reason: "no such file or directory".into(),
            });
        }
        let format = resolve_format(spec)?;
        check_keep_cols(spec, format)?;
        let (inner, total): (Box<dyn Iterator<Item = RawDoc> + Send>, Option<usize>) = match format
        {
            Format::Txt | Format::Auto => {
                let docs = text::TextDocs::open(spec)?;
                let n = docs.len();
                (Box::new(docs), Some(n))
            }
            Format::Jsonl => (Box::new(jsonl::JsonlDocs::open(spec)?), None),
            Format::Csv | Format::Tsv => (
                Box::new(csv::CsvDocs::open(
                    spec,
                    if format == Format::Tsv { b'\t' } else { b',' },
                )?),
                None,
            ),
            Format::Parquet => {
                let docs = parquet::ParquetDocs::open(spec)?;
                let n = docs.n_rows();
                (Box::new(docs), Some(n))
            }
        };
        Ok(Corpus {
            inner,
            total,
            format,
            ids: UniqueIds::default(),
            exclude: HashSet::new(),
            excluded: 0,
        })
    }

    /// Build a corpus from in-memory texts (the Python `analyze` entry point); `ids`, when
    /// given, must have one id per text.
    pub fn from_texts(texts: Vec<String>, ids: Option<Vec<String>>) -> Result<Self> {
        Self::from_decoded(texts.into_iter().map(|t| (t, None)).collect(), ids)
    }

    /// [`Corpus::from_texts`] for texts that come with a decoding warning each (or none).
    pub fn from_decoded(
        texts: Vec<(String, Option<String>)>,
        ids: Option<Vec<String>>,
    ) -> Result<Self> {
        let n = texts.len();
        let ids: Vec<Option<String>> = match ids {
            Some(ids) if ids.len() != n => {
                return Err(Error::option(
                    "ids",
                    format!("{} ids for {n} texts: give one id per text", ids.len()),
                ))
            }
            Some(ids) => ids.into_iter().map(Some).collect(),
            None => vec![None; n],
        };
        let docs = texts
            .into_iter()
            .zip(ids)
            .enumerate()
            .map(|(i, ((text, warning), id))| {
                let doc_id = id.unwrap_or_else(|| content_id(&text));
                let source = format!("texts[{i}]");
                if text.trim().is_empty() {
                    return RawDoc::failed(doc_id, source, "empty document".into());
                }
                RawDoc {
                    doc_id,
                    source,
                    text,
                    warning,
                    ..Default::default()
                }
            });
        Ok(Corpus {
            inner: Box::new(docs.collect::<Vec<_>>().into_iter()),
            total: Some(n),
            format: Format::Auto,
            ids: UniqueIds::default(),
            exclude: HashSet::new(),
            excluded: 0,
        })
    }

    /// The documents of an in-memory table, e.g. an Arrow record batch of a cluster engine,
    /// read with the columns `spec` names; `spec.path` labels the table in each document's
    /// `source` (`batch#row3`) and in messages.
    pub fn from_frame(df: &polars::prelude::DataFrame, spec: &InputSpec) -> Result<Self> {
        check_keep_cols(spec, Format::Parquet)?;
        let docs = frame::frame_docs(df, spec)?;
        Ok(Corpus {
            total: Some(docs.len()),
            inner: Box::new(docs.into_iter()),
            format: Format::Parquet,
            ids: UniqueIds::default(),
            exclude: HashSet::new(),
            excluded: 0,
        })
    }

    /// Number of documents when known up front (folders, Parquet, in-memory texts).
    pub fn total(&self) -> Option<usize> {
        self.total
    }

    /// Leave out the documents whose id (after repeated ids are made unique) is in `ids`.
    pub fn exclude_ids(&mut self, ids: HashSet<String>) {
        self.exclude = ids;
    }

    /// Documents left out so far by [`Corpus::exclude_ids`].
    pub fn excluded(&self) -> usize {
        self.excluded
    }

    /// Read up to `n` documents.
    pub fn next_chunk(&mut self, n: usize) -> Vec<RawDoc> {
        let mut out = Vec::with_capacity(n.min(4096));
        for _ in 0..n {
            match self.next() {
                Some(d) => out.push(d),
                None => break,
            }
        }
        out
    }
}

impl Iterator for Corpus {
    type Item = RawDoc;
    fn next(&mut self) -> Option<RawDoc> {
        loop {
            let mut doc = self.inner.next()?;
            // doc_id is a key in every table: make repeated ids unique, stably.
            doc.doc_id = self.ids.make_unique(std::mem::take(&mut doc.doc_id));
            if self.exclude.contains(&doc.doc_id) {
                self.excluded += 1;
                continue;
            }
            return Some(doc);
        }
    }
}

/// Kept columns must come from a table and must not shadow a `documents` column.
fn check_keep_cols(spec: &InputSpec, format: Format) -> Result<()> {
    if spec.keep_cols.is_empty() {
        return Ok(());
    }
    if matches!(format, Format::Txt | Format::Auto) {
        return Err(Error::Option {
            option: "keep_cols".into(),
            reason: format!(
                "columns can only be kept from a table input (JSONL, CSV, TSV, Parquet); {} is \
                 text files: join your metadata to the documents table on doc_id instead",
                spec.path.display()
            ),
        });
    }
    let mut seen = HashSet::new();
    for c in &spec.keep_cols {
        if crate::tables::DOCUMENT_COLUMNS.contains(&c.as_str()) {
            return Err(Error::Option {
                option: "keep_cols".into(),
                reason: format!(
                    "'{c}' is a column of the documents table already (use --id-col / \
                     --title-col for ids and titles)"
                ),
            });
        }
        if !seen.insert(c) {
            return Err(Error::Option {
                option: "keep_cols".into(),
                reason: format!("'{c}' is named twice"),
            });
        }
    }
    Ok(())
}

pub(crate) fn pick_column(
    wanted: Option<&str>,
    candidates: &[&str],
    available: &[String],
    what: &str,
    path: &Path,
    required: bool,
) -> Result<Option<usize>> {
    if let Some(w) = wanted {
        return match available.iter().position(|c| c == w) {
            Some(i) => Ok(Some(i)),
            None => Err(Error::Input {
                path: path.to_path_buf(),
                reason: format!(
                    "no {what} column '{w}'; columns are: {}",
                    available.join(", ")
                ),
            }),
        };
    }
    for c in candidates {
        if let Some(i) = available.iter().position(|a| a.eq_ignore_ascii_case(c)) {
            return Ok(Some(i));
        }
    }
    if required {
        return Err(Error::Input {
            path: path.to_path_buf(),
            reason: format!(
                "no {what} column found (tried {}); columns are: {}; pass --text-col",
                candidates.join(", "),
                available.join(", ")
            ),
        });
    }
    Ok(None)
}

pub(crate) fn make_doc(
    id: Option<String>,
    title: Option<String>,
    text: Option<String>,
    source: String,
    fallback_id: String,
    text_field: &str,
) -> RawDoc {
    let id = id.filter(|s| !s.trim().is_empty());
    match text {
        Some(t) if !t.trim().is_empty() => RawDoc {
            doc_id: id.unwrap_or_else(|| content_id(&t)),
            source,
            title: title.filter(|s| !s.trim().is_empty()),
            text: t,
            ..Default::default()
        },
        Some(_) => RawDoc::failed(
            id.unwrap_or(fallback_id),
            source,
            format!("empty '{text_field}' field"),
        ),
        None => RawDoc::failed(
            id.unwrap_or(fallback_id),
            source,
            format!("row has no '{text_field}' field"),
        ),
    }
}

pub(crate) fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into())
}

/// Positions of the kept columns; a name missing from the input is an error.
pub(crate) fn keep_positions(spec: &InputSpec, available: &[String]) -> Result<Vec<usize>> {
    spec.keep_cols
        .iter()
        .map(|c| {
            pick_column(Some(c), &[], available, "kept", &spec.path, true)
                .map(|i| i.unwrap_or_default())
        })
        .collect()
}

/// Helpers shared by the tests of every format.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use std::io::Write;

    /// Write `bytes` to `dir/name`, creating parent folders.
    pub fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::File::create(&p)
            .and_then(|mut f| f.write_all(bytes))
            .expect("write");
        p
    }

    /// The spec of an input with every option at its default.
    pub fn spec(path: &Path) -> InputSpec {
        InputSpec {
            path: path.to_path_buf(),
            ..Default::default()
        }
    }

    /// The spec of an input that keeps `cols`.
    pub fn keep(path: &Path, cols: &[&str]) -> InputSpec {
        InputSpec {
            path: path.to_path_buf(),
            keep_cols: cols.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }
    }

    /// The kept values of every document.
    pub fn metas(spec: &InputSpec) -> Vec<Vec<Option<String>>> {
        Corpus::open(spec).expect("open").map(|d| d.meta).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn missing_path_is_fatal() {
        let err = Corpus::open(&spec(Path::new("/no/such/corpus"))).expect_err("must fail");
        assert!(err.to_string().contains("no such file"), "{err}");
    }

    #[test]
    fn kept_columns_need_a_table_and_new_names() {
        let dir = tempfile::tempdir().expect("tmp");
        write(dir.path(), "a.txt", b"Text.");
        let err = Corpus::open(&keep(dir.path(), &["outlet"])).expect_err("txt");
        assert!(err.to_string().contains("table input"), "{err}");
        let p = write(dir.path(), "c.csv", b"text,title\nA.,T\n");
        let err = Corpus::open(&keep(&p, &["title"])).expect_err("reserved");
        assert!(
            err.to_string()
                .contains("'title' is a column of the documents table"),
            "{err}"
        );
        let p = write(dir.path(), "d.csv", b"text,x\nA.,1\n");
        let err = Corpus::open(&keep(&p, &["x", "x"])).expect_err("twice");
        assert!(err.to_string().contains("named twice"), "{err}");
    }
}
