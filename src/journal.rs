//! What a run folder has committed, and what its results mean: `_journal.json`.
//!
//! A run writes its tables chunk by chunk as part files; after each chunk's parts are in
//! place, the journal records the chunk (its part number, its documents and a digest of
//! the raw documents it read). The journal also holds the run's fingerprint: the options
//! and the models (with a digest of their files). A later command on the same folder reads
//! it to resume (skip the committed chunks after checking that the input still holds the
//! same documents), to append (analyse only new document ids), or to refuse with what
//! differs.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::infer::{default_model_dir, ModelSpec};
use crate::ingest::{InputSpec, RawDoc};
use crate::options::PipelineOptions;

/// File name of the journal in a run folder.
pub const JOURNAL: &str = "_journal.json";

/// What the results of a run folder depend on, besides its input.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Fingerprint {
    /// The options, as the manifest records them, without those that cannot change
    /// results (`threads`, `chunk_size`).
    pub options: BTreeMap<String, serde_json::Value>,
    /// Per task: the model's spelling and a digest of its files.
    pub models: BTreeMap<String, String>,
}

impl Fingerprint {
    pub fn new(opts: &PipelineOptions) -> Result<Self> {
        let mut options: BTreeMap<String, serde_json::Value> =
            match serde_json::to_value(opts).map_err(Error::Manifest)? {
                serde_json::Value::Object(m) => m.into_iter().collect(),
                _ => BTreeMap::new(),
            };
        options.remove("threads");
        options.remove("chunk_size");
        let mut models = BTreeMap::new();
        for (task, spec) in [
            ("sentiment", &opts.infer.sentiment_model),
            ("ner", &opts.infer.ner_model),
        ] {
            if let Some(spec) = spec {
                models.insert(task.to_string(), model_identity(spec)?);
            }
        }
        Ok(Fingerprint { options, models })
    }

    /// Human-readable differences from `other` (the folder's), one per option or model.
    pub fn differences(&self, folder: &Fingerprint) -> Vec<String> {
        let mut out = Vec::new();
        let keys: std::collections::BTreeSet<&String> =
            self.options.keys().chain(folder.options.keys()).collect();
        for k in keys {
            let (now, then) = (self.options.get(k), folder.options.get(k));
            if now != then {
                out.push(format!(
                    "option {k}: {} now, {} in the folder",
                    show(now),
                    show(then)
                ));
            }
        }
        for task in ["sentiment", "ner"] {
            let (now, then) = (self.models.get(task), folder.models.get(task));
            if now != then {
                out.push(format!(
                    "{task} model: {} now, {} in the folder",
                    now.map_or("none", String::as_str),
                    then.map_or("none", String::as_str)
                ));
            }
        }
        out
    }
}

fn show(v: Option<&serde_json::Value>) -> String {
    v.map_or_else(|| "unset".to_string(), |v| v.to_string())
}

/// A model's spelling plus a digest of the files of its folder (config, vocabulary,
/// weights): a model retrained in place is a different model. Hub ids are taken as named.
fn model_identity(spec: &ModelSpec) -> Result<String> {
    let dir = match spec {
        ModelSpec::Default => default_model_dir(),
        ModelSpec::Local(p) => p.clone(),
        ModelSpec::Hub(_) => return Ok(spec.as_arg()),
    };
    let mut files: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect(),
        // A missing folder fails later, when the model loads, with a model error.
        Err(_) => return Ok(spec.as_arg()),
    };
    files.sort();
    let mut h = Sha256::new();
    for f in files {
        let bytes = std::fs::read(&f).map_err(|e| Error::io("cannot read", &f, e))?;
        h.update(
            f.file_name()
                .map_or_else(Vec::new, |n| n.as_encoded_bytes().to_vec()),
        );
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    let digest: String = h
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok(format!("{} (files {digest})", spec.as_arg()))
}

