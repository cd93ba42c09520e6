//! What a run records about itself: `manifest.json` in a run folder, and the manifest that
//! `analyze` returns for an in-memory analysis.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::infer::ModelInfo;
use crate::ingest::InputSpec;
use crate::options::PipelineOptions;
use crate::sink::DocError;
use crate::tables::TABLES;

/// Seconds spent per stage.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Timings {
    pub ingest: f64,
    pub clean: f64,
    pub segment: f64,
    pub infer: f64,
    /// Corpus-wide entity linking, analysis tables and the final table files.
    pub link: f64,
    pub write: f64,
    pub total: f64,
}

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Counts {
    pub documents: usize,
    pub failed_documents: usize,
    pub sentences: usize,
    pub entities: usize,
}

/// Progress report after each chunk.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub documents_done: usize,
    pub documents_total: Option<usize>,
    pub sentences_done: usize,
    /// Documents skipped: committed by an interrupted run being resumed, or already in
    /// the folder (append).
    pub documents_skipped: usize,
}

/// The manifest of a run or an in-memory analysis.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub presslens_version: String,
    pub created_unix: u64,
    /// The input read (`None` for texts analysed in memory).
    pub input: Option<InputSpec>,
    pub options: PipelineOptions,
    pub models: HashMap<String, ModelInfo>,
    /// Where the sentiment of the `entities` table comes from: `target` (the NER model's
    /// target head: the sentiment toward each mention), `sentence` (the mention's
    /// sentence's: no target head, or a separate sentiment model), `None` (no sentiment or
    /// no NER).
    #[serde(default)]
    pub mention_sentiment: Option<String>,
    /// Per table: its part files in the run folder (a glob) and its number of rows.
    pub tables: BTreeMap<String, TableEntry>,
    pub counts: Counts,
    #[serde(rename = "timings_s")]
    pub timings: Timings,
    pub errors: Vec<DocError>,
}

/// A table in the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TableEntry {
    /// Glob of its part files, relative to the run folder (`sentences/*.parquet`).
    pub files: String,
    pub rows: usize,
}

impl Manifest {
    /// `rows`: the rows of each table (see [`TABLES`]).
    pub fn new(
        rows: &[(&str, usize)],
        input: Option<InputSpec>,
        options: PipelineOptions,
        models: HashMap<String, ModelInfo>,
        counts: Counts,
        timings: Timings,
        errors: Vec<DocError>,
    ) -> Self {
        let created_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        Manifest {
            presslens_version: env!("CARGO_PKG_VERSION").to_string(),
            created_unix,
            input,
            options,
            models,
            mention_sentiment: None,
            tables: TABLES
                .iter()
                .map(|t| {
                    let rows = rows.iter().find(|r| r.0 == *t).map_or(0, |r| r.1);
                    let files = format!("{t}/*.parquet");
                    (t.to_string(), TableEntry { files, rows })
                })
                .collect(),
            counts,
            timings,
            errors,
        }
    }
}
