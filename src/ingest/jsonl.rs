//! JSONL (`.jsonl`, `.ndjson`): one JSON object per line.
//!
//! Lines are read as bytes and decoded lossily (with a warning), as files are. The text
//! must be a JSON string: another type is a per-document error naming it. An id may be a
//! string or a number (ids often are numbers); a title that is neither is ignored with a
//! warning (the title is then taken from the text). Kept fields keep any type, as JSON text.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use serde_json::Value;

use super::{
    content_id, file_stem, join_warnings, lossy_utf8, InputSpec, RawDoc, ID_COLUMN_CANDIDATES,
    TEXT_COLUMN_CANDIDATES, TITLE_COLUMN_CANDIDATES,
};
use crate::error::{Error, Result};

/// JSONL: one JSON object per line.
pub(crate) struct JsonlDocs {
    reader: BufReader<File>,
    /// Set after a read error: the rest of the file cannot be read.
    done: bool,
    path: PathBuf,
    stem: String,
    line_no: usize,
    text_col: Option<String>,
    id_col: Option<String>,
    title_col: Option<String>,
    keep_cols: Vec<String>,
}

/// A JSON value as a string: strings as they are, null as missing, others as JSON text.
fn json_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

/// The type of a JSON value, as error messages name it.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

impl JsonlDocs {
    pub(crate) fn open(spec: &InputSpec) -> Result<Self> {
        let f = File::open(&spec.path).map_err(|e| Error::io("cannot open", &spec.path, e))?;
        Ok(JsonlDocs {
            reader: BufReader::new(f),
            done: false,
            path: spec.path.clone(),
            stem: file_stem(&spec.path),
            line_no: 0,
            text_col: spec.text_col.clone(),
            id_col: spec.id_col.clone(),
            title_col: spec.title_col.clone(),
            keep_cols: spec.keep_cols.clone(),
        })
    }

    /// The field to read (the user's, else the first candidate present) and its value;
    /// null counts as absent.
    fn field<'a>(
        obj: &'a serde_json::Map<String, Value>,
        wanted: Option<&str>,
        candidates: &[&str],
    ) -> (String, Option<&'a Value>) {
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
        let value = key.and_then(|k| obj.get(&k)).filter(|v| !v.is_null());
        (name, value)
    }

    /// The next line as bytes, without its line end; `None` at the end of the file.
    fn read_line(&mut self) -> Option<std::io::Result<Vec<u8>>> {
        let mut buf = Vec::new();
        match self.reader.read_until(b'\n', &mut buf) {
            Ok(0) => None,
            Ok(_) => {
                if buf.last() == Some(&b'\n') {
                    buf.pop();
                    if buf.last() == Some(&b'\r') {
                        buf.pop();
                    }
                }
                Some(Ok(buf))
            }
            Err(e) => Some(Err(e)),
        }
    }

    /// The document of one JSON object.
    fn document(
        &mut self,
        obj: &serde_json::Map<String, Value>,
        source: String,
        fallback: String,
    ) -> RawDoc {
        // Auto-detected field names are fixed by the first row that has one, so
        // every row of a file reads the same field.
        let (text_name, text) = Self::field(obj, self.text_col.as_deref(), &TEXT_COLUMN_CANDIDATES);
        let (id_name, id) = Self::field(obj, self.id_col.as_deref(), &ID_COLUMN_CANDIDATES);
        let (title_name, title) =
            Self::field(obj, self.title_col.as_deref(), &TITLE_COLUMN_CANDIDATES);
        if text.is_some() && self.text_col.is_none() {
            self.text_col = Some(text_name.clone());
        }
        if id.is_some() && self.id_col.is_none() {
            self.id_col = Some(id_name.clone());
        }
        if title.is_some() && self.title_col.is_none() {
            self.title_col = Some(title_name.clone());
        }
        let meta: Vec<Option<String>> = self
            .keep_cols
            .iter()
            .map(|k| obj.get(k).and_then(json_string))
            .collect();
        let failed = |id: Option<String>, error: String| RawDoc {
            meta: meta.clone(),
            ..RawDoc::failed(
                id.unwrap_or_else(|| fallback.clone()),
                source.clone(),
                error,
            )
        };
        // Ids: strings, and numbers as they are written (ids often are numbers).
        let id = match id {
            None => None,
            Some(Value::String(s)) => Some(s.clone()).filter(|s| !s.trim().is_empty()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(other) => {
                return failed(
                    None,
                    format!(
                        "'{id_name}' field is {}, expected a string or a number",
                        json_type(other)
                    ),
                )
            }
        };
        let text = match text {
            None => return failed(id, format!("row has no '{text_name}' field")),
            Some(Value::String(t)) if t.trim().is_empty() => {
                return failed(id, format!("empty '{text_name}' field"))
            }
            Some(Value::String(t)) => t.clone(),
            Some(other) => {
                return failed(
                    id,
                    format!(
                        "'{text_name}' field is {}, expected a string",
                        json_type(other)
                    ),
                )
            }
        };
        // A title that is not text is ignored: the cleaner takes the first line instead.
        let (title, warning) = match title {
            None => (None, None),
            Some(Value::String(t)) => (Some(t.clone()).filter(|t| !t.trim().is_empty()), None),
            Some(Value::Number(n)) => (Some(n.to_string()), None),
            Some(other) => (
                None,
                Some(format!(
                    "'{title_name}' field is {}, not a string: the title is taken from the text",
                    json_type(other)
                )),
            ),
        };
        RawDoc {
            doc_id: id.unwrap_or_else(|| content_id(&text)),
            source,
            title,
            text,
            warning,
            error: None,
            meta,
        }
    }
}

impl Iterator for JsonlDocs {
    type Item = RawDoc;
    fn next(&mut self) -> Option<RawDoc> {
        loop {
            if self.done {
                return None;
            }
            let line = self.read_line()?;
            self.line_no += 1;
            let n = self.line_no;
            let source = format!("{}:{n}", self.path.display());
            let fallback = format!("{}-line{n}", self.stem);
            let bytes = match line {
                Ok(l) => l,
                Err(e) => {
                    // A read error does not go away: report it once and stop.
                    self.done = true;
                    return Some(RawDoc::failed(
                        fallback,
                        source,
                        format!("cannot read line: {e}"),
                    ));
                }
            };
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let (line, utf8_warning) = lossy_utf8(&bytes);
            let obj = match serde_json::from_str::<Value>(&line) {
                Ok(Value::Object(o)) => o,
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
            let mut doc = self.document(&obj, source, fallback);
            if doc.error.is_none() {
                doc.warning = join_warnings(utf8_warning, doc.warning);
            }
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
