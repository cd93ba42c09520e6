//! Loading a model: locating its files (local or hub), reading the heads `config.json`
//! declares, building the tokenizer, loading the weights into a [`LoadedModel`]; and the
//! per-process model cache.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use rust_bert::resources::{LocalResource, RemoteResource, ResourceProvider};
use serde::{Deserialize, Serialize};
use tch::{nn, Device, Tensor};
use tokenizers::Tokenizer;

use super::casing::{CasingSpec, CASING_CLASSES, CASING_VERSION};
use super::int8::{BertShape, Encoded, Int8Bert};
use super::options::Precision;
use super::spec::{default_model_dir, ModelSpec, DEFAULT_MODEL_ENV};
use crate::error::{Error, Result};

/// Which task a head serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Task {
    Sentiment,
    Ner,
    /// Target-dependent sentiment: the sentiment toward one entity mention (a `span` head).
    Target,
}

/// One part of a target head's input (`"pooling"` in its config), each `hidden` wide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pooling {
    /// The last hidden state at `[CLS]` (position 0; not the pooler).
    Cls,
    /// The mean of the last hidden states of the mention's word pieces.
    Mean,
    /// Their element-wise maximum.
    Max,
    /// The pooler output.
    Pooler,
}

impl Pooling {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "cls" => Some(Pooling::Cls),
            "mean" => Some(Pooling::Mean),
            "max" => Some(Pooling::Max),
            "pooler" => Some(Pooling::Pooler),
            _ => None,
        }
    }
}

/// The target (mention sentiment) head, kept as plain float32 numbers: it runs on a few
/// vectors per mention after the encoder, on the CPU.
#[derive(Debug, Clone)]
pub(super) struct TargetHead {
    pub(super) pooling: Vec<Pooling>,
    /// `[n_labels, pooling.len() * hidden]`, row-major.
    pub(super) weight: Vec<f32>,
    pub(super) bias: Vec<f32>,
    pub(super) hidden: usize,
}

impl TargetHead {
    /// Label probabilities for one input vector (`pooling.len() * hidden` values).
    pub(super) fn probs(&self, x: &[f32]) -> Vec<f32> {
        let n_in = x.len();
        let logits: Vec<f32> = self
            .bias
            .iter()
            .enumerate()
            .map(|(k, b)| {
                let row = &self.weight[k * n_in..(k + 1) * n_in];
                b + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>()
            })
            .collect();
        let top = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let exp: Vec<f32> = logits.iter().map(|l| (l - top).exp()).collect();
        let sum: f32 = exp.iter().sum();
        exp.iter().map(|e| e / sum).collect()
    }
}

/// A task head's weights: a linear layer on the pooled output (sentiment) or on every
/// token (NER).
#[derive(Debug)]
pub(super) struct Head {
    weight: Tensor,
    bias: Tensor,
}

impl Head {
    pub(super) fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.f_linear(&self.weight, Some(&self.bias))?)
    }

    fn share(&self) -> Head {
        Head {
            weight: self.weight.shallow_clone(),
            bias: self.bias.shallow_clone(),
        }
    }
}

/// What runs the encoder.
pub(super) enum Encoder {
    /// rust-bert's `BertModel` on the weights as loaded (float32 on CPU).
    Float {
        _vs: nn::VarStore,
        bert: Box<BertModel<BertEmbeddings>>,
    },
    /// The int8 encoder ([`Int8Bert`]).
    Int8(Int8Bert),
}

impl Encoder {
    /// Encode a batch (`[batch, len]` int64 ids, mask and token types).
    pub(super) fn forward(&self, ids: &Tensor, mask: &Tensor, types: &Tensor) -> Result<Encoded> {
        match self {
            Encoder::Float { bert, .. } => {
                let o = bert
                    .forward_t(
                        Some(ids),
                        Some(mask),
                        Some(types),
                        None,
                        None,
                        None,
                        None,
                        false,
                    )
                    .map_err(|e| Error::Inference(e.to_string()))?;
                let pooled = match o.pooled_output {
                    Some(p) => p,
                    None => o.hidden_state.f_select(1, 0)?,
                };
                Ok(Encoded {
                    hidden: o.hidden_state,
                    pooled,
                })
            }
            Encoder::Int8(m) => m.forward(ids, mask, types),
        }
    }
}

