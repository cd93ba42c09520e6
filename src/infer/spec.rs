//! Where a model comes from: [`ModelSpec`] (the embedded default, a local folder or a
//! Hugging Face hub id) and the default model folder.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Environment variable naming the default model folder (set by the Python package).
pub const DEFAULT_MODEL_ENV: &str = "PRESSLENS_DEFAULT_MODEL";
/// Name of the embedded default model folder.
pub const DEFAULT_MODEL_NAME: &str = "news-minilm";

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "value")]
pub enum ModelSpec {
    /// The model shipped with presslens.
    Default,
    /// A local folder in Hugging Face layout.
    Local(PathBuf),
    /// A Hugging Face hub id such as `dslim/bert-base-NER` (needs a network the first time).
    Hub(String),
}

impl ModelSpec {
    /// Parse a user's model argument: `default`, a path to an existing folder,
    /// `hf:ORG/NAME`, or `ORG/NAME` when no such local folder exists.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("default") {
            return Ok(ModelSpec::Default);
        }
        if let Some(id) = s.strip_prefix("hf:") {
            return Ok(ModelSpec::Hub(id.to_string()));
        }
        let p = Path::new(s);
        if p.is_dir() {
            return Ok(ModelSpec::Local(p.to_path_buf()));
        }
        if p.exists() {
            return Err(Error::model(
                s,
                "is a file; a model is a folder with config.json and weights",
            ));
        }
        let looks_like_id = s.split('/').count() <= 2
            && !s.starts_with('.')
            && !s.starts_with('/')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
        if looks_like_id {
            Ok(ModelSpec::Hub(s.to_string()))
        } else {
            Err(Error::model(s, "no such model folder"))
        }
    }

    /// The spelling [`ModelSpec::parse`] reads back (`default`, a folder, `hf:ORG/NAME`).
    pub fn as_arg(&self) -> String {
        match self {
            ModelSpec::Default => "default".into(),
            ModelSpec::Local(p) => p.display().to_string(),
            ModelSpec::Hub(id) => format!("hf:{id}"),
        }
    }

    /// Human-readable description, used in the manifest and error messages.
    pub fn describe(&self) -> String {
        match self {
            ModelSpec::Default => format!("default ({})", default_model_dir().display()),
            ModelSpec::Local(p) => p.display().to_string(),
            ModelSpec::Hub(id) => format!("hf:{id}"),
        }
    }
}

impl std::fmt::Display for ModelSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Folder of the embedded default model: `$PRESSLENS_DEFAULT_MODEL`, else the copy in the
/// source tree (`python/presslens/models/news-minilm`).
pub fn default_model_dir() -> PathBuf {
    match std::env::var_os(DEFAULT_MODEL_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("python/presslens/models")
            .join(DEFAULT_MODEL_NAME),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_specs() {
        assert_eq!(ModelSpec::parse("default").expect("ok"), ModelSpec::Default);
        assert_eq!(
            ModelSpec::parse("dslim/bert-base-NER").expect("ok"),
            ModelSpec::Hub("dslim/bert-base-NER".into())
        );
        assert_eq!(
            ModelSpec::parse("hf:x/y").expect("ok"),
            ModelSpec::Hub("x/y".into())
        );
        let d = tempfile::tempdir().expect("tmp");
        let s = d.path().to_string_lossy().to_string();
        assert_eq!(
            ModelSpec::parse(&s).expect("ok"),
            ModelSpec::Local(d.path().to_path_buf())
        );
        assert!(ModelSpec::parse("/no/such/model/dir").is_err());
    }
}
