//! Stage 4 — infer: transformer sentiment and NER per sentence.
//!
//! A model is a BERT-family encoder plus one or two linear heads, read from a folder in
//! Hugging Face layout (`config.json`, `tokenizer.json` or `vocab.txt`, weights as
//! `model.safetensors` or rust-bert `rust_model.ot`), from a Hugging Face hub id
//! (downloaded and cached through rust-bert's `RemoteResource`), or the embedded default.
//!
//! Supported layouts:
//! - `BertForSequenceClassification` (head `classifier` on the pooled output): sentiment;
//! - `BertForTokenClassification` (head `classifier` on every token): NER;
//! - presslens multi-task (`"presslens_heads"` in config.json): one encoder, both heads,
//!   so each sentence is encoded once for both tasks; optionally a target head (kind
//!   `span`) that gives the sentiment toward each entity mention from the same encoder
//!   pass (see `encode::mention_input`). Sentence sentiment heads have 2 labels (SST-2
//!   style) or 3 (negative, neutral, positive).
//!
//! Speed: sentences are tokenised in parallel, cut into windows when longer than the
//! model's window (never silently truncated), sorted by length and batched so that padding
//! stays small, and encoded under `no_grad`.
//!
//! Layout: `spec` (where a model comes from), `options` ([`InferOptions`], [`DeviceChoice`]),
//! `model` (loading files, heads, tokenizer and weights; the model cache), `encode`
//! (tokenising, windowing, batching, running the encoder and heads), `sentiment` and `ner`
//! (turning head outputs into labels and entities), `analyzer` ([`Analyzer`], the entry),
//! `testing` (a tiny random model for tests; only with `cfg(test)` or the cargo feature
//! `testing`); this file holds the output types.

mod analyzer;
mod casing;
mod encode;
mod int8;
mod model;
mod ner;
mod options;
mod sentiment;
mod spec;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

use serde::Serialize;

pub use analyzer::Analyzer;
pub use model::{load_cached, HeadSpec, LoadedModel, ModelInfo, Task};
pub use options::{DeviceChoice, InferOptions, Precision};
pub use spec::{default_model_dir, ModelSpec, DEFAULT_MODEL_ENV, DEFAULT_MODEL_NAME};

/// Sentiment of one sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sentiment {
    /// Normalised label: `positive`, `negative`, `neutral` when recognisable, else the model's.
    pub label: String,
    /// Probability of that label.
    pub score: f32,
    /// P(positive) − P(negative), in [-1, 1].
    pub polarity: f32,
}

/// One entity found in a sentence; offsets are in characters relative to the sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    pub start: usize,
    pub end: usize,
    pub label: String,
    pub score: f32,
    /// The sentiment toward this mention, from the NER model's target head (`None` when the
    /// target head did not run: no such head, sentiment from another model, or sentiment
    /// off; see [`Analyzer::mention_sentiment`]).
    pub sentiment: Option<Sentiment>,
}

/// Everything inferred for one sentence.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SentenceOutput {
    pub sentiment: Option<Sentiment>,
    pub entities: Vec<Entity>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn tiny() -> (tempfile::TempDir, ModelSpec) {
        let dir = tempfile::tempdir().expect("tmp");
        testing::write_random_model(dir.path(), None, 7).expect("write model");
        let spec = ModelSpec::Local(dir.path().to_path_buf());
        (dir, spec)
    }
}