/// Digest of a chunk's raw documents (ids, texts, read errors), to check on resume that
/// the input still holds what was analysed.
pub fn chunk_digest(docs: &[RawDoc]) -> String {
    let mut h = Sha256::new();
    for d in docs {
        for part in [d.doc_id.as_str(), d.text.as_str()] {
            h.update((part.len() as u64).to_le_bytes());
            h.update(part.as_bytes());
        }
        h.update(d.error.as_deref().unwrap_or("").as_bytes());
        h.update([0]);
    }
    h.finalize()
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One committed chunk.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ChunkEntry {
    /// Number of its part files (`part-NNNNN.parquet` in every table folder).
    pub part: usize,
    pub documents: usize,
    pub sentences: usize,
    pub entities: usize,
    pub failed_documents: usize,
    /// [`chunk_digest`] of the raw documents it read.
    pub digest: String,
}

/// One command's pass over an input: the first run, or an `--append`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Session {
    pub input: InputSpec,
    pub append: bool,
    pub chunks: Vec<ChunkEntry>,
    /// Every document of the input was read and committed.
    pub complete: bool,
}

/// The journal of a run folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Journal {
    pub version: u32,
    pub fingerprint: Fingerprint,
    pub sessions: Vec<Session>,
}

impl Journal {
    pub fn new(fingerprint: Fingerprint) -> Self {
        Journal {
            version: 1,
            fingerprint,
            sessions: Vec::new(),
        }
    }

    /// Read the journal of `dir`, if it has one.
    pub fn read(dir: &Path) -> Result<Option<Self>> {
        let path = dir.join(JOURNAL);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|e| Error::Input {
                    path,
                    reason: format!("unreadable run journal ({e}); start over with --overwrite"),
                }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io("cannot read", path, e)),
        }
    }

    /// Write the journal atomically (temporary file, fsync, rename).
    pub fn write(&self, dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(Error::Manifest)?;
        crate::sink::write_atomic(&dir.join(JOURNAL), text.as_bytes())
    }

    /// The next free part number.
    pub fn next_part(&self) -> usize {
        self.sessions
            .iter()
            .flat_map(|s| s.chunks.iter().map(|c| c.part + 1))
            .max()
            .unwrap_or(0)
    }

    /// Every committed chunk, all sessions.
    pub fn chunks(&self) -> impl Iterator<Item = &ChunkEntry> {
        self.sessions.iter().flat_map(|s| s.chunks.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_name_what_differs_and_ignore_threads() {
        let a = PipelineOptions {
            chunk_size: 4,
            ..Default::default()
        };
        let mut b = PipelineOptions::default();
        b.infer.threads = Some(1);
        b.infer.ner_model = None;
        b.clean.keep_duplicate_lines = true;
        b.gazetteer = false;
        let (fa, fb) = (
            Fingerprint::new(&a).expect("a"),
            Fingerprint::new(&b).expect("b"),
        );
        let d = fb.differences(&fa);
        assert_eq!(d.len(), 4, "{d:?}");
        assert!(d
            .iter()
            .any(|x| x.starts_with("option gazetteer: false now, true in the folder")));
        assert!(d
            .iter()
            .any(|x| x.starts_with("option keep_duplicate_lines: true now")));
        assert!(d.iter().any(|x| x.starts_with("option ner_model")));
        assert!(d.iter().any(|x| x.starts_with("ner model: none now")));
        assert!(fa.differences(&Fingerprint::new(&a).expect("a")).is_empty());
    }

    #[test]
    fn digests_see_every_field() {
        let doc = |id: &str, text: &str| RawDoc {
            doc_id: id.into(),
            text: text.into(),
            ..Default::default()
        };
        let base = chunk_digest(&[doc("a", "x"), doc("b", "y")]);
        assert_ne!(base, chunk_digest(&[doc("a", "x"), doc("b", "z")]));
        assert_ne!(base, chunk_digest(&[doc("a", "xb"), doc("", "y")]));
        assert_eq!(base, chunk_digest(&[doc("a", "x"), doc("b", "y")]));
    }
}