/// One encoder with its heads. A model holds one replica per encoder stream; replicas
/// share their weights' memory (tensors are shallow copies), each is used by one thread
/// at a time.
pub(super) struct Replica {
    pub(super) encoder: Encoder,
    pub(super) heads: HashMap<Task, Head>,
}

/// Files of a model, resolved to local paths.
#[derive(Debug, Clone)]
struct ModelFiles {
    config: PathBuf,
    tokenizer_json: Option<PathBuf>,
    vocab: Option<PathBuf>,
    tokenizer_config: Option<PathBuf>,
    weights: PathBuf,
}

const WEIGHT_FILES: [&str; 2] = ["model.safetensors", "rust_model.ot"];

/// Resolve one file of a model through rust-bert's resource providers: a `LocalResource`
/// for folders, a `RemoteResource` (download + cache) for hub ids. Returns `Ok(None)` when
/// the file does not exist there.
fn fetch(spec: &ModelSpec, dir: &Path, file: &str) -> Result<Option<PathBuf>> {
    match spec {
        ModelSpec::Default | ModelSpec::Local(_) => {
            let res = LocalResource {
                local_path: dir.join(file),
            };
            let p = res.get_local_path().map_err(|e| Error::model(spec, e))?;
            Ok(p.is_file().then_some(p))
        }
        ModelSpec::Hub(id) => {
            let url = format!("https://huggingface.co/{id}/resolve/main/{file}");
            let res = RemoteResource::from_pretrained((
                &format!("presslens/{id}/{file}") as &str,
                &url as &str,
            ));
            match res.get_local_path() {
                Ok(p) => Ok(Some(p)),
                Err(e) => {
                    let msg = e.to_string();
                    if msg.contains("404") || msg.contains("Not Found") {
                        Ok(None)
                    } else {
                        Err(Error::model(
                            spec,
                            format!("cannot download {file} ({msg}); without a network, pass a local folder"),
                        ))
                    }
                }
            }
        }
    }
}

fn locate_files(spec: &ModelSpec) -> Result<ModelFiles> {
    let dir = match spec {
        ModelSpec::Default => default_model_dir(),
        ModelSpec::Local(p) => p.clone(),
        ModelSpec::Hub(_) => PathBuf::new(),
    };
    if !matches!(spec, ModelSpec::Hub(_)) && !dir.is_dir() {
        let hint = if matches!(spec, ModelSpec::Default) {
            format!(
                "; the embedded model is missing (set {DEFAULT_MODEL_ENV} or pass a model folder)"
            )
        } else {
            String::new()
        };
        return Err(Error::model(
            spec,
            format!("folder {} not found{hint}", dir.display()),
        ));
    }
    let config = fetch(spec, &dir, "config.json")?
        .ok_or_else(|| Error::model(spec, "config.json not found"))?;
    let tokenizer_json = fetch(spec, &dir, "tokenizer.json")?;
    let vocab = if tokenizer_json.is_none() {
        fetch(spec, &dir, "vocab.txt")?
    } else {
        None
    };
    if tokenizer_json.is_none() && vocab.is_none() {
        return Err(Error::model(
            spec,
            "neither tokenizer.json nor vocab.txt found",
        ));
    }
    let tokenizer_config = fetch(spec, &dir, "tokenizer_config.json")?;
    let mut weights = None;
    for f in WEIGHT_FILES {
        if let Some(p) = fetch(spec, &dir, f)? {
            weights = Some(p);
            break;
        }
    }
    let weights = weights.ok_or_else(|| {
        Error::model(
            spec,
            format!("no weights found (looked for {})", WEIGHT_FILES.join(", ")),
        )
    })?;
    Ok(ModelFiles {
        config,
        tokenizer_json,
        vocab,
        tokenizer_config,
        weights,
    })
}

/// How a head is declared in `config.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeadSpec {
    /// `sequence` (one label per sentence, from the pooled output), `token` (one label per
    /// token) or `span` (one label per entity mention: the target head).
    pub kind: String,
    /// Variable prefix of the head's `weight`/`bias` in the weights file.
    pub weights: String,
    pub id2label: HashMap<String, String>,
    /// A `span` head's input, in order: `cls`, `mean`, `max`, `pooler` (see [`Pooling`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooling: Option<Vec<String>>,
}

