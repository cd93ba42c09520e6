//! Folders of `.txt` / `.md` files (read recursively, in file-name order) and single
//! text files: one document per file, its id the path relative to the folder.
//!
//! A folder entry that cannot be read is one failed document, never a fatal error: a
//! dangling symbolic link, a link loop, a subfolder that cannot be listed. Symbolic links
//! are followed when their target stays inside the input folder; one that leads outside is
//! a failed document unless [`InputSpec::follow_links`] is set.

use std::fs::File;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

use super::{decode_text, InputSpec, RawDoc};
use crate::error::{Error, Result};

/// One entry of a folder: a file to read, or a problem reported as a failed document.
#[derive(Debug)]
enum Entry {
    File(PathBuf),
    Problem(PathBuf, String),
}

/// The documents of a folder (or of one text file), read one file at a time.
pub(crate) struct TextDocs {
    root: PathBuf,
    entries: std::vec::IntoIter<Entry>,
}

impl TextDocs {
    pub(crate) fn open(spec: &InputSpec) -> Result<Self> {
        let (root, entries) = if spec.path.is_file() {
            let parent = spec.path.parent().map(Path::to_path_buf);
            (
                parent.unwrap_or_default(),
                vec![Entry::File(spec.path.clone())],
            )
        } else {
            (
                spec.path.clone(),
                list_folder(&spec.path, spec.follow_links)?,
            )
        };
        Ok(TextDocs {
            root,
            entries: entries.into_iter(),
        })
    }

