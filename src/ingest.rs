//! Stage 1 — ingest: turn an input path into a stream of raw documents.
//!
//! Supported inputs: a folder of `.txt`/`.md` files (recursively), a single text file,
//! JSONL (`.jsonl`, `.ndjson`), CSV/TSV, or Parquet with a text column. Documents are
//! produced lazily so that a corpus of millions of articles streams with bounded memory.
//!
//! Problems with one document (unreadable file, binary content, a row without text)
//! never stop the stream: the document is yielded with its `error` set.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use polars::prelude::*;
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
    fn failed(doc_id: String, source: String, error: String) -> Self {
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
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok((s.to_owned(), None)),
        Err(_) => {
            let text = String::from_utf8_lossy(bytes).into_owned();
            let replaced = text.matches('\u{FFFD}').count();
            Ok((
                text,
                Some(format!(
                    "invalid UTF-8: {replaced} sequence(s) replaced with U+FFFD"
                )),
            ))
        }
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
                let files = list_text_files(&spec.path)?;
                let n = files.len();
                let root = if spec.path.is_dir() {
                    spec.path.clone()
                } else {
                    spec.path
                        .parent()
                        .map(Path::to_path_buf)
                        .unwrap_or_default()
                };
                (
                    Box::new(files.into_iter().map(move |p| read_text_file(&root, &p))),
                    Some(n),
                )
            }
            Format::Jsonl => (Box::new(JsonlDocs::open(spec)?), None),
            Format::Csv | Format::Tsv => (
                Box::new(CsvDocs::open(
                    spec,
                    if format == Format::Tsv { b'\t' } else { b',' },
                )?),
                None,
            ),
            Format::Parquet => {
                let docs = ParquetDocs::open(spec)?;
                let n = docs.n_rows;
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

fn is_text_file(p: &Path) -> bool {
    matches!(
        p.extension()
            .and_then(|e| e.to_str())
            .map(|e| e.to_ascii_lowercase())
            .as_deref(),
        Some("txt" | "md" | "text")
    )
}

fn list_text_files(path: &Path) -> Result<Vec<PathBuf>> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(path)
        .follow_links(true)
        .sort_by_file_name()
    {
        let entry = entry.map_err(|e| Error::Input {
            path: path.to_path_buf(),
            reason: format!("cannot list folder: {e}"),
        })?;
        let hidden = entry
            .file_name()
            .to_str()
            .is_some_and(|n| n.starts_with('.') && entry.depth() > 0);
        if hidden {
            continue;
        }
        if entry.file_type().is_file() && is_text_file(entry.path()) {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}

fn read_text_file(root: &Path, path: &Path) -> RawDoc {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let doc_id = rel
        .with_extension("")
        .to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, "/");
    let source = path.to_string_lossy().into_owned();
    let mut bytes = Vec::new();
    if let Err(e) = File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)) {
        return RawDoc::failed(doc_id, source, format!("cannot read file: {e}"));
    }
    match decode_text(&bytes) {
        Ok((text, warning)) => RawDoc {
            doc_id,
            source,
            title: None,
            text,
            warning,
            ..Default::default()
        },
        Err(reason) => RawDoc::failed(doc_id, source, reason),
    }
}

fn pick_column(
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

fn make_doc(
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

fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "input".into())
}

/// JSONL: one JSON object per line.
struct JsonlDocs {
    lines: std::io::Lines<BufReader<File>>,
    path: PathBuf,
    stem: String,
    line_no: usize,
    text_col: Option<String>,
    id_col: Option<String>,
    title_col: Option<String>,
    keep_cols: Vec<String>,
}

/// A JSON value as a string: strings as they are, null as missing, others as JSON text.
fn json_string(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Null => None,
        other => Some(other.to_string()),
    }
}

impl JsonlDocs {
    fn open(spec: &InputSpec) -> Result<Self> {
        let f = File::open(&spec.path).map_err(|e| Error::io("cannot open", &spec.path, e))?;
        Ok(JsonlDocs {
            lines: BufReader::new(f).lines(),
            path: spec.path.clone(),
            stem: file_stem(&spec.path),
            line_no: 0,
            text_col: spec.text_col.clone(),
            id_col: spec.id_col.clone(),
            title_col: spec.title_col.clone(),
            keep_cols: spec.keep_cols.clone(),
        })
    }