fn labels_from(id2label: &HashMap<String, String>, spec: &ModelSpec) -> Result<Vec<String>> {
    let mut pairs: Vec<(usize, String)> = Vec::with_capacity(id2label.len());
    for (k, v) in id2label {
        let i: usize = k
            .parse()
            .map_err(|_| Error::model(spec, format!("id2label key '{k}' is not an integer")))?;
        pairs.push((i, v.clone()));
    }
    pairs.sort();
    if pairs.iter().enumerate().any(|(i, (k, _))| i != *k) || pairs.is_empty() {
        return Err(Error::model(spec, "id2label must map 0..N-1 to labels"));
    }
    Ok(pairs.into_iter().map(|(_, v)| v).collect())
}

/// Read the heads a config declares.
fn heads_from_config(cfg: &serde_json::Value, spec: &ModelSpec) -> Result<Vec<(Task, HeadSpec)>> {
    if let Some(heads) = cfg.get("presslens_heads") {
        let heads: HashMap<String, HeadSpec> = serde_json::from_value(heads.clone())
            .map_err(|e| Error::model(spec, format!("invalid presslens_heads: {e}")))?;
        let mut out = Vec::new();
        for (name, h) in heads {
            let task = match name.as_str() {
                "sentiment" => Task::Sentiment,
                "ner" => Task::Ner,
                "target" => Task::Target,
                _ => continue,
            };
            out.push((task, h));
        }
        return Ok(out);
    }
    let arch = cfg
        .get("architectures")
        .and_then(|a| a.get(0))
        .and_then(|a| a.as_str())
        .unwrap_or("");
    let id2label: HashMap<String, String> = cfg
        .get("id2label")
        .map(|v| serde_json::from_value(v.clone()))
        .transpose()
        .map_err(|e| Error::model(spec, format!("invalid id2label: {e}")))?
        .ok_or_else(|| Error::model(spec, "config.json has no id2label"))?;
    let (task, kind) = if arch.ends_with("ForSequenceClassification") {
        (Task::Sentiment, "sequence")
    } else if arch.ends_with("ForTokenClassification") {
        (Task::Ner, "token")
    } else {
        return Err(Error::model(
            spec,
            format!("architecture '{arch}' has no sentiment or NER head (expected *ForSequenceClassification, *ForTokenClassification or presslens_heads)"),
        ));
    };
    Ok(vec![(
        task,
        HeadSpec {
            kind: kind.into(),
            weights: "classifier".into(),
            id2label,
            pooling: None,
        },
    )])
}

fn load_tokenizer(
    files: &ModelFiles,
    cfg: &serde_json::Value,
    spec: &ModelSpec,
) -> Result<Tokenizer> {
    let bad = |e: tokenizers::Error| Error::model(spec, format!("tokenizer: {e}"));
    let mut tok = if let Some(p) = &files.tokenizer_json {
        Tokenizer::from_file(p).map_err(bad)?
    } else if let Some(vocab) = &files.vocab {
        let lower = lowercase_setting(files, cfg).unwrap_or_else(|| vocab_is_uncased(vocab));
        let wp = tokenizers::models::wordpiece::WordPiece::from_file(&vocab.to_string_lossy())
            .unk_token("[UNK]".into())
            .build()
            .map_err(bad)?;
        let mut tok = Tokenizer::new(wp);
        tok.with_normalizer(Some(tokenizers::normalizers::bert::BertNormalizer::new(
            true, true, None, lower,
        )));
        tok.with_pre_tokenizer(Some(tokenizers::pre_tokenizers::bert::BertPreTokenizer));
        tok
    } else {
        return Err(Error::model(spec, "no tokenizer"));
    };
    // presslens windows long sentences itself: never let the tokenizer truncate or pad.
    tok.with_truncation(None).map_err(bad)?;
    tok.with_padding(None);
    Ok(tok)
}

fn lowercase_setting(files: &ModelFiles, cfg: &serde_json::Value) -> Option<bool> {
    if let Some(b) = cfg.get("do_lower_case").and_then(|v| v.as_bool()) {
        return Some(b);
    }
    let p = files.tokenizer_config.as_ref()?;
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(p).ok()?).ok()?;
    v.get("do_lower_case").and_then(|v| v.as_bool())
}

/// A cased BERT vocabulary holds capitalised words ("The"); an uncased one does not.
fn vocab_is_uncased(vocab: &Path) -> bool {
    std::fs::read_to_string(vocab)
        .map(|s| !s.lines().any(|l| l == "The"))
        .unwrap_or(true)
}

