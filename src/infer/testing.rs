//! A tiny random BERT with both heads, for tests and plumbing (not for results).
//!
//! Compiled only for the crate's own tests and with the cargo feature `testing` (which the
//! developer install, `make install`, turns on for the Python tests).
use std::path::Path;

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use tch::{nn, Device};

use super::casing::{CASING_CLASSES, CASING_VERSION};
use crate::error::{Error, Result};

/// Write a random multi-task model (2 layers, hidden 32) into `dir`, using the given
/// vocabulary file (e.g. the base encoder's `vocab.txt`), or a small built-in one. It takes
/// no casing classes (two token types, as a plain BERT).
pub fn write_random_model(dir: &Path, vocab: Option<&Path>, seed: i64) -> Result<()> {
    write_random_model_with(dir, vocab, seed, false)
}

/// [`write_random_model`], with `casing`: a model that takes casing classes as token-type
/// ids (`"presslens_casing"` in its config, one token type per class).
pub fn write_random_model_with(
    dir: &Path,
    vocab: Option<&Path>,
    seed: i64,
    casing: bool,
) -> Result<()> {
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
            "sentiment": {"kind": "sequence", "weights": "sentiment_classifier", "id2label": id2(&["NEGATIVE", "POSITIVE"])},
            "ner": {"kind": "token", "weights": "ner_classifier", "id2label": id2(&ner_labels)}
        }
    });
    if casing {
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
    let _s = nn::linear(&root / "sentiment_classifier", 32, 2, Default::default());
    let _n = nn::linear(
        &root / "ner_classifier",
        32,
        ner_labels.len() as i64,
        Default::default(),
    );
    vs.save(dir.join("model.safetensors"))?;
    Ok(())
}
