//! The bad-input matrix: hostile or broken inputs of every format, one row each, and what
//! reading them must give. A new input format adds its rows here, so that it gets the same
//! treatment: a problem with one document is that document's `error` (or a `warning` when
//! something was repaired), and only an input that cannot be read at all is fatal.

use std::fs::File;
use std::path::Path;

use polars::prelude::*;

use super::testing::{spec, write};
use super::{Corpus, InputSpec, RawDoc};

/// What one document read from a row's input must be.
#[derive(Debug)]
enum Doc {
    /// Read without remark, with this doc_id.
    Ok(&'static str),
    /// Read with a `warning` containing the text.
    Warning(&'static str, &'static str),
    /// Not read: an `error` containing the text.
    Error(&'static str, &'static str),
}

/// What reading a row's input must give.
#[derive(Debug)]
enum Outcome {
    /// `Corpus::open` fails with an error containing the text.
    Fatal(&'static str),
    /// These documents, in this order.
    Docs(&'static [Doc]),
}

use Doc::{Error as E, Ok as K, Warning as W};
use Outcome::{Docs, Fatal};

/// One row: a case name, how its input is made (in a fresh folder), what must come out.
type Row = (&'static str, fn(&Path) -> InputSpec, Outcome);

#[cfg(unix)]
fn link(target: &str, dir: &Path, name: &str) {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).expect("mkdir");
    }
    std::os::unix::fs::symlink(target, p).expect("symlink");
}

/// A folder `corpus/` with `a.txt`, beside a folder `outside/` with `secret.txt`.
fn corpus_beside_outside(dir: &Path) -> std::path::PathBuf {
    write(dir, "corpus/a.txt", b"Inside.");
    write(dir, "outside/secret.txt", b"Secret.");
    dir.join("corpus")
}

fn parquet(dir: &Path, mut df: DataFrame) -> InputSpec {
    let p = dir.join("c.parquet");
    ParquetWriter::new(File::create(&p).expect("create"))
        .finish(&mut df)
        .expect("write");
    spec(&p)
}

fn rows() -> Vec<Row> {
    let mut rows: Vec<Row> = vec![
        // ---- folders of text files ----
        (
            "folder: missing path",
            |d| spec(&d.join("nope")),
            Fatal("no such file or directory"),
        ),
        (
            "folder: empty, binary and invalid UTF-8 files",
            |d| {
                write(d, "bad.txt", b"Caf\xe9 \xff open.");
                write(d, "bin.txt", b"\x00\x01\x02abc");
                write(d, "empty.txt", b" \n ");
                spec(d)
            },
            Docs(&[
                W("bad", "invalid UTF-8: 2 sequence(s) replaced with U+FFFD"),
                E("bin", "binary content"),
                E("empty", "empty document"),
            ]),
        ),
    ];
    #[cfg(unix)]
    rows.extend::<[Row; 8]>([
        (
            "folder: dangling symbolic link",
            |d| {
                write(d, "a.txt", b"Kept.");
                link("missing.txt", d, "gone.txt");
                spec(d)
            },
            Docs(&[K("a"), E("gone", "dangling symbolic link")]),
        ),
        (
            "folder: symbolic link loop sub/up -> ..",
            |d| {
                write(d, "a.txt", b"Kept.");
                write(d, "sub/b.txt", b"Kept too.");
                link("..", d, "sub/up");
                spec(d)
            },
            Docs(&[K("a"), K("sub/b"), E("sub/up", "symbolic link loop")]),
        ),
        (
            "folder: self link a.txt -> a.txt",
            |d| {
                link("a.txt", d, "a.txt");
                write(d, "b.txt", b"Kept.");
                spec(d)
            },
            Docs(&[E("a", "symbolic link loop"), K("b")]),
        ),
        (
            "folder: link to a file inside the folder",
            |d| {
                write(d, "a.txt", b"Kept.");
                link("a.txt", d, "b.txt");
                spec(d)
            },
            Docs(&[K("a"), K("b")]),
        ),
        (
            "folder: link to a file outside the folder",
            |d| {
                let c = corpus_beside_outside(d);
                link("../outside/secret.txt", &c, "leak.txt");
                spec(&c)
            },
            Docs(&[
                K("a"),
                E(
                    "leak",
                    "symbolic link to a file outside the input folder; pass --follow-links to read it",
                ),
            ]),
        ),
        (
            "folder: link to a folder outside the folder",
            |d| {
                let c = corpus_beside_outside(d);
                link("../outside", &c, "ext");
                spec(&c)
            },
            Docs(&[
                K("a"),
                E(
                    "ext",
                    "symbolic link to a folder outside the input folder; pass --follow-links to read it",
                ),
            ]),
        ),
        (
            "folder: links outside the folder with follow_links",
            |d| {
                let c = corpus_beside_outside(d);
                link("../outside", &c, "ext");
                link("../outside/secret.txt", &c, "leak.txt");
                InputSpec {
                    follow_links: true,
                    ..spec(&c)
                }
            },
            Docs(&[K("a"), K("ext/secret"), K("leak")]),
        ),
        (
            "folder: hidden link to a folder outside is skipped",
            |d| {
                let c = corpus_beside_outside(d);
                link("../outside", &c, ".ext");
                spec(&c)
            },
            Docs(&[K("a")]),
        ),
    ]);
    rows.extend::<[Row; 11]>([
        // ---- JSONL ----
        (
            "jsonl: invalid UTF-8 in a line",
            |d| {
                spec(&write(
                    d,
                    "c.jsonl",
                    b"{\"id\": \"u\", \"text\": \"Caf\xe9 open.\"}\n",
                ))
            },
            Docs(&[W("u", "invalid UTF-8: 1 sequence(s) replaced with U+FFFD")]),
        ),
        (
            "jsonl: text is a list",
            |d| {
                spec(&write(
                    d,
                    "c.jsonl",
                    b"{\"id\": \"l\", \"text\": [\"A.\", \"B.\"]}\n",
                ))
            },
            Docs(&[E("l", "'text' field is a list, expected a string")]),
        ),
        (
            "jsonl: text is an object",
            |d| {
                spec(&write(
                    d,
                    "c.jsonl",
                    b"{\"id\": \"o\", \"text\": {\"p\": \"A.\"}}\n",
                ))
            },
            Docs(&[E("o", "'text' field is an object, expected a string")]),
        ),
        (
            "jsonl: text is a boolean",
            |d| spec(&write(d, "c.jsonl", b"{\"id\": \"b\", \"body\": true}\n")),
            Docs(&[E("b", "'body' field is a boolean, expected a string")]),
        ),
        (
            "jsonl: text is a number",
            |d| spec(&write(d, "c.jsonl", b"{\"id\": \"n\", \"text\": 1.5}\n")),
            Docs(&[E("n", "'text' field is a number, expected a string")]),
        ),
        (
            "jsonl: text is null",
            |d| spec(&write(d, "c.jsonl", b"{\"id\": \"z\", \"text\": null}\n")),
            Docs(&[E("z", "row has no 'text' field")]),
        ),
        (
            "jsonl: id is a number, title is a number",
            |d| {
                spec(&write(
                    d,
                    "c.jsonl",
                    b"{\"id\": 7, \"title\": 1984, \"text\": \"A.\"}\n",
                ))
            },
            Docs(&[K("7")]),
        ),
        (
            "jsonl: id is a list",
            |d| spec(&write(d, "c.jsonl", b"{\"id\": [1], \"text\": \"A.\"}\n")),
            Docs(&[E(
                "c-line1",
                "'id' field is a list, expected a string or a number",
            )]),
        ),
        (
            "jsonl: title is an object (the title comes from the text)",
            |d| {
                spec(&write(
                    d,
                    "c.jsonl",
                    b"{\"id\": \"h\", \"headline\": {\"main\": \"T\"}, \"text\": \"A.\"}\n",
                ))
            },
            Docs(&[W(
                "h",
                "'headline' field is an object, not a string: the title is taken from the text",
            )]),
        ),
        (
            "jsonl: invalid JSON and a line that is not an object",
            |d| spec(&write(d, "c.jsonl", b"{\"text\": \nnot json\n[1, 2]\n")),
            Docs(&[
                E("c-line1", "invalid JSON"),
                E("c-line2", "invalid JSON"),
                E("c-line3", "line is not a JSON object"),
            ]),
        ),
        (
            "jsonl: a folder given as JSONL",
            |d| {
                std::fs::create_dir_all(d.join("c.jsonl")).expect("mkdir");
                InputSpec {
                    format: super::Format::Jsonl,
                    ..spec(&d.join("c.jsonl"))
                }
            },
            Docs(&[E("c-line1", "cannot read line")]),
        ),
    ]);
    rows.extend::<[Row; 7]>([
        // ---- CSV / TSV ----
        (
            "csv: row with more fields than the header",
            |d| spec(&write(d, "c.csv", b"id,text\n1,A.\n2,B.,x,y\n")),
            Docs(&[K("1"), W("2", "row has 4 fields, header has 2")]),
        ),
        (
            "csv: row with fewer fields than the header",
            |d| spec(&write(d, "c.csv", b"text,id,outlet\nA.,1,X\nB.,2\nC.\n")),
            Docs(&[
                K("1"),
                W("2", "row has 2 fields, header has 3"),
                W("*", "row has 1 field, header has 3"),
            ]),
        ),
        (
            "tsv: row with more fields than the header",
            |d| spec(&write(d, "c.tsv", b"id\ttext\n1\tA.\tx\n")),
            Docs(&[W("1", "row has 3 fields, header has 2")]),
        ),
        (
            "csv: unterminated quote swallows the rows after it",
            |d| {
                spec(&write(
                    d,
                    "c.csv",
                    b"id,text\n1,Fine.\n2,\"Opened here\n3,Lost.\n4,Lost too.\n",
                ))
            },
            Docs(&[K("1"), E("2", "unterminated quoted field opened on line 3")]),
        ),
        (
            "csv: a closed multi-line quoted field at the end is fine",
            |d| {
                spec(&write(
                    d,
                    "c.csv",
                    b"id,text\n1,\"Two\nlines, \"\"quoted\"\".\"",
                ))
            },
            Docs(&[K("1")]),
        ),
        (
            "csv: invalid UTF-8 in the text",
            |d| spec(&write(d, "c.csv", b"id,text\n1,Caf\xe9 open.\n")),
            Docs(&[W("1", "invalid UTF-8: 1 sequence(s) replaced with U+FFFD")]),
        ),
        (
            "csv: no text column",
            |d| spec(&write(d, "c.csv", b"id,title\n1,T\n")),
            Fatal("no text column found"),
        ),
    ]);
    rows.extend::<[Row; 5]>([
        // ---- Parquet ----
        (
            "parquet: text column of floats",
            |d| parquet(d, df!("text" => [1.5f64, 2.5]).expect("df")),
            Fatal("text column 'text' has type f64; expected a string column"),
        ),
        (
            "parquet: text column of integers",
            |d| parquet(d, df!("id" => ["a"], "body" => [7i64]).expect("df")),
            Fatal("text column 'body' has type i64; expected a string column"),
        ),
        (
            "parquet: text column of lists",
            |d| {
                let s = Series::new("text".into(), [Series::new("".into(), ["A.", "B."])]);
                parquet(d, DataFrame::new_infer_height(vec![s.into()]).expect("df"))
            },
            Fatal("text column 'text' has type list[str]; expected a string column"),
        ),
        (
            "parquet: id column of lists",
            |d| {
                let ids = Series::new("id".into(), [Series::new("".into(), [1i64])]);
                let text = Series::new("text".into(), ["A."]);
                parquet(
                    d,
                    DataFrame::new_infer_height(vec![ids.into(), text.into()]).expect("df"),
                )
            },
            Fatal("id column 'id' has type list[i64]; expected a string or a number column"),
        ),
        (
            "parquet: missing text in a row",
            |d| {
                parquet(
                    d,
                    df!("id" => ["a", "b"], "text" => [Some("A."), None]).expect("df"),
                )
            },
            Docs(&[K("a"), E("b", "row has no 'text' field")]),
        ),
    ]);
    rows
}

fn check(doc: &RawDoc, want: &Doc) -> std::result::Result<(), String> {
    let (id, error, warning) = match want {
        Doc::Ok(id) => (*id, None, None),
        Doc::Warning(id, w) => (*id, None, Some(*w)),
        Doc::Error(id, e) => (*id, Some(*e), None),
    };
    let id_ok = id == "*" || doc.doc_id == id;
    let error_ok = match error {
        None => doc.error.is_none(),
        Some(e) => doc.error.as_deref().is_some_and(|d| d.contains(e)),
    };
    let warning_ok = match warning {
        None => doc.warning.is_none() || error.is_some(),
        Some(w) => doc.warning.as_deref().is_some_and(|d| d.contains(w)),
    };
    let text_ok = error.is_some() || !doc.text.trim().is_empty();
    if id_ok && error_ok && warning_ok && text_ok {
        Ok(())
    } else {
        Err(format!(
            "want {want:?}, got doc_id {:?}, error {:?}, warning {:?}",
            doc.doc_id, doc.error, doc.warning
        ))
    }
}

#[test]
fn bad_input_matrix() {
    let mut failures = Vec::new();
    for (case, make, outcome) in rows() {
        let dir = tempfile::tempdir().expect("tmp");
        let spec = make(dir.path());
        let got = Corpus::open(&spec).map(|c| c.collect::<Vec<RawDoc>>());
        let problem = match (&outcome, got) {
            (Fatal(want), Err(e)) if e.to_string().contains(want) => None,
            (Fatal(want), Err(e)) => Some(format!("want fatal {want:?}, got fatal {e}")),
            (Fatal(want), Ok(docs)) => Some(format!("want fatal {want:?}, got {docs:?}")),
            (Docs(_), Err(e)) => Some(format!("want documents, got fatal {e}")),
            (Docs(want), Ok(docs)) if docs.len() != want.len() => Some(format!(
                "want {} documents, got {}: {:?}",
                want.len(),
                docs.len(),
                docs.iter()
                    .map(|d| (&d.doc_id, &d.error, &d.warning))
                    .collect::<Vec<_>>()
            )),
            (Docs(want), Ok(docs)) => docs
                .iter()
                .zip(want.iter())
                .enumerate()
                .find_map(|(i, (d, w))| check(d, w).err().map(|e| format!("document {i}: {e}"))),
        };
        if let Some(p) = problem {
            failures.push(format!("{case}: {p}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}
