//! The library's error type. Every fallible public function returns [`Result`].
//!
//! Errors that concern one document never surface here: they are recorded in that
//! document's `error` column so that a run never loses the other documents' results.
//! What reaches this type is fatal for a run or a call (missing input path, bad model,
//! unwritable output directory...).

use std::path::PathBuf;

/// Result alias used across presslens.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Fatal errors of the presslens pipeline.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or directory could not be read (input corpus, alias table, rules file...).
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The output folder or one of its files could not be created or written.
    #[error("{action} {path}: {source}")]
    Output {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The input corpus cannot be read at all (missing path, missing text column...).
    #[error("input {path}: {reason}")]
    Input { path: PathBuf, reason: String },
    /// A model could not be found, downloaded or loaded.
    #[error("model {model}: {reason}")]
    Model { model: String, reason: String },
    /// Inference failed inside libtorch.
    #[error("inference failed: {0}")]
    Inference(String),
    /// Writing or reading a table failed.
    #[error("table {table}: {source}")]
    Table {
        table: String,
        #[source]
        source: polars::error::PolarsError,
    },
    /// A user-supplied cleaning rule is invalid.
    #[error(transparent)]
    Clean(#[from] crate::clean::CleanError),
    /// An option has an invalid value.
    #[error("invalid option {option}: {reason}")]
    Option { option: String, reason: String },
    /// The run manifest could not be serialised.
    #[error("cannot serialise the run manifest: {0}")]
    Manifest(#[source] serde_json::Error),
    /// The run was interrupted (SIGINT / Ctrl-C) at a chunk boundary.
    #[error("interrupted")]
    Interrupted,
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn output(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Output {
            action,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn option(option: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::Option {
            option: option.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn model(model: impl std::fmt::Display, reason: impl std::fmt::Display) -> Self {
        Error::Model {
            model: model.to_string(),
            reason: reason.to_string(),
        }
    }
}

impl From<tch::TchError> for Error {
    fn from(e: tch::TchError) -> Self {
        Error::Inference(e.to_string())
    }
}