/// How token labels become entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NerDecoding {
    /// The best tag sequence that is valid IOB2 (a Viterbi pass over the label
    /// log-probabilities of the words): an `I-X` follows a `B-X` or an `I-X`. The default.
    Viterbi,
    /// Each word's most probable label; an `I-X` that continues nothing opens an entity
    /// (conlleval's reading). `"presslens_ner_decoding": "argmax"` in `config.json`.
    Argmax,
}

/// Does the model take casing classes as token-type ids (`"presslens_casing"`)? Models
/// without the key get type ids 0, as a plain BERT.
fn casing_from_config(
    cfg: &serde_json::Value,
    type_vocab_size: i64,
    spec: &ModelSpec,
) -> Result<bool> {
    let Some(v) = cfg.get("presslens_casing") else {
        return Ok(false);
    };
    if v.is_null() {
        return Ok(false);
    }
    let casing: CasingSpec = serde_json::from_value(v.clone())
        .map_err(|e| Error::model(spec, format!("invalid presslens_casing: {e}")))?;
    if !casing.is_supported() {
        return Err(Error::model(
            spec,
            format!(
                "presslens_casing {{version {}, classes {:?}}} is not supported (this presslens knows version {CASING_VERSION}, classes {CASING_CLASSES:?})",
                casing.version, casing.classes
            ),
        ));
    }
    if type_vocab_size < CASING_CLASSES.len() as i64 {
        return Err(Error::model(
            spec,
            format!(
                "presslens_casing needs type_vocab_size >= {}, config has {type_vocab_size}",
                CASING_CLASSES.len()
            ),
        ));
    }
    Ok(true)
}

fn decoding_from_config(cfg: &serde_json::Value, spec: &ModelSpec) -> Result<NerDecoding> {
    match cfg.get("presslens_ner_decoding").and_then(|v| v.as_str()) {
        None | Some("viterbi") => Ok(NerDecoding::Viterbi),
        Some("argmax") => Ok(NerDecoding::Argmax),
        Some(other) => Err(Error::model(
            spec,
            format!("presslens_ner_decoding '{other}' must be 'viterbi' or 'argmax'"),
        )),
    }
}

/// The shape of a BERT as the int8 encoder reads it (`hidden_act`, `layer_norm_eps` from the
/// raw config: rust-bert's config type does not keep them as text).
pub(super) fn bert_shape(
    cfg: &serde_json::Value,
    bert_cfg: &BertConfig,
    with_pooler: bool,
) -> BertShape {
    BertShape {
        prefix: "bert".into(),
        n_layers: bert_cfg.num_hidden_layers,
        n_heads: bert_cfg.num_attention_heads,
        eps: cfg
            .get("layer_norm_eps")
            .and_then(|v| v.as_f64())
            .unwrap_or(1e-12),
        hidden_act: cfg
            .get("hidden_act")
            .and_then(|v| v.as_str())
            .unwrap_or("gelu")
            .to_string(),
        with_pooler,
    }
}

/// A loaded encoder with its heads. Use through [`Analyzer`](super::Analyzer).
pub struct LoadedModel {
    spec: ModelSpec,
    pub(super) tokenizer: Tokenizer,
    /// Per task: the head's labels, by id.
    pub(super) labels: HashMap<Task, Vec<String>>,
    /// One per encoder stream (see [`Replica`]).
    pub(super) replicas: Vec<Mutex<Replica>>,
    pub(super) cls: i64,
    pub(super) sep: i64,
    pub(super) pad: i64,
    /// Maximum number of tokens per window, special tokens included.
    pub(super) window: usize,
    pub(super) device: Device,
    /// The encoder's arithmetic (resolved: int8 or fp32).
    pub(super) precision: Precision,
    /// Feed casing classes as token-type ids (else zeros).
    pub(super) casing: bool,
    pub(super) ner_decoding: NerDecoding,
    /// The target head (`presslens_heads["target"]`), if the model has one.
    pub(super) target: Option<TargetHead>,
}

/// Description of a loaded model for the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelInfo {
    pub source: String,
    pub tasks: Vec<String>,
    pub labels: HashMap<String, Vec<String>>,
    pub window: usize,
    pub device: String,
    /// `int8` or `fp32` (empty in manifests written before precisions existed).
    #[serde(default)]
    pub precision: String,
    /// Labels of the sentence sentiment head: 2 (SST-2 style: negative, positive) or 3
    /// (negative, neutral, positive); `None` without a sentiment head.
    #[serde(default)]
    pub sentiment_classes: Option<usize>,
    /// Does the model have a target head (sentiment toward each entity mention)?
    #[serde(default)]
    pub target_head: bool,
}