    fn field(
        obj: &serde_json::Map<String, serde_json::Value>,
        wanted: Option<&str>,
        candidates: &[&str],
    ) -> (String, Option<String>) {
        let key = match wanted {
            Some(w) => Some(w.to_string()),
            None => candidates
                .iter()
                .find(|c| obj.contains_key(**c))
                .map(|c| c.to_string()),
        };
        let name = key.clone().unwrap_or_else(|| {
            candidates
                .first()
                .map(|s| s.to_string())
                .unwrap_or_default()
        });
        let value = key.and_then(|k| obj.get(&k)).and_then(json_string);
        (name, value)
    }
}

impl Iterator for JsonlDocs {
    type Item = RawDoc;
    fn next(&mut self) -> Option<RawDoc> {
        loop {
            let line = self.lines.next()?;
            self.line_no += 1;
            let n = self.line_no;
            let source = format!("{}:{n}", self.path.display());
            let fallback = format!("{}-line{n}", self.stem);
            let line = match line {
                Ok(l) => l,
                Err(e) => {
                    return Some(RawDoc::failed(
                        fallback,
                        source,
                        format!("cannot read line: {e}"),
                    ))
                }
            };
            if line.trim().is_empty() {
                continue;
            }
            let obj = match serde_json::from_str::<serde_json::Value>(&line) {
                Ok(serde_json::Value::Object(o)) => o,
                Ok(_) => {
                    return Some(RawDoc::failed(
                        fallback,
                        source,
                        "line is not a JSON object".into(),
                    ))
                }
                Err(e) => {
                    return Some(RawDoc::failed(
                        fallback,
                        source,
                        format!("invalid JSON: {e}"),
                    ))
                }
            };
            // Auto-detected field names are fixed by the first row that has one, so
            // every row of a file reads the same field.
            let (text_name, text) =
                Self::field(&obj, self.text_col.as_deref(), &TEXT_COLUMN_CANDIDATES);
            let (id_name, id) = Self::field(&obj, self.id_col.as_deref(), &ID_COLUMN_CANDIDATES);
            let (title_name, title) =
                Self::field(&obj, self.title_col.as_deref(), &TITLE_COLUMN_CANDIDATES);
            if text.is_some() && self.text_col.is_none() {
                self.text_col = Some(text_name.clone());
            }
            if id.is_some() && self.id_col.is_none() {
                self.id_col = Some(id_name);
            }
            if title.is_some() && self.title_col.is_none() {
                self.title_col = Some(title_name);
            }
            let mut doc = make_doc(id, title, text, source, fallback, &text_name);
            doc.meta = self
                .keep_cols
                .iter()
                .map(|k| obj.get(k).and_then(json_string))
                .collect();
            return Some(doc);
        }
    }
}

/// CSV / TSV with a header row, streamed record by record.
struct CsvDocs {
    reader: csv::Reader<File>,
    path: PathBuf,
    stem: String,
    row: usize,
    text_idx: usize,
    text_name: String,
    id_idx: Option<usize>,
    title_idx: Option<usize>,
    keep_idx: Vec<usize>,
}

/// Positions of the kept columns; a name missing from the input is an error.
fn keep_positions(spec: &InputSpec, available: &[String]) -> Result<Vec<usize>> {
    spec.keep_cols
        .iter()
        .map(|c| {
            pick_column(Some(c), &[], available, "kept", &spec.path, true)
                .map(|i| i.unwrap_or_default())
        })
        .collect()
}

