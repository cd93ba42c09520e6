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
    /// Windows per encoder batch; `None`: [`CPU_BATCH_SIZE`] on CPU, [`CUDA_BATCH_SIZE`] on
    /// CUDA.
    pub batch_size: Option<usize>,
    /// Longest window in tokens (special tokens included); longer sentences are split
    /// into overlapping windows.
    pub max_window: usize,
    /// CPU threads (cleaning, splitting and encoder streams); `None`: all cores.
    pub threads: Option<usize>,
    /// Arithmetic of the encoder; `auto`: int8 on CPU, fp32 on CUDA.
    pub precision: Precision,
    /// When both tasks use the same multi-task model, encode each sentence once for both
    /// heads (on by default; off only to measure the gain).
    pub share_encoder: bool,
    /// On CPU, encode batches in parallel streams, one per thread, each with one libtorch
    /// thread (on by default); off: one batch at a time over libtorch's intra-op threads,
    /// as presslens did before streams (only to measure the gain).
    pub encoder_streams: bool,
}

/// Windows per batch on CPU: small batches keep the activations in cache between the
/// encoder's operations. Measured with `presslens bench` (2 cores, seeds ×8): int8 runs
/// 745/695 sentences/s at 4, 664/681 at 8, 629 at 16, 540–564 at 32; fp32 is flat from 4 to
/// 32 (320–365); 1 and 2 are slower.
pub const CPU_BATCH_SIZE: usize = 8;
/// Windows per batch on CUDA: a GPU needs large batches to be busy.
pub const CUDA_BATCH_SIZE: usize = 32;

impl InferOptions {
    /// Windows per batch on `device`: the option, else the device's default.
    pub fn batch_size_on(&self, device: Device) -> usize {
        self.batch_size.unwrap_or(if device == Device::Cpu {
            CPU_BATCH_SIZE
        } else {
            CUDA_BATCH_SIZE
        })
    }

    /// Check value ranges.
    pub fn validate(&self) -> Result<()> {
        for (option, v) in [("batch_size", self.batch_size), ("threads", self.threads)] {
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
            batch_size: None,
            max_window: 256,
            threads: None,
            precision: Precision::Auto,
            share_encoder: true,
            encoder_streams: true,
        }
    }
}

/// Arithmetic of the encoder's matrix products.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// int8 on CPU, fp32 on CUDA.
    #[default]
    Auto,
    /// int8 weights and fbgemm matrix products (CPU only), quantised when the model loads.
    Int8,
    /// The weights as loaded, in float32.
    Fp32,
}

impl Precision {
    /// The precision used on `device`: `auto` resolved; int8 on CUDA is an error.
    pub fn resolve(self, device: Device) -> Result<Precision> {
        match (self, device) {
            (Precision::Auto, Device::Cpu) => Ok(Precision::Int8),
            (Precision::Auto, _) => Ok(Precision::Fp32),
            (Precision::Int8, Device::Cpu) | (Precision::Fp32, _) => Ok(self),
            (Precision::Int8, _) => Err(Error::option(
                "precision",
                "int8 runs on CPU only (fbgemm); use fp32 on CUDA",
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Precision::Auto => "auto",
            Precision::Int8 => "int8",
            Precision::Fp32 => "fp32",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_precision_is_int8_on_cpu_and_fp32_on_cuda() {
        assert_eq!(
            Precision::Auto.resolve(Device::Cpu).ok(),
            Some(Precision::Int8)
        );
        assert_eq!(
            Precision::Auto.resolve(Device::Cuda(0)).ok(),
            Some(Precision::Fp32)
        );
        assert_eq!(
            Precision::Fp32.resolve(Device::Cpu).ok(),
            Some(Precision::Fp32)
        );
        let err = Precision::Int8
            .resolve(Device::Cuda(0))
            .expect_err("int8 on cuda");
        assert!(err.to_string().contains("CPU only"), "{err}");
    }
}
