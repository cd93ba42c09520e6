//! presslens — batch NLP for news corpora.
//!
//! Data flows one way through one module per stage:
//! [`ingest`] → [`clean`] → [`segment`] → [`infer`] → [`link`] → [`sink`], driven chunk
//! by chunk by [`pipeline`]. [`cli`] is the command line; `python` (feature `python`) is the thin
//! pyo3 layer that only converts types and maps errors.

pub mod clean;
pub mod cli;
pub mod error;
pub mod infer;
pub mod ingest;
pub mod link;
pub mod pipeline;
pub mod segment;
pub mod sink;

#[cfg(feature = "python")]
mod python;

pub use error::{Error, Result};
pub use infer::{Analyzer, DeviceChoice, InferOptions, ModelSpec};
pub use ingest::{Corpus, Format, InputSpec};
pub use pipeline::{CleanOptions, Pipeline, PipelineOptions, RunSummary};
