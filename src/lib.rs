//! presslens — batch NLP for news corpora.
//!
//! Data flows one way through one module per stage:
//! [`ingest`] → [`clean`] → [`segment`] → [`infer`] → [`link`] → [`sink`], driven chunk
//! by chunk by [`pipeline`]. [`options`] defines what a user can set, [`tables`] the output
//! tables, [`manifest`] what a run records. [`cli`] is the command line; `python` (feature
//! `python`) is the thin pyo3 layer that only converts types and maps errors.

pub mod clean;
pub mod cli;
#[cfg(feature = "python")]
mod cuda_link;
pub mod error;
pub mod infer;
pub mod ingest;
pub mod journal;
pub mod link;
pub mod manifest;
pub mod options;
pub mod pipeline;
pub mod segment;
pub mod sink;
pub mod tables;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
pub use infer::{Analyzer, DeviceChoice, InferOptions, ModelSpec};
pub use ingest::{Corpus, Format, InputSpec};
pub use manifest::Manifest;
pub use options::{CleanOptions, PipelineOptions};
pub use pipeline::{analyze, run, Pipeline};
pub use tables::Tables;
