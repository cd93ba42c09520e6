//! The options of a run — the one definition every front end converts into.
//!
//! [`PipelineOptions`] (cleaning, splitting, inference, linking, chunking) and
//! [`InputSpec`](crate::ingest::InputSpec) (where and how to read the corpus) are the single
//! source of truth. The CLI (`cli.rs`) maps its clap arguments onto them; Python passes its
//! keyword arguments as one JSON object that [`from_json`] turns into the same types, so the
//! names, defaults and checks below hold for both. Serialised, they are what `manifest.json`
//! records under `options` and `input`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::clean::CleanRules;
use crate::error::{Error, Result};
use crate::infer::{InferOptions, ModelSpec};

/// Cleaning options a user can set.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct CleanOptions {
    /// Extra regexes; a line matching one is dropped as boilerplate.
    #[serde(deserialize_with = "string_or_list")]
    pub drop_patterns: Vec<String>,
    /// A file of extra regexes, one per line.
    pub clean_rules: Option<PathBuf>,
    /// Keep lines repeating an earlier line of the same document (dropped by default).
    pub keep_duplicate_lines: bool,
}

impl CleanOptions {
    /// Build the cleaning rules.
    pub fn rules(&self) -> Result<CleanRules> {
        let rules = match &self.clean_rules {
            Some(p) => CleanRules::from_file(p)?,
            None => CleanRules::default(),
        };
        Ok(rules
            .with_drop_patterns(&self.drop_patterns)?
            .dedupe_lines(!self.keep_duplicate_lines))
    }
}

/// Options of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct PipelineOptions {
    #[serde(flatten)]
    pub clean: CleanOptions,
    #[serde(flatten)]
    pub infer: InferOptions,
    /// Extra abbreviations for the sentence splitter (without the final period).
    #[serde(deserialize_with = "string_or_list")]
    pub abbreviations: Vec<String>,
    /// Documents per chunk: bounds memory and sets the Parquet row-group size.
    pub chunk_size: usize,
    /// A user alias table (CSV or TOML) for entity linking.
    pub aliases: Option<PathBuf>,
    /// Link places and demonyms to the built-in gazetteer (ids, country codes,
    /// coordinates; see `link/gazetteer.rs`). Off: names stay as the corpus writes them.
    pub gazetteer: bool,
    /// Longest sentence in characters: a longer "sentence" (a list or a text without
    /// punctuation) is cut into pieces at whitespace, and the document gets a warning.
    pub max_sentence_chars: usize,
    /// Longest document in characters: a longer document is not analysed (per-document
    /// error), so one huge input cannot exhaust memory or time.
    pub max_document_chars: usize,
}

/// Default of [`PipelineOptions::max_sentence_chars`].
pub const MAX_SENTENCE_CHARS: usize = 2_000;
/// Default of [`PipelineOptions::max_document_chars`].
pub const MAX_DOCUMENT_CHARS: usize = 5_000_000;

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            clean: CleanOptions::default(),
            infer: InferOptions::default(),
            abbreviations: Vec::new(),
            chunk_size: 256,
            aliases: None,
            gazetteer: true,
            max_sentence_chars: MAX_SENTENCE_CHARS,
            max_document_chars: MAX_DOCUMENT_CHARS,
        }
    }
}

impl PipelineOptions {
    /// Check value ranges (types are checked when the options are built).
    pub fn validate(&self) -> Result<()> {
        if self.chunk_size == 0 {
            return Err(Error::option("chunk_size", "must be at least 1"));
        }
        if self.max_sentence_chars < 10 {
            return Err(Error::option("max_sentence_chars", "must be at least 10"));
        }
        if self.max_document_chars == 0 {
            return Err(Error::option("max_document_chars", "must be at least 1"));
        }
        self.infer.validate()
    }
}

