//! Folders of `.txt` / `.md` files (read recursively, in file-name order) and single
//! text files: one document per file, its id the path relative to the folder.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::{decode_text, InputSpec, RawDoc};
use crate::error::{Error, Result};

/// The documents of a folder (or of one text file), read one file at a time.
pub(crate) struct TextDocs {
    root: PathBuf,
    files: std::vec::IntoIter<PathBuf>,
}

impl TextDocs {
    pub(crate) fn open(spec: &InputSpec) -> Result<Self> {
        let files = list_text_files(&spec.path)?;
        let root = if spec.path.is_dir() {
            spec.path.clone()
        } else {
            spec.path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default()
        };
        Ok(TextDocs {
            root,
            files: files.into_iter(),
        })
    }

    /// Number of documents left.
    pub(crate) fn len(&self) -> usize {
        self.files.len()
    }
}

impl Iterator for TextDocs {
    type Item = RawDoc;
    fn next(&mut self) -> Option<RawDoc> {
        let p = self.files.next()?;
        Some(read_text_file(&self.root, &p))
    }
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

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Corpus;
    use super::*;

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
}