impl std::fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedModel")
            .field("spec", &self.spec)
            .field("tasks", &self.labels.keys().collect::<Vec<_>>())
            .field("precision", &self.precision)
            .field("streams", &self.replicas.len())
            .field("window", &self.window)
            .field("device", &self.device)
            .field("casing", &self.casing)
            .field("ner_decoding", &self.ner_decoding)
            .field("target", &self.target.as_ref().map(|t| &t.pooling))
            .finish()
    }
}

impl LoadedModel {
    /// Load a model from its spec onto `device`, with the window capped at `max_window`,
    /// the encoder in `precision` (`auto` resolved for the device) and `streams` replicas.
    pub fn load(
        spec: &ModelSpec,
        device: Device,
        max_window: usize,
        precision: Precision,
        streams: usize,
    ) -> Result<Self> {
        let precision = precision.resolve(device)?;
        let files = locate_files(spec)?;
        let text = std::fs::read_to_string(&files.config)
            .map_err(|e| Error::io("cannot read", &files.config, e))?;
        let cfg: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| Error::model(spec, format!("config.json: {e}")))?;
        let model_type = cfg
            .get("model_type")
            .and_then(|v| v.as_str())
            .unwrap_or("bert");
        if model_type != "bert" {
            return Err(Error::model(
                spec,
                format!("model_type '{model_type}' is not supported: presslens runs BERT-family encoders (model_type 'bert')"),
            ));
        }
        let mut bert_cfg: BertConfig = serde_json::from_value(cfg.clone())
            .map_err(|e| Error::model(spec, format!("config.json is not a BERT config: {e}")))?;
        bert_cfg.output_attentions = Some(false);
        bert_cfg.output_hidden_states = Some(false);
        let head_specs = heads_from_config(&cfg, spec)?;
        if head_specs.is_empty() {
            return Err(Error::model(spec, "no sentiment or ner head declared"));
        }
        let mut target_pooling = Vec::new();
        for (task, h) in &head_specs {
            if *task != Task::Target {
                continue;
            }
            let names = h.pooling.as_deref().unwrap_or_default();
            if names.is_empty() {
                return Err(Error::model(
                    spec,
                    "the target head needs a non-empty \"pooling\" (cls, mean, max, pooler)",
                ));
            }
            for name in names {
                target_pooling.push(Pooling::parse(name).ok_or_else(|| {
                    Error::model(
                        spec,
                        format!("target pooling '{name}' must be cls, mean, max or pooler"),
                    )
                })?);
            }
        }
        let needs_pooler = head_specs.iter().any(|(_, h)| h.kind == "sequence")
            || target_pooling.contains(&Pooling::Pooler);
        let casing = casing_from_config(&cfg, bert_cfg.type_vocab_size, spec)?;
        let ner_decoding = decoding_from_config(&cfg, spec)?;