    /// Number of documents left.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

impl Iterator for TextDocs {
    type Item = RawDoc;
    fn next(&mut self) -> Option<RawDoc> {
        Some(match self.entries.next()? {
            Entry::File(p) => read_text_file(&self.root, &p),
            Entry::Problem(p, error) => RawDoc::failed(
                doc_id(&self.root, &p, false),
                p.to_string_lossy().into(),
                error,
            ),
        })
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

fn is_hidden(p: &Path) -> bool {
    p.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.'))
}

/// The id of a folder entry: its path relative to the folder, `/`-separated, without the
/// extension of a file read (or named like one).
fn doc_id(root: &Path, path: &Path, is_file: bool) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let rel = if is_file || is_text_file(rel) {
        rel.with_extension("")
    } else {
        rel.to_path_buf()
    };
    rel.to_string_lossy()
        .replace(std::path::MAIN_SEPARATOR, "/")
}

/// The text files of a folder, recursively, in file-name order, and the entries that
/// could not be read. Only a folder that cannot be listed at all is fatal.
fn list_folder(root: &Path, follow_links: bool) -> Result<Vec<Entry>> {
    // Links are followed when their target stays inside the (resolved) input folder.
    let inside = if follow_links {
        None
    } else {
        Some(
            root.canonicalize()
                .map_err(|e| Error::io("cannot open", root, e))?,
        )
    };
    let mut entries = Vec::new();
    let mut walk = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(next) = walk.next() {
        let entry = match next {
            Ok(entry) => entry,
            Err(e) => {
                let path = e.path().unwrap_or(root).to_path_buf();
                if path == root {
                    return Err(Error::Input {
                        path,
                        reason: format!("cannot list folder: {e}"),
                    });
                }
                let problem = walk_problem(&path, e.loop_ancestor().is_some(), e.io_error());
                if let Some(problem) = problem.filter(|_| !is_hidden(&path)) {
                    entries.push(Entry::Problem(path, problem));
                }
                continue;
            }
        };
        let hidden = entry.depth() > 0 && is_hidden(entry.path());
        if let (true, Some(inside)) = (entry.path_is_symlink(), &inside) {
            let outside = match entry.path().canonicalize() {
                Ok(target) => !target.starts_with(inside),
                Err(_) => true,
            };
            if outside {
                let is_dir = entry.file_type().is_dir();
                if is_dir {
                    walk.skip_current_dir();
                }
                if !hidden && (is_dir || is_text_file(entry.path())) {
                    let what = if is_dir { "folder" } else { "file" };
                    entries.push(Entry::Problem(
                        entry.into_path(),
                        format!(
                            "symbolic link to a {what} outside the input folder; pass \
                             --follow-links to read it"
                        ),
                    ));
                }
                continue;
            }
        }
        if hidden {
            continue;
        }
        if entry.file_type().is_file() && is_text_file(entry.path()) {
            entries.push(Entry::File(entry.into_path()));
        }
    }
    Ok(entries)
}

/// errno of "too many levels of symbolic links" (`ErrorKind::FilesystemLoop` is unstable).
#[cfg(target_os = "linux")]
const ELOOP: i32 = 40;
#[cfg(not(target_os = "linux"))]
const ELOOP: i32 = 62;

/// The error of a folder entry the walk could not read, or `None` when the entry would
/// not have been read anyway (a broken link named like a non-text file).
fn walk_problem(path: &Path, is_loop: bool, io: Option<&std::io::Error>) -> Option<String> {
    if is_loop {
        return Some("symbolic link loop".into());
    }
    let is_link = path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_symlink());
    let Some(io) = io else {
        return Some("cannot read folder entry".into());
    };
    if is_link {
        // A broken link is reported when it would have been read: a text file's name, or
        // no extension (it may have been a folder).
        if !is_text_file(path) && path.extension().is_some() {
            return None;
        }
        return Some(match io.kind() {
            ErrorKind::NotFound => "dangling symbolic link".into(),
            _ if io.raw_os_error() == Some(ELOOP) => "symbolic link loop".into(),
            _ => format!("cannot follow symbolic link: {io}"),
        });
    }
    if path.is_dir() {
        Some(format!("cannot list folder: {io}"))
    } else {
        Some(format!("cannot read folder entry: {io}"))
    }
}

fn read_text_file(root: &Path, path: &Path) -> RawDoc {
    let doc_id = doc_id(root, path, true);
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

    #[cfg(unix)]
    #[test]
    fn unreadable_subfolder_is_one_failed_document() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tmp");
        write(dir.path(), "a.txt", b"Kept.");
        let locked = dir.path().join("locked");
        write(&locked, "b.txt", b"Hidden by permissions.");
        let mode = |m| std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(m));
        mode(0o000).expect("chmod");
        // Tests often run as root, who lists a mode-000 folder all the same: the walk is
        // then checked only when the folder really is unreadable, and the message below
        // on the code path directly.
        let blocked = std::fs::read_dir(&locked).is_err();
        let docs: Vec<RawDoc> = Corpus::open(&spec(dir.path())).expect("open").collect();
        mode(0o755).expect("chmod back");
        if blocked {
            assert_eq!(docs.len(), 2, "{docs:?}");
            assert_eq!(docs[0].doc_id, "a");
            assert_eq!(docs[1].doc_id, "locked");
            assert!(docs[1]
                .error
                .as_deref()
                .is_some_and(|e| e.starts_with("cannot list folder: ")));
        }
        let denied = std::io::Error::from(ErrorKind::PermissionDenied);
        assert_eq!(
            walk_problem(&locked, false, Some(&denied)).as_deref(),
            Some("cannot list folder: permission denied")
        );
        assert_eq!(
            walk_problem(&locked, true, None).as_deref(),
            Some("symbolic link loop")
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_link_given_as_the_input_is_read() {
        // The input itself given as a link to a file is read: the user named it.
        let dir = tempfile::tempdir().expect("tmp");
        let target = write(dir.path(), "real/a.txt", b"Linked.");
        let p = dir.path().join("given.txt");
        std::os::unix::fs::symlink(&target, &p).expect("symlink");
        let docs: Vec<RawDoc> = Corpus::open(&spec(&p)).expect("open").collect();
        assert_eq!(docs[0].doc_id, "given");
        assert_eq!(docs[0].text, "Linked.");
    }
}
