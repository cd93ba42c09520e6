//! CSV and TSV with a header row, streamed record by record.

use std::fs::File;
use std::path::PathBuf;

use super::{
    file_stem, keep_positions, make_doc, pick_column, InputSpec, RawDoc, ID_COLUMN_CANDIDATES,
    TEXT_COLUMN_CANDIDATES, TITLE_COLUMN_CANDIDATES,
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
}

impl CsvDocs {
    pub(crate) fn open(spec: &InputSpec, delimiter: u8) -> Result<Self> {
        let f = File::open(&spec.path).map_err(|e| Error::io("cannot open", &spec.path, e))?;
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
        })
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