        let new_bert = |vs: &nn::VarStore| {
            BertModel::<BertEmbeddings>::new_with_optional_pooler(
                vs.root() / "bert",
                &bert_cfg,
                needs_pooler,
            )
        };
        let vs = nn::VarStore::new(device);
        let bert = new_bert(&vs);
        let mut labels = HashMap::new();
        let mut head_vars = HashMap::new();
        for (task, h) in head_specs {
            if !matches!(h.kind.as_str(), "sequence" | "token" | "span") {
                return Err(Error::model(
                    spec,
                    format!(
                        "head kind '{}' must be 'sequence', 'token' or 'span'",
                        h.kind
                    ),
                ));
            }
            let want_kind = match task {
                Task::Sentiment => "sequence",
                Task::Ner => "token",
                Task::Target => "span",
            };
            if h.kind != want_kind {
                return Err(Error::model(
                    spec,
                    format!("head for {task:?} has kind '{}'", h.kind),
                ));
            }
            let task_labels = labels_from(&h.id2label, spec)?;
            let mut p = vs.root();
            for part in h.weights.split('.') {
                p = &p / part;
            }
            let n_in = if task == Task::Target {
                bert_cfg.hidden_size * target_pooling.len() as i64
            } else {
                bert_cfg.hidden_size
            };
            nn::linear(&p, n_in, task_labels.len() as i64, Default::default());
            labels.insert(task, task_labels);
            head_vars.insert(task, h.weights);
        }
        let mut vs = vs;
        vs.load(&files.weights).map_err(|e| {
            Error::model(
                spec,
                format!(
                    "weights {} do not match config.json: {e}",
                    files.weights.display()
                ),
            )
        })?;
        // Weights may be stored in float16 to keep the package small; compute in float32.
        vs.float();
        let vars = vs.variables();
        let var = |name: &str| {
            vars.get(name)
                .map(Tensor::shallow_clone)
                .ok_or_else(|| Error::model(spec, format!("no weight {name}")))
        };
        let mut heads = HashMap::new();
        let mut target = None;
        for (task, prefix) in &head_vars {
            if *task == Task::Target {
                let floats = |name: &str| -> Result<Vec<f32>> {
                    let t = var(name)?
                        .to_kind(tch::Kind::Float)
                        .to_device(Device::Cpu)
                        .contiguous()
                        .view(-1);
                    Ok(Vec::<f32>::try_from(&t)?)
                };
                target = Some(TargetHead {
                    pooling: target_pooling.clone(),
                    weight: floats(&format!("{prefix}.weight"))?,
                    bias: floats(&format!("{prefix}.bias"))?,
                    hidden: bert_cfg.hidden_size as usize,
                });
                continue;
            }
            heads.insert(
                *task,
                Head {
                    weight: var(&format!("{prefix}.weight"))?,
                    bias: var(&format!("{prefix}.bias"))?,
                },
            );
        }
        let share_heads = |heads: &HashMap<Task, Head>| {
            heads
                .iter()
                .map(|(t, h)| (*t, h.share()))
                .collect::<HashMap<_, _>>()
        };

        let streams = streams.max(1);
        let mut replicas = Vec::with_capacity(streams);
        if precision == Precision::Int8 {
            let int8 = Int8Bert::from_weights(&vars, &bert_shape(&cfg, &bert_cfg, needs_pooler))
                .map_err(|e| Error::model(spec, format!("{e}; run it with precision fp32")))?;
            for _ in 1..streams {
                replicas.push(Replica {
                    encoder: Encoder::Int8(int8.share()),
                    heads: share_heads(&heads),
                });
            }
            replicas.push(Replica {
                encoder: Encoder::Int8(int8),
                heads,
            });
            // The float encoder's weights are no longer needed: `vs` and `bert` drop here.
            drop(bert);
        } else {
            for _ in 1..streams {
                // A fresh encoder whose variables then point at the loaded weights' memory.
                let replica_vs = nn::VarStore::new(device);
                let replica_bert = new_bert(&replica_vs);
                for (name, mut t) in replica_vs.variables() {
                    let src = vars.get(&name).ok_or_else(|| {
                        Error::model(spec, format!("replica variable {name} not in the model"))
                    })?;
                    tch::no_grad(|| t.f_set_data(src))?;
                }
                replicas.push(Replica {
                    encoder: Encoder::Float {
                        _vs: replica_vs,
                        bert: Box::new(replica_bert),
                    },
                    heads: share_heads(&heads),
                });
            }
            replicas.push(Replica {
                encoder: Encoder::Float {
                    _vs: vs,
                    bert: Box::new(bert),
                },
                heads,
            });
        }

        let tokenizer = load_tokenizer(&files, &cfg, spec)?;
        let id = |t: &str| {
            tokenizer
                .token_to_id(t)
                .map(i64::from)
                .ok_or_else(|| Error::model(spec, format!("vocabulary has no {t} token")))
        };
        let (cls, sep, pad) = (id("[CLS]")?, id("[SEP]")?, id("[PAD]")?);
        let window = (bert_cfg.max_position_embeddings.max(8) as usize).min(max_window.max(8));
        Ok(LoadedModel {
            spec: spec.clone(),
            tokenizer,
            labels,
            replicas: replicas.into_iter().map(Mutex::new).collect(),
            cls,
            sep,
            pad,
            window,
            device,
            precision,
            casing,
            ner_decoding,
            target,
        })
    }

    /// Does this model have a head for `task`?
    pub fn has(&self, task: Task) -> bool {
        self.labels.contains_key(&task)
    }

    /// Description for the manifest.
    pub fn info(&self) -> ModelInfo {
        let mut tasks: Vec<String> = self
            .labels
            .keys()
            .map(|t| format!("{t:?}").to_lowercase())
            .collect();
        tasks.sort();
        ModelInfo {
            source: self.spec.describe(),
            labels: self
                .labels
                .iter()
                .map(|(t, l)| (format!("{t:?}").to_lowercase(), l.clone()))
                .collect(),
            tasks,
            window: self.window,
            device: format!("{:?}", self.device),
            precision: self.precision.name().to_string(),
            sentiment_classes: self.labels.get(&Task::Sentiment).map(Vec::len),
            target_head: self.target.is_some(),
        }
    }
}

