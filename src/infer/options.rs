//! What a user sets for the inference stage: [`InferOptions`] and the [`DeviceChoice`].

use serde::{Deserialize, Serialize};
use tch::Device;

use super::ModelSpec;
use crate::error::{Error, Result};

/// Options of the inference stage.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct InferOptions {
    /// Sentiment model; `None` skips the task.
    #[serde(with = "crate::options::model_arg")]
    pub sentiment_model: Option<ModelSpec>,
    /// NER model; `None` skips the task.
    #[serde(with = "crate::options::model_arg")]
    pub ner_model: Option<ModelSpec>,
    pub device: DeviceChoice,
    /// Windows per encoder batch.
    pub batch_size: usize,
    /// Longest window in tokens (special tokens included); longer sentences are split
    /// into overlapping windows.
    pub max_window: usize,
    /// libtorch intra-op threads; `None` keeps libtorch's default (all cores).
    pub threads: Option<usize>,
    /// When both tasks use the same multi-task model, encode each sentence once for both
    /// heads (on by default; off only to measure the gain).
    pub share_encoder: bool,
}

impl InferOptions {
    /// Check value ranges.
    pub fn validate(&self) -> Result<()> {
        for (option, v) in [
            ("batch_size", Some(self.batch_size)),
            ("threads", self.threads),
        ] {
            if v == Some(0) {
                return Err(Error::option(option, "must be at least 1"));
            }
        }
        if self.max_window < 8 {
            return Err(Error::option(
                "max_window",
                format!("must be at least 8 tokens, not {}", self.max_window),
            ));
        }
        Ok(())
    }
}

impl Default for InferOptions {
    fn default() -> Self {
        InferOptions {
            sentiment_model: Some(ModelSpec::Default),
            ner_model: Some(ModelSpec::Default),
            device: DeviceChoice::Cpu,
            batch_size: 32,
            max_window: 256,
            threads: None,
            share_encoder: true,
        }
    }
}

/// Compute device.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum DeviceChoice {
    #[default]
    Cpu,
    Cuda,
    /// CUDA when available, else CPU.
    Auto,
}

impl DeviceChoice {
    /// Resolve to a libtorch device; asking for CUDA where there is none is an error.
    pub fn resolve(self) -> Result<Device> {
        match self {
            DeviceChoice::Cpu => Ok(Device::Cpu),
            DeviceChoice::Auto => Ok(Device::cuda_if_available()),
            DeviceChoice::Cuda => {
                if tch::Cuda::is_available() {
                    Ok(Device::Cuda(0))
                } else {
                    Err(Error::Option {
                        option: "device".into(),
                        reason: "cuda requested but libtorch sees no CUDA device".into(),
                    })
                }
            }
        }
    }
}