/// The names an options type accepts: the keys of its serialised default.
pub fn option_names<T: Serialize + Default>() -> Vec<String> {
    match serde_json::to_value(T::default()) {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Build an options type from a JSON object of user values (Python keyword arguments).
/// Absent keys and `null` take the default; unknown keys and wrong types are refused with
/// the option's name.
pub fn from_json<T: DeserializeOwned + Serialize + Default>(json: &str) -> Result<T> {
    let value: serde_json::Value =
        serde_json::from_str(json).map_err(|e| Error::option("options", e.to_string()))?;
    let serde_json::Value::Object(mut map) = value else {
        return Err(Error::option("options", "expected a JSON object"));
    };
    map.retain(|_, v| !v.is_null());
    let known: BTreeSet<String> = option_names::<T>().into_iter().collect();
    if let Some(unknown) = map.keys().find(|k| !known.contains(*k)) {
        let valid: Vec<&str> = known.iter().map(String::as_str).collect();
        return Err(Error::option(
            "options",
            format!(
                "unknown option '{unknown}'; valid options are {}",
                valid.join(", ")
            ),
        ));
    }
    // Each option alone first, so that an error names the option it is about (serde
    // reports no path through flattened structs).
    for (key, value) in &map {
        let one = serde_json::Value::Object([(key.clone(), value.clone())].into_iter().collect());
        if let Err(e) = serde_json::from_value::<T>(one) {
            return Err(Error::option(key.clone(), e.to_string()));
        }
    }
    serde_json::from_value(serde_json::Value::Object(map))
        .map_err(|e| Error::option("options", e.to_string()))
}

/// A list option that also accepts one string (`keep_cols="outlet"`).
pub(crate) fn string_or_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    OneOrMany::deserialize(d).map(|v| match v {
        OneOrMany::One(s) => vec![s],
        OneOrMany::Many(v) => v,
    })
}

/// A model option as users write it: `default`, `none`, a folder, `hf:ORG/NAME` or
/// `ORG/NAME`. `None` skips the task.
pub fn parse_model(s: &str) -> Result<Option<ModelSpec>> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Error::option(
            "model",
            "empty model name: use 'default', 'none' (skip the task), a folder or a hub id",
        ));
    }
    if matches!(t.to_ascii_lowercase().as_str(), "none" | "off") {
        return Ok(None);
    }
    ModelSpec::parse(t).map(Some)
}

/// Serde for a model option: the user's spelling in, the same spelling out.
pub(crate) mod model_arg {
    use super::*;

    pub fn serialize<S: Serializer>(m: &Option<ModelSpec>, s: S) -> Result<S::Ok, S::Error> {
        match m {
            None => s.serialize_str("none"),
            Some(m) => s.serialize_str(&m.as_arg()),
        }
    }

    /// A name that [`ModelSpec::parse`] refuses (a missing folder, a file) is kept as a
    /// folder, so that loading it reports the problem as a model error.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ModelSpec>, D::Error> {
        let s = String::deserialize(d)?;
        match parse_model(&s) {
            Err(Error::Model { .. }) => Ok(Some(ModelSpec::Local(PathBuf::from(s.trim())))),
            other => other.map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::InputSpec;

    #[test]
    fn json_options_take_defaults_and_name_bad_values() {
        let o: PipelineOptions =
            from_json(r#"{"batch_size": 8, "threads": null, "ner_model": "none"}"#).expect("ok");
        assert_eq!(o.infer.batch_size, Some(8));
        assert_eq!(o.infer.ner_model, None);
        assert_eq!(o.infer.sentiment_model, Some(ModelSpec::Default));
        assert_eq!(o.chunk_size, PipelineOptions::default().chunk_size);

        let e = from_json::<PipelineOptions>(r#"{"chunk_size": -1}"#).expect_err("negative");
        assert!(e.to_string().contains("chunk_size"), "{e}");
        let e = from_json::<PipelineOptions>(r#"{"bacth_size": 3}"#).expect_err("typo");
        assert!(e.to_string().contains("unknown option 'bacth_size'"), "{e}");
        let e = from_json::<PipelineOptions>(r#"{"sentiment_model": ""}"#).expect_err("empty");
        assert!(e.to_string().contains("empty model name"), "{e}");
    }

    #[test]
    fn a_string_is_a_one_item_list() {
        let o: PipelineOptions = from_json(r#"{"drop_patterns": "^Ads$"}"#).expect("ok");
        assert_eq!(o.clean.drop_patterns, ["^Ads$"]);
        let i: InputSpec = from_json(r#"{"keep_cols": "outlet"}"#).expect("ok");
        assert_eq!(i.keep_cols, ["outlet"]);
    }

    #[test]
    fn options_round_trip_through_their_manifest_form() {
        let mut o = PipelineOptions {
            abbreviations: vec!["Gen".into()],
            ..Default::default()
        };
        o.infer.ner_model = None;
        o.clean.keep_duplicate_lines = true;
        o.gazetteer = false;
        let json = serde_json::to_string(&o).expect("ser");
        assert_eq!(from_json::<PipelineOptions>(&json).expect("de"), o);
    }

    #[test]
    fn ranges_are_checked() {
        let o = PipelineOptions {
            chunk_size: 0,
            ..Default::default()
        };
        assert!(o
            .validate()
            .expect_err("0")
            .to_string()
            .contains("chunk_size"));
        let mut o = PipelineOptions::default();
        o.infer.threads = Some(0);
        assert!(o.validate().expect_err("0").to_string().contains("threads"));
    }
}
