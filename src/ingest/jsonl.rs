//! JSONL (`.jsonl`, `.ndjson`): one JSON object per line.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use super::{
    file_stem, make_doc, InputSpec, RawDoc, ID_COLUMN_CANDIDATES, TEXT_COLUMN_CANDIDATES,
    TITLE_COLUMN_CANDIDATES,
};
use crate::error::{Error, Result};

/// JSONL: one JSON object per line.
pub(crate) struct JsonlDocs {
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
    pub(crate) fn open(spec: &InputSpec) -> Result<Self> {
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

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::{content_id, Corpus};
    use super::*;

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
    fn kept_fields_from_jsonl() {
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
    }
}