pub(super) type SharedModel = Arc<LoadedModel>;
/// Cache key: model, device (debug form), window length, precision and streams.
type CacheKey = (ModelSpec, String, usize, Precision, usize);
type ModelCache = Mutex<HashMap<CacheKey, SharedModel>>;

fn cache() -> &'static ModelCache {
    static CACHE: OnceLock<ModelCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Load a model once per process (per spec, device, window, precision and number of
/// streams) and share it.
pub fn load_cached(
    spec: &ModelSpec,
    device: Device,
    max_window: usize,
    precision: Precision,
    streams: usize,
) -> Result<SharedModel> {
    let precision = precision.resolve(device)?;
    let key = (
        spec.clone(),
        format!("{device:?}"),
        max_window,
        precision,
        streams,
    );
    let mut c = cache()
        .lock()
        .map_err(|_| Error::Inference("model cache poisoned".into()))?;
    if let Some(m) = c.get(&key) {
        return Ok(m.clone());
    }
    let m = Arc::new(LoadedModel::load(
        spec, device, max_window, precision, streams,
    )?);
    c.insert(key, m.clone());
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infer::tests::tiny;

    fn load_fp32(spec: &ModelSpec) -> Result<LoadedModel> {
        LoadedModel::load(spec, Device::Cpu, 64, Precision::Fp32, 1)
    }

    #[test]
    fn missing_head_and_bad_folder_are_clear_errors() {
        let d = tempfile::tempdir().expect("tmp");
        let err = load_fp32(&ModelSpec::Local(d.path().to_path_buf())).expect_err("empty dir");
        assert!(err.to_string().contains("config.json not found"), "{err}");
        let (_d, spec) = tiny();
        let dir = match &spec {
            ModelSpec::Local(p) => p.clone(),
            _ => unreachable!(),
        };
        std::fs::remove_file(dir.join("model.safetensors")).expect("rm");
        let err = load_fp32(&spec).expect_err("no weights");
        assert!(err.to_string().contains("no weights found"), "{err}");
    }

    fn config_of(dir: &Path) -> serde_json::Value {
        let text = std::fs::read_to_string(dir.join("config.json")).expect("config");
        serde_json::from_str(&text).expect("json")
    }

    #[test]
    fn config_says_whether_a_model_takes_casing_classes() {
        // A plain BERT (two token types, no presslens_casing): no casing, Viterbi decoding.
        let (_d, spec) = tiny();
        let m = load_fp32(&spec).expect("plain model loads");
        assert!(!m.casing);
        assert_eq!(m.ner_decoding, NerDecoding::Viterbi);

        let d = tempfile::tempdir().expect("tmp");
        crate::infer::testing::write_random_model_with(d.path(), None, 7, true).expect("write");
        let spec = ModelSpec::Local(d.path().to_path_buf());
        let cfg = config_of(d.path());
        assert_eq!(cfg["type_vocab_size"], 5);
        let m = load_fp32(&spec).expect("casing model loads");
        assert!(m.casing);
        drop(m);

        let write = |cfg: &serde_json::Value| {
            std::fs::write(d.path().join("config.json"), cfg.to_string()).expect("write");
        };
        let mut bad = cfg.clone();
        bad["presslens_casing"]["version"] = 2.into();
        write(&bad);
        let err = load_fp32(&spec).expect_err("unknown version");
        assert!(err.to_string().contains("not supported"), "{err}");
        let mut bad = cfg.clone();
        bad["presslens_ner_decoding"] = "greedy".into();
        write(&bad);
        let err = load_fp32(&spec).expect_err("unknown decoding");
        assert!(err.to_string().contains("'viterbi' or 'argmax'"), "{err}");
        let mut argmax = cfg.clone();
        argmax["presslens_ner_decoding"] = "argmax".into();
        write(&argmax);
        let m = load_fp32(&spec).expect("argmax");
        assert_eq!(m.ner_decoding, NerDecoding::Argmax);
    }
}
