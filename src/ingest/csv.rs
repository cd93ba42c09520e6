//! CSV and TSV with a header row, streamed record by record.
//!
//! A row whose number of fields differs from the header's is read with a warning (extra
//! fields are ignored, missing ones are empty). A quoted field whose closing quote is
//! missing runs to the end of the file and swallows every row after it: that row is a
//! per-document error naming the line where the quote opened.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;

use super::{
    file_stem, join_warnings, keep_positions, lossy_utf8, make_doc, pick_column, InputSpec, RawDoc,
    ID_COLUMN_CANDIDATES, TEXT_COLUMN_CANDIDATES, TITLE_COLUMN_CANDIDATES,
};
use crate::error::{Error, Result};

/// CSV / TSV with a header row, streamed record by record.
pub(crate) struct CsvDocs {
    reader: ::csv::Reader<File>,
    path: PathBuf,
    stem: String,
    row: usize,
    text_idx: usize,
    text_name: String,
    id_idx: Option<usize>,
    title_idx: Option<usize>,
    keep_idx: Vec<usize>,
    delimiter: u8,
    /// Number of header fields.
    width: usize,
    /// Length of the file when opened: a record that ends there may hold an unterminated
    /// quoted field.
    file_len: u64,
}

impl CsvDocs {
    pub(crate) fn open(spec: &InputSpec, delimiter: u8) -> Result<Self> {
        let f = File::open(&spec.path).map_err(|e| Error::io("cannot open", &spec.path, e))?;
        let file_len = f
            .metadata()
            .map_err(|e| Error::io("cannot open", &spec.path, e))?
            .len();
        let mut reader = ::csv::ReaderBuilder::new()
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
            delimiter,
            width: headers.len(),
            file_len,
        })
    }

    /// For the record that ends the file: the line where a quoted field opened and was
    /// never closed, if one was (the csv crate ends such a field at the end of the file
    /// without an error).
    fn unterminated_quote(&self, record: &::csv::ByteRecord) -> Option<u64> {
        let start = record.position()?;
        if self.reader.position().byte() != self.file_len {
            return None;
        }
        let mut raw = Vec::new();
        let mut f = File::open(&self.path).ok()?;
        f.seek(SeekFrom::Start(start.byte())).ok()?;
        f.read_to_end(&mut raw).ok()?;
        let open = open_quote(&raw, self.delimiter)?;
        let newlines = raw[..open].iter().filter(|&&b| b == b'\n').count() as u64;
        Some(start.line() + newlines)
    }
}

/// The offset of a quoted field still open at the end of `raw` (one CSV record), as the
/// csv crate parses quotes: only at the start of a field, `""` inside is a quote.
fn open_quote(raw: &[u8], delimiter: u8) -> Option<usize> {
    enum State {
        FieldStart,
        Unquoted,
        Quoted(usize),
        /// A quote inside a quoted field: it closes the field or starts `""`.
        QuoteInQuoted(usize),
    }
    let mut state = State::FieldStart;
    for (i, &b) in raw.iter().enumerate() {
        let ends_field = b == delimiter || b == b'\n' || b == b'\r';
        state = match state {
            State::FieldStart if b == b'"' => State::Quoted(i),
            State::FieldStart | State::Unquoted if ends_field => State::FieldStart,
            State::FieldStart | State::Unquoted => State::Unquoted,
            State::Quoted(o) if b == b'"' => State::QuoteInQuoted(o),
            State::Quoted(o) => State::Quoted(o),
            State::QuoteInQuoted(o) if b == b'"' => State::Quoted(o),
            State::QuoteInQuoted(_) if ends_field => State::FieldStart,
            State::QuoteInQuoted(_) => State::Unquoted,
        };
    }
    match state {
        State::Quoted(o) => Some(o),
        _ => None,
    }
}

/// `1 field`, `3 fields`.
fn fields(n: usize) -> String {
    if n == 1 {
        "1 field".into()
    } else {
        format!("{n} fields")
    }
}

impl Iterator for CsvDocs {
    type Item = RawDoc;
    fn next(&mut self) -> Option<RawDoc> {
        let mut record = ::csv::ByteRecord::new();
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
                if let Some(line) = self.unterminated_quote(&record) {
                    let id = get(self.id_idx).filter(|s| !s.trim().is_empty());
                    return Some(RawDoc::failed(
                        id.unwrap_or(fallback),
                        source,
                        format!(
                            "unterminated quoted field opened on line {line}: it runs to the end \
                             of the file, so the rows after it were not read (close the quote \
                             or double the quotes inside it)"
                        ),
                    ));
                }
                let (text, utf8_warning) = match record.get(self.text_idx) {
                    Some(b) => {
                        let (t, w) = lossy_utf8(b);
                        (Some(t), w)
                    }
                    None => (None, None),
                };
                let mut doc = make_doc(
                    get(self.id_idx),
                    get(self.title_idx),
                    text,
                    source,
                    fallback,
                    &self.text_name,
                );
                if doc.error.is_none() {
                    let ragged = (record.len() != self.width).then(|| {
                        format!(
                            "row has {}, header has {}",
                            fields(record.len()),
                            self.width
                        )
                    });
                    doc.warning = join_warnings(ragged, utf8_warning);
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

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Corpus;
    use super::*;

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
    fn kept_columns_from_csv() {
        let dir = tempfile::tempdir().expect("tmp");
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
    }
}