impl CsvDocs {
    fn open(spec: &InputSpec, delimiter: u8) -> Result<Self> {
        let f = File::open(&spec.path).map_err(|e| Error::io("cannot open", &spec.path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_reader(f);
        let headers: Vec<String> = reader
            .byte_headers()
            .map_err(|e| Error::Input {
                path: spec.path.clone(),
                reason: format!("cannot read CSV header: {e}"),
            })?
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .collect();
        let p = &spec.path;
        let text_idx = pick_column(
            spec.text_col.as_deref(),
            &TEXT_COLUMN_CANDIDATES,
            &headers,
            "text",
            p,
            true,
        )?
        .unwrap_or(0);
        let id_idx = pick_column(
            spec.id_col.as_deref(),
            &ID_COLUMN_CANDIDATES,
            &headers,
            "id",
            p,
            false,
        )?;
        let title_idx = pick_column(
            spec.title_col.as_deref(),
            &TITLE_COLUMN_CANDIDATES,
            &headers,
            "title",
            p,
            false,
        )?;
        Ok(CsvDocs {
            reader,
            path: spec.path.clone(),
            stem: file_stem(&spec.path),
            row: 0,
            text_name: headers.get(text_idx).cloned().unwrap_or_default(),
            text_idx,
            id_idx,
            title_idx,
            keep_idx: keep_positions(spec, &headers)?,
        })
    }
}

impl Iterator for CsvDocs {
    type Item = RawDoc;
    fn next(&mut self) -> Option<RawDoc> {
        let mut record = csv::ByteRecord::new();
        self.row += 1;
        let n = self.row;
        let source = format!("{}#row{n}", self.path.display());
        let fallback = format!("{}-row{n}", self.stem);
        match self.reader.read_byte_record(&mut record) {
            Ok(false) => None,
            Err(e) => {
                // A malformed record: report it and go on with the next one.
                Some(RawDoc::failed(
                    fallback,
                    source,
                    format!("invalid CSV record: {e}"),
                ))
            }
            Ok(true) => {
                let get = |i: Option<usize>| {
                    i.and_then(|i| record.get(i))
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                };
                let raw_text = record.get(self.text_idx);
                let mut doc = make_doc(
                    get(self.id_idx),
                    get(self.title_idx),
                    raw_text.map(|b| String::from_utf8_lossy(b).into_owned()),
                    source,
                    fallback,
                    &self.text_name,
                );
                if raw_text.is_some_and(|b| std::str::from_utf8(b).is_err()) && doc.error.is_none()
                {
                    doc.warning = Some("invalid UTF-8: bytes replaced with U+FFFD".into());
                }
                // CSV has no null: an empty cell is a missing value (as in polars' reader).
                doc.meta = self
                    .keep_idx
                    .iter()
                    .map(|&i| get(Some(i)).filter(|v| !v.is_empty()))
                    .collect();
                Some(doc)
            }
        }
    }
}

/// Parquet, read in row slices so that memory stays bounded.
struct ParquetDocs {
    path: PathBuf,
    stem: String,
    n_rows: usize,
    offset: usize,
    slice: usize,
    /// Columns read; `id_pos` / `title_pos` / `keep_pos` index into it (text is first).
    columns: Vec<String>,
    text_name: String,
    id_pos: Option<usize>,
    title_pos: Option<usize>,
    keep_pos: Vec<usize>,
    buffer: std::vec::IntoIter<RawDoc>,
}

impl ParquetDocs {
    const SLICE_ROWS: usize = 2048;

    fn open(spec: &InputSpec) -> Result<Self> {
        let p = &spec.path;
        let bad = |e: PolarsError| Error::Input {
            path: p.clone(),
            reason: format!("cannot read Parquet: {e}"),
        };
        let f = File::open(p).map_err(|e| Error::io("cannot open", p, e))?;
        let mut reader = ParquetReader::new(f);
        let schema = reader.schema().map_err(bad)?;
        let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
        let n_rows = reader.num_rows().map_err(bad)?;
        let text = pick_column(
            spec.text_col.as_deref(),
            &TEXT_COLUMN_CANDIDATES,
            &names,
            "text",
            p,
            true,
        )?
        .unwrap_or(0);
        let id = pick_column(
            spec.id_col.as_deref(),
            &ID_COLUMN_CANDIDATES,
            &names,
            "id",
            p,
            false,
        )?;
        let title = pick_column(
            spec.title_col.as_deref(),
            &TITLE_COLUMN_CANDIDATES,
            &names,
            "title",
            p,
            false,
        )?;
        let keep = keep_positions(spec, &names)?;
        let mut columns = vec![names[text].clone()];
        let mut position = |i: usize| match columns.iter().position(|c| *c == names[i]) {
            Some(p) => p,
            None => {
                columns.push(names[i].clone());
                columns.len() - 1
            }
        };
        let id_pos = id.map(&mut position);
        let title_pos = title.map(&mut position);
        let keep_pos: Vec<usize> = keep.into_iter().map(&mut position).collect();
        Ok(ParquetDocs {
            path: p.clone(),
            stem: file_stem(p),
            n_rows,
            offset: 0,
            slice: Self::SLICE_ROWS,
            text_name: names[text].clone(),
            columns,
            id_pos,
            title_pos,
            keep_pos,
            buffer: Vec::new().into_iter(),
        })
    }

    fn read_slice(&mut self) -> std::result::Result<Vec<RawDoc>, PolarsError> {
        let f = File::open(&self.path).map_err(|e| PolarsError::IO {
            error: std::sync::Arc::new(e),
            msg: None,
        })?;
        let df = ParquetReader::new(f)
            .with_columns(Some(self.columns.clone()))
            .with_slice(Some((self.offset, self.slice)))
            .finish()?;
        let as_strings = |name: &str| -> std::result::Result<Vec<Option<String>>, PolarsError> {
            let col = df.column(name)?.cast(&DataType::String)?;
            Ok(col.str()?.iter().map(|v| v.map(str::to_owned)).collect())
        };
        let texts = as_strings(&self.columns[0])?;
        let n = texts.len();
        let optional = |pos: Option<usize>| match pos {
            Some(p) => as_strings(&self.columns[p]),
            None => Ok(vec![None; n]),
        };
        let ids = optional(self.id_pos)?;
        let titles = optional(self.title_pos)?;
        let kept = self
            .keep_pos
            .iter()
            .map(|&p| as_strings(&self.columns[p]))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        Ok(texts
            .into_iter()
            .zip(ids)
            .zip(titles)
            .enumerate()
            .map(|(i, ((text, id), title))| {
                let row = self.offset + i + 1;
                let mut doc = make_doc(
                    id,
                    title,
                    text,
                    format!("{}#row{row}", self.path.display()),
                    format!("{}-row{row}", self.stem),
                    &self.text_name,
                );
                doc.meta = kept
                    .iter()
                    .map(|col| col.get(i).cloned().flatten())
                    .collect();
                doc
            })
            .collect())
    }
}

impl Iterator for ParquetDocs {
    type Item = RawDoc;
    fn next(&mut self) -> Option<RawDoc> {
        if let Some(d) = self.buffer.next() {
            return Some(d);
        }
        if self.offset >= self.n_rows {
            return None;
        }
        let docs = match self.read_slice() {
            Ok(d) => d,
            Err(e) => {
                // The slice cannot be decoded: report every row of it, then go on.
                let end = (self.offset + self.slice).min(self.n_rows);
                (self.offset..end)
                    .map(|r| {
                        RawDoc::failed(
                            format!("{}-row{}", self.stem, r + 1),
                            format!("{}#row{}", self.path.display(), r + 1),
                            format!("cannot decode Parquet rows: {e}"),
                        )
                    })
                    .collect()
            }
        };
        self.offset += self.slice;
        self.buffer = docs.into_iter();
        self.buffer.next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::File::create(&p)
            .and_then(|mut f| f.write_all(bytes))
            .expect("write");
        p
    }

    fn spec(path: &Path) -> InputSpec {
        InputSpec {
            path: path.to_path_buf(),
            ..Default::default()
        }
    }

    #[test]
    fn folder_recursive_sorted_with_errors_and_lossy_utf8() {
        let dir = tempfile::tempdir().expect("tmp");
        write(dir.path(), "b.txt", b"Second doc.");
        write(dir.path(), "a.txt", b"First doc.");
        write(dir.path(), "sub/c.md", b"Bad \xff byte.");
        write(dir.path(), "empty.txt", b"  \n ");
        write(dir.path(), "bin.txt", b"\x00\x01\x02abc");
        write(dir.path(), "skip.pdf", b"%PDF");
        write(dir.path(), ".hidden.txt", b"hidden");
        let docs: Vec<RawDoc> = Corpus::open(&spec(dir.path())).expect("open").collect();
        let ids: Vec<&str> = docs.iter().map(|d| d.doc_id.as_str()).collect();
        assert_eq!(ids, ["a", "b", "bin", "empty", "sub/c"]);
        assert_eq!(docs[0].text, "First doc.");
        assert!(docs[2]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("binary")));
        assert_eq!(docs[3].error.as_deref(), Some("empty document"));
        assert_eq!(docs[4].text, "Bad \u{FFFD} byte.");
        assert!(docs[4]
            .warning
            .as_deref()
            .is_some_and(|w| w.contains("invalid UTF-8")));
    }

    #[test]
    fn missing_path_is_fatal() {
        let err = Corpus::open(&spec(Path::new("/no/such/corpus"))).expect_err("must fail");
        assert!(err.to_string().contains("no such file"), "{err}");
    }

    #[test]
    fn jsonl_rows_ids_hashes_and_bad_rows() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = write(
            dir.path(),
            "c.jsonl",
            b"{\"id\": 7, \"text\": \"Hello there.\", \"title\": \"T\"}\n\n{\"text\": \"No id here.\"}\nnot json\n{\"id\": \"x\"}\n{\"id\": \"y\", \"text\": \"  \"}\n",
        );
        let docs: Vec<RawDoc> = Corpus::open(&spec(&p)).expect("open").collect();
        assert_eq!(docs.len(), 5);
        assert_eq!(docs[0].doc_id, "7");
        assert_eq!(docs[0].title.as_deref(), Some("T"));
        assert_eq!(docs[1].doc_id, content_id("No id here."));
        assert_eq!(docs[1].doc_id.len(), 16);
        assert!(docs[2]
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("invalid JSON")));
        assert_eq!(docs[2].source, format!("{}:4", p.display()));
        assert_eq!(docs[3].doc_id, "x");
        assert_eq!(docs[3].error.as_deref(), Some("row has no 'text' field"));
        assert_eq!(docs[4].error.as_deref(), Some("empty 'text' field"));
    }

    #[test]
    fn csv_with_named_columns_and_missing_column_error() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = write(
            dir.path(),
            "c.csv",
            b"key,body\nk1,\"Quoted, text.\"\nk1,Again.\nk3,\n",
        );
        let s = InputSpec {
            path: p.clone(),
            id_col: Some("key".into()),
            ..Default::default()
        };
        let docs: Vec<RawDoc> = Corpus::open(&s).expect("open").collect();
        assert_eq!(docs[0].text, "Quoted, text.");
        assert_eq!(docs[0].doc_id, "k1");
        assert_eq!(docs[1].doc_id, "k1#2", "duplicate ids are made unique");
        assert!(docs[2].error.is_some());
        let s = InputSpec {
            path: p,
            text_col: Some("nope".into()),
            ..Default::default()
        };
        let err = Corpus::open(&s).expect_err("missing column");
        assert!(err.to_string().contains("columns are: key, body"), "{err}");
    }

    #[test]
    fn parquet_slices() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("c.parquet");
        let n = ParquetDocs::SLICE_ROWS + 5;
        let texts: Vec<Option<String>> = (0..n)
            .map(|i| {
                if i == 3 {
                    None
                } else {
                    Some(format!("Doc number {i}."))
                }
            })
            .collect();
        let ids: Vec<i64> = (0..n as i64).collect();
        let mut df = df!("id" => ids, "text" => texts).expect("df");
        let f = File::create(&p).expect("create");
        ParquetWriter::new(f).finish(&mut df).expect("write");
        let docs: Vec<RawDoc> = Corpus::open(&spec(&p)).expect("open").collect();
        assert_eq!(docs.len(), n);
        assert_eq!(docs[n - 1].doc_id, (n - 1).to_string());
        assert_eq!(docs[n - 1].text, format!("Doc number {}.", n - 1));
        assert!(docs[3].error.is_some());
    }

    fn keep(path: &Path, cols: &[&str]) -> InputSpec {
        InputSpec {
            path: path.to_path_buf(),
            keep_cols: cols.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }
    }

    fn metas(spec: &InputSpec) -> Vec<Vec<Option<String>>> {
        Corpus::open(spec).expect("open").map(|d| d.meta).collect()
    }

    #[test]
    fn kept_columns_from_jsonl_csv_and_parquet() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = write(
            dir.path(),
            "c.jsonl",
            b"{\"text\": \"A.\", \"outlet\": \"Tass\", \"year\": 2022}\n{\"text\": \"B.\", \"outlet\": null}\nnot json\n",
        );
        assert_eq!(
            metas(&keep(&p, &["outlet", "year"])),
            [
                vec![Some("Tass".into()), Some("2022".into())],
                vec![None, None],
                vec![],
            ]
        );
        let p = write(
            dir.path(),
            "c.csv",
            b"outlet,text,date\nNHK,Tokyo spoke.,2022-03-01\nTass,Moscow replied.,\n",
        );
        assert_eq!(
            metas(&keep(&p, &["date", "outlet"])),
            [
                vec![Some("2022-03-01".into()), Some("NHK".into())],
                vec![None, Some("Tass".into())],
            ]
        );
        let err = Corpus::open(&keep(&p, &["url"])).expect_err("missing column");
        assert!(
            err.to_string()
                .contains("no kept column 'url'; columns are: outlet, text, date"),
            "{err}"
        );
        // Parquet: a kept column may also be the id column; non-strings become strings.
        let p = dir.path().join("c.parquet");
        let mut df = df!(
            "text" => ["One.", "Two."],
            "title" => [Some("T1"), None],
            "year" => [2021i64, 2022],
        )
        .expect("df");
        ParquetWriter::new(File::create(&p).expect("create"))
            .finish(&mut df)
            .expect("write");
        let mut s = keep(&p, &["year", "title2"]);
        let err = Corpus::open(&s).expect_err("missing column");
        assert!(err.to_string().contains("'title2'"), "{err}");
        s.keep_cols = vec!["year".into()];
        s.id_col = Some("year".into());
        let docs: Vec<RawDoc> = Corpus::open(&s).expect("open").collect();
        assert_eq!(docs[0].title.as_deref(), Some("T1"));
        assert_eq!(docs[1].doc_id, "2022");
        assert_eq!(docs[1].meta, [Some("2022".into())]);
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
