//! A tiny random BERT with its heads, for tests and plumbing (not for results).
//!
//! Compiled only for the crate's own tests and with the cargo feature `testing` (which the
//! developer install, `make install`, turns on for the Python tests).
use std::path::Path;

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use tch::{nn, Device, Tensor};

use super::casing::{CASING_CLASSES, CASING_VERSION};
use crate::error::{Error, Result};

/// What a random model has besides its encoder and NER head.
#[derive(Debug, Clone, PartialEq)]
pub struct RandomModel {
    /// Casing classes as token-type ids (`"presslens_casing"`, one token type per class).
    pub casing: bool,
    /// Labels of the sentence sentiment head: 2 (`NEGATIVE`, `POSITIVE`, SST-2 style) or 3
    /// (`NEGATIVE`, `NEUTRAL`, `POSITIVE`).
    pub sentiment_classes: usize,
    /// The target head's `pooling` (`None`: no target head).
    pub target_pooling: Option<Vec<String>>,
}

impl Default for RandomModel {
    /// As the default model: no casing classes, three sentiment classes, a target head
    /// on `cls` and `mean`.
    fn default() -> Self {
        RandomModel {
            casing: false,
            sentiment_classes: 3,
            target_pooling: Some(vec!["cls".into(), "mean".into()]),
        }
    }
}

/// Write a random multi-task model (2 layers, hidden 32) into `dir`, using the given
/// vocabulary file (e.g. the base encoder's `vocab.txt`), or a small built-in one: the
/// heads of [`RandomModel::default`] (three-class sentiment, NER, a target head). It takes
/// no casing classes (two token types, as a plain BERT).
pub fn write_random_model(dir: &Path, vocab: Option<&Path>, seed: i64) -> Result<()> {
    write_random_model_opts(dir, vocab, seed, &RandomModel::default())
}

/// [`write_random_model`], with `casing`: a model that takes casing classes as token-type
/// ids (`"presslens_casing"` in its config, one token type per class).
pub fn write_random_model_with(
    dir: &Path,
    vocab: Option<&Path>,
    seed: i64,
    casing: bool,
) -> Result<()> {
    let what = RandomModel {
        casing,
        ..RandomModel::default()
    };
    write_random_model_opts(dir, vocab, seed, &what)
}

/// [`write_random_model`] with the heads of `what`.
pub fn write_random_model_opts(
    dir: &Path,
    vocab: Option<&Path>,
    seed: i64,
    what: &RandomModel,
) -> Result<()> {
    let sentiment_labels: &[&str] = match what.sentiment_classes {
        2 => &["NEGATIVE", "POSITIVE"],
        3 => &["NEGATIVE", "NEUTRAL", "POSITIVE"],
        n => {
            return Err(Error::model(
                "random",
                format!("{n} sentiment classes (2 or 3)"),
            ))
        }
    };
    let target_labels = ["NEGATIVE", "NEUTRAL", "POSITIVE"];
    std::fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    let vocab_text = match vocab {
        Some(v) => std::fs::read_to_string(v).map_err(|e| Error::io("cannot read", v, e))?,
        None => {
            let mut v: Vec<String> = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
                .iter()
                .map(|s| s.to_string())
                .collect();
            v.extend(
                "abcdefghijklmnopqrstuvwxyz0123456789.,!?'\"-()"
                    .chars()
                    .map(|c| c.to_string()),
            );
            v.extend(
                "abcdefghijklmnopqrstuvwxyz"
                    .chars()
                    .map(|c| format!("##{c}")),
            );
            v.extend(
                [
                    "the", "tokyo", "moscow", "putin", "japan", "russia", "said", "is", "was",
                ]
                .map(String::from),
            );
            v.join("\n") + "\n"
        }
    };
    let vocab_size = vocab_text.lines().count();
    std::fs::write(dir.join("vocab.txt"), &vocab_text)
        .map_err(|e| Error::io("cannot write", dir, e))?;
    let ner_labels = [
        "O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC",
    ];
    let id2 = |ls: &[&str]| -> serde_json::Value {
        ls.iter()
            .enumerate()
            .map(|(i, l)| (i.to_string(), serde_json::Value::from(*l)))
            .collect()
    };
    let mut cfg = serde_json::json!({
        "model_type": "bert", "architectures": ["PresslensMultiTask"],
        "hidden_act": "gelu", "attention_probs_dropout_prob": 0.1, "hidden_dropout_prob": 0.1,
        "hidden_size": 32, "initializer_range": 0.02, "intermediate_size": 64,
        "max_position_embeddings": 128, "num_attention_heads": 2, "num_hidden_layers": 2,
        "type_vocab_size": 2, "vocab_size": vocab_size, "do_lower_case": true,
        "presslens_heads": {
            "sentiment": {"kind": "sequence", "weights": "sentiment_classifier", "id2label": id2(sentiment_labels)},
            "ner": {"kind": "token", "weights": "ner_classifier", "id2label": id2(&ner_labels)}
        }
    });
    if let Some(pooling) = &what.target_pooling {
        cfg["presslens_heads"]["target"] = serde_json::json!({
            "kind": "span", "weights": "target_classifier", "pooling": pooling,
            "id2label": id2(&target_labels),
        });
    }
    if what.casing {
        cfg["type_vocab_size"] = serde_json::Value::from(CASING_CLASSES.len());
        cfg["presslens_casing"] =
            serde_json::json!({"version": CASING_VERSION, "classes": CASING_CLASSES});
    }
    std::fs::write(
        dir.join("config.json"),
        serde_json::to_string_pretty(&cfg).unwrap_or_default(),
    )
    .map_err(|e| Error::io("cannot write", dir, e))?;
    tch::manual_seed(seed);
    let bert_cfg: BertConfig =
        serde_json::from_value(cfg).map_err(|e| Error::model("random", e))?;
    let vs = nn::VarStore::new(Device::Cpu);
    let root = vs.root();
    let _bert =
        BertModel::<BertEmbeddings>::new_with_optional_pooler(&root / "bert", &bert_cfg, true);
    // The heads in the order and shapes of the first random models (a two-label sentiment
    // head, then NER), so that a seed gives the NER weights it always gave; a three-label
    // head is the two-label one with a neutral row added between its rows.
    let _s = nn::linear(&root / "sentiment_classifier", 32, 2, Default::default());
    let _n = nn::linear(
        &root / "ner_classifier",
        32,
        ner_labels.len() as i64,
        Default::default(),
    );
    if let Some(pooling) = &what.target_pooling {
        let _t = nn::linear(
            &root / "target_classifier",
            32 * pooling.len() as i64,
            target_labels.len() as i64,
            Default::default(),
        );
    }
    let neutral = (sentiment_labels.len() == 3)
        .then(|| nn::linear(&root / "neutral", 32, 1, Default::default()));
    let mut named: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(name, _)| !name.starts_with("neutral."))
        .collect();
    if let Some(neutral) = neutral {
        for (name, t) in named.iter_mut() {
            let row = match name.as_str() {
                "sentiment_classifier.weight" => &neutral.ws,
                "sentiment_classifier.bias" => match &neutral.bs {
                    Some(b) => b,
                    None => continue,
                },
                _ => continue,
            };
            *t = Tensor::f_cat(
                &[
                    t.f_narrow(0, 0, 1)?,
                    row.shallow_clone(),
                    t.f_narrow(0, 1, 1)?,
                ],
                0,
            )?;
        }
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    Tensor::write_safetensors(&named, dir.join("model.safetensors"))?;
    Ok(())
}
