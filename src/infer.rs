//! Stage 4 — infer: transformer sentiment and NER per sentence.
//!
//! A model is a BERT-family encoder plus one or two linear heads, read from a folder in
//! Hugging Face layout (`config.json`, `tokenizer.json` or `vocab.txt`, weights as
//! `model.safetensors` or rust-bert `rust_model.ot`), from a Hugging Face hub id
//! (downloaded and cached through rust-bert's `RemoteResource`), or the embedded default.
//!
//! Supported layouts:
//! - `BertForSequenceClassification` (head `classifier` on the pooled output): sentiment;
//! - `BertForTokenClassification` (head `classifier` on every token): NER;
//! - presslens multi-task (`"presslens_heads"` in config.json): one encoder, both heads,
//!   so each sentence is encoded once for both tasks.
//!
//! Speed: sentences are tokenised in parallel, cut into windows when longer than the
//! model's window (never silently truncated), sorted by length and batched so that padding
//! stays small, and encoded under `no_grad`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, OnceLock};

use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use rust_bert::resources::{LocalResource, RemoteResource, ResourceProvider};
use serde::{Deserialize, Serialize};
use tch::{nn, nn::Module, Device, Kind, Tensor};
use tokenizers::Tokenizer;

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

/// Which task a head serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Task {
    Sentiment,
    Ner,
}

#[derive(Debug)]
struct Head {
    linear: nn::Linear,
    labels: Vec<String>,
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
    /// `sequence` (one label per sentence, from the pooled output) or `token`.
    pub kind: String,
    /// Variable prefix of the head's `weight`/`bias` in the weights file.
    pub weights: String,
    pub id2label: HashMap<String, String>,
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

/// A loaded encoder with its heads. Use through [`Analyzer`].
pub struct LoadedModel {
    spec: ModelSpec,
    tokenizer: Tokenizer,
    _vs: nn::VarStore,
    bert: BertModel<BertEmbeddings>,
    heads: HashMap<Task, Head>,
    cls: i64,
    sep: i64,
    pad: i64,
    /// Maximum number of tokens per window, special tokens included.
    window: usize,
    device: Device,
}

impl std::fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedModel")
            .field("spec", &self.spec)
            .field("tasks", &self.heads.keys().collect::<Vec<_>>())
            .field("window", &self.window)
            .field("device", &self.device)
            .finish()
    }
}

/// Description of a loaded model for the manifest.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelInfo {
    pub source: String,
    pub tasks: Vec<String>,
    pub labels: HashMap<String, Vec<String>>,
    pub window: usize,
    pub device: String,
}

impl LoadedModel {
    /// Load a model from its spec onto `device`, with the window capped at `max_window`.
    pub fn load(spec: &ModelSpec, device: Device, max_window: usize) -> Result<Self> {
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
        let needs_pooler = head_specs.iter().any(|(_, h)| h.kind == "sequence");

        let mut vs = nn::VarStore::new(device);
        let root = vs.root();
        let bert = BertModel::<BertEmbeddings>::new_with_optional_pooler(
            &root / "bert",
            &bert_cfg,
            needs_pooler,
        );
        let mut heads = HashMap::new();
        for (task, h) in head_specs {
            if !matches!(h.kind.as_str(), "sequence" | "token") {
                return Err(Error::model(
                    spec,
                    format!("head kind '{}' must be 'sequence' or 'token'", h.kind),
                ));
            }
            if (task == Task::Sentiment) != (h.kind == "sequence") {
                return Err(Error::model(
                    spec,
                    format!("head for {task:?} has kind '{}'", h.kind),
                ));
            }
            let labels = labels_from(&h.id2label, spec)?;
            let mut p = root.clone();
            for part in h.weights.split('.') {
                p = &p / part;
            }
            let linear = nn::linear(
                &p,
                bert_cfg.hidden_size,
                labels.len() as i64,
                Default::default(),
            );
            heads.insert(task, Head { linear, labels });
        }
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
            _vs: vs,
            bert,
            heads,
            cls,
            sep,
            pad,
            window,
            device,
        })
    }

    /// Does this model have a head for `task`?
    pub fn has(&self, task: Task) -> bool {
        self.heads.contains_key(&task)
    }

    /// Description for the manifest.
    pub fn info(&self) -> ModelInfo {
        let mut tasks: Vec<String> = self
            .heads
            .keys()
            .map(|t| format!("{t:?}").to_lowercase())
            .collect();
        tasks.sort();
        ModelInfo {
            source: self.spec.describe(),
            labels: self
                .heads
                .iter()
                .map(|(t, h)| (format!("{t:?}").to_lowercase(), h.labels.clone()))
                .collect(),
            tasks,
            window: self.window,
            device: format!("{:?}", self.device),
        }
    }
}

/// Sentiment of one sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sentiment {
    /// Normalised label: `positive`, `negative`, `neutral` when recognisable, else the model's.
    pub label: String,
    /// Probability of that label.
    pub score: f32,
    /// P(positive) − P(negative), in [-1, 1].
    pub polarity: f32,
}

/// One entity found in a sentence; offsets are in characters relative to the sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    pub start: usize,
    pub end: usize,
    pub label: String,
    pub score: f32,
}

/// Everything inferred for one sentence.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SentenceOutput {
    pub sentiment: Option<Sentiment>,
    pub entities: Vec<Entity>,
}

fn normalise_label(l: &str) -> String {
    let low = l.to_lowercase();
    if low.starts_with("pos") {
        "positive".into()
    } else if low.starts_with("neg") {
        "negative".into()
    } else if low.starts_with("neu") {
        "neutral".into()
    } else {
        l.to_string()
    }
}

/// Index of the positive and negative labels; `LABEL_0`/`LABEL_1` binary models follow the
/// SST-2 convention (0 = negative, 1 = positive).
fn polarity_indices(labels: &[String]) -> (Option<usize>, Option<usize>) {
    let pos = labels
        .iter()
        .position(|l| l.to_lowercase().starts_with("pos"));
    let neg = labels
        .iter()
        .position(|l| l.to_lowercase().starts_with("neg"));
    if pos.is_none() && neg.is_none() && labels.len() == 2 {
        return (Some(1), Some(0));
    }
    (pos, neg)
}

/// A token of a sentence after tokenisation.
struct Tokens {
    ids: Vec<u32>,
    /// Character offsets into the sentence.
    offsets: Vec<(usize, usize)>,
    words: Vec<Option<u32>>,
}

/// A window of tokens of one sentence, fed to the encoder as one row.
#[derive(Clone, Copy)]
struct Piece {
    sent: usize,
    start: usize,
    end: usize,
}

fn make_pieces(n_tokens: &[usize], content: usize) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let stride = (content / 2).max(1);
    for (sent, &n) in n_tokens.iter().enumerate() {
        if n == 0 {
            continue;
        }
        if n <= content {
            pieces.push(Piece {
                sent,
                start: 0,
                end: n,
            });
            continue;
        }
        let mut start = 0;
        loop {
            let end = (start + content).min(n);
            pieces.push(Piece { sent, start, end });
            if end == n {
                break;
            }
            start = if end + stride > n {
                n - content
            } else {
                start + stride
            };
        }
    }
    pieces
}

impl LoadedModel {
    fn tokenize(&self, sentences: &[&str]) -> Result<Vec<Tokens>> {
        let encs = self
            .tokenizer
            .encode_batch_char_offsets(sentences.to_vec(), false)
            .map_err(|e| Error::Inference(format!("tokenizer: {e}")))?;
        Ok(encs
            .into_iter()
            .zip(sentences)
            .map(|(e, s)| {
                let offsets = e.get_offsets().to_vec();
                Tokens {
                    ids: e.get_ids().to_vec(),
                    words: news_word_ids(s, &offsets),
                    offsets,
                }
            })
            .collect())
    }

    /// Run the encoder once per window and every requested head on it.
    fn run(
        &self,
        sentences: &[&str],
        tasks: &[Task],
        batch_size: usize,
        out: &mut [SentenceOutput],
    ) -> Result<()> {
        let want_sent = tasks.contains(&Task::Sentiment) && self.has(Task::Sentiment);
        let want_ner = tasks.contains(&Task::Ner) && self.has(Task::Ner);
        if !want_sent && !want_ner {
            return Ok(());
        }
        let toks = self.tokenize(sentences)?;
        let content = self.window - 2;
        let pieces = make_pieces(
            &toks.iter().map(|t| t.ids.len()).collect::<Vec<_>>(),
            content,
        );
        // Length-bucketed batches: sort windows by length so each batch pads little.
        let mut order: Vec<usize> = (0..pieces.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(pieces[i].end - pieces[i].start));

        let n_sent_labels = self
            .heads
            .get(&Task::Sentiment)
            .map_or(0, |h| h.labels.len());
        // Per sentence: sum of (probabilities × window length) and total length.
        let mut sent_acc: Vec<(Vec<f32>, f32)> =
            vec![(vec![0.0; n_sent_labels], 0.0); sentences.len()];
        // Per sentence and token: (label index, probability, centrality) of the best window.
        let mut tok_pred: Vec<Vec<(usize, f32, i64)>> = toks
            .iter()
            .map(|t| vec![(0, 0.0, -1); if want_ner { t.ids.len() } else { 0 }])
            .collect();

        for batch in order.chunks(batch_size.max(1)) {
            let max_len = batch
                .iter()
                .map(|&i| pieces[i].end - pieces[i].start)
                .max()
                .unwrap_or(0)
                + 2;
            let b = batch.len();
            let mut ids = vec![self.pad; b * max_len];
            let mut mask = vec![0i64; b * max_len];
            for (row, &pi) in batch.iter().enumerate() {
                let p = pieces[pi];
                let base = row * max_len;
                ids[base] = self.cls;
                for (j, &t) in toks[p.sent].ids[p.start..p.end].iter().enumerate() {
                    ids[base + 1 + j] = i64::from(t);
                }
                let len = p.end - p.start;
                ids[base + 1 + len] = self.sep;
                mask[base..base + len + 2].iter_mut().for_each(|m| *m = 1);
            }
            let shape = [b as i64, max_len as i64];
            let ids_t = Tensor::from_slice(&ids).view(shape).to_device(self.device);
            let mask_t = Tensor::from_slice(&mask).view(shape).to_device(self.device);
            let type_t = Tensor::zeros(shape, (Kind::Int64, self.device));
            let (sent_probs, ner_best) =
                tch::no_grad(|| -> Result<(Option<Vec<f32>>, Option<NerBest>)> {
                    let o = self
                        .bert
                        .forward_t(
                            Some(&ids_t),
                            Some(&mask_t),
                            Some(&type_t),
                            None,
                            None,
                            None,
                            None,
                            false,
                        )
                        .map_err(|e| Error::Inference(e.to_string()))?;
                    let sent_probs = if want_sent {
                        let head = &self.heads[&Task::Sentiment];
                        let pooled = match &o.pooled_output {
                            Some(p) => p.shallow_clone(),
                            None => o.hidden_state.select(1, 0),
                        };
                        let probs = head.linear.forward(&pooled).softmax(-1, Kind::Float);
                        Some(to_vec_f32(&probs)?)
                    } else {
                        None
                    };
                    let ner_best = if want_ner {
                        let head = &self.heads[&Task::Ner];
                        let probs = head
                            .linear
                            .forward(&o.hidden_state)
                            .softmax(-1, Kind::Float);
                        let (best, idx) = probs.max_dim(-1, false);
                        Some((to_vec_f32(&best)?, to_vec_i64(&idx)?))
                    } else {
                        None
                    };
                    Ok((sent_probs, ner_best))
                })?;
            for (row, &pi) in batch.iter().enumerate() {
                let p = pieces[pi];
                let len = p.end - p.start;
                if let Some(probs) = &sent_probs {
                    let acc = &mut sent_acc[p.sent];
                    let w = len as f32;
                    for (k, a) in acc.0.iter_mut().enumerate() {
                        *a += probs[row * n_sent_labels + k] * w;
                    }
                    acc.1 += w;
                }
                if let Some((best, idx)) = &ner_best {
                    for j in 0..len {
                        let t = p.start + j;
                        // Prefer the window where the token is most central (most context).
                        let centrality = j.min(len - 1 - j) as i64;
                        let slot = &mut tok_pred[p.sent][t];
                        if centrality > slot.2 {
                            let k = row * max_len + 1 + j;
                            *slot = (idx[k] as usize, best[k], centrality);
                        }
                    }
                }
            }
        }

        if want_sent {
            let labels = &self.heads[&Task::Sentiment].labels;
            let (pos, neg) = polarity_indices(labels);
            for (o, (acc, total)) in out.iter_mut().zip(sent_acc) {
                if total <= 0.0 {
                    continue;
                }
                let probs: Vec<f32> = acc.iter().map(|a| a / total).collect();
                let (best, score) = probs
                    .iter()
                    .copied()
                    .enumerate()
                    .fold((0, f32::MIN), |m, (i, p)| if p > m.1 { (i, p) } else { m });
                let polarity = pos.map_or(0.0, |i| probs[i]) - neg.map_or(0.0, |i| probs[i]);
                o.sentiment = Some(Sentiment {
                    label: normalise_label(&labels[best]),
                    score,
                    polarity,
                });
            }
        }
        if want_ner {
            let labels = &self.heads[&Task::Ner].labels;
            for (((o, t), preds), text) in out.iter_mut().zip(&toks).zip(&tok_pred).zip(sentences) {
                o.entities = decode_entities(t, preds, labels);
                extend_directional(text, &mut o.entities);
                trim_entities(text, &mut o.entities);
            }
        }
        Ok(())
    }
}

fn to_vec_f32(t: &Tensor) -> Result<Vec<f32>> {
    let t = t
        .to_kind(Kind::Float)
        .to_device(Device::Cpu)
        .contiguous()
        .view(-1);
    Ok(Vec::<f32>::try_from(&t)?)
}

fn to_vec_i64(t: &Tensor) -> Result<Vec<i64>> {
    let t = t
        .to_kind(Kind::Int64)
        .to_device(Device::Cpu)
        .contiguous()
        .view(-1);
    Ok(Vec::<i64>::try_from(&t)?)
}

/// Words as CoNLL-2003 newswire tokenises them (what the NER heads are trained on):
/// acronyms with dots ("U.S."), initials ("B. Young"), common abbreviations ("Dr.", "Inc."), words with inner hyphens, dots or apostrophes
/// ("Stoltenberg-led", "3.5", "O'Neill") stay whole; a possessive "'s" and other
/// punctuation are words of their own. BERT's pre-tokenizer splits on every punctuation
/// mark, which would make "S" of "U.S." or "led" of "Stoltenberg-led" words with a label
/// of their own; the first sub-token of a news word decides its label instead.
static NEWS_WORD: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?:\pL\.){2,}|\p{Lu}\.|\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Lt|Col|Sgt|Capt|Adm|Gov|Sen|Rep|Rev|Jr|Sr|St|Mt|Inc|Corp|Co|Ltd|Bros|No|vs)\.|\w+(?:[-.]\w+)*(?:['’](?:[\pL\pN--sS]\w*|[sS]\w+))*|['’][sS]\b|[^\w\s]",
    )
    .expect("NEWS_WORD is a valid regex")
});

/// The news word (see [`NEWS_WORD`]) of each token, from the tokens' character offsets.
fn news_word_ids(sentence: &str, offsets: &[(usize, usize)]) -> Vec<Option<u32>> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    // Matches come in order: convert byte to char offsets incrementally.
    let (mut last_b, mut last_c) = (0usize, 0usize);
    for m in NEWS_WORD.find_iter(sentence) {
        let s = last_c + sentence[last_b..m.start()].chars().count();
        let e = s + m.as_str().chars().count();
        last_b = m.end();
        last_c = e;
        spans.push((s, e));
    }
    let mut w = 0usize;
    offsets
        .iter()
        .map(|&(s, _)| {
            while w < spans.len() && spans[w].1 <= s {
                w += 1;
            }
            (w < spans.len() && spans[w].0 <= s).then_some(w as u32)
        })
        .collect()
}

/// Capitalised direction words that open place names ("Northern Territories", "South
/// Kuriles"). The uncased model often drops them, as "northern" is a common word; when one
/// directly precedes a place, organisation or MISC entity, it joins the entity.
const DIRECTIONAL: [&str; 12] = [
    "Northern", "Southern", "Eastern", "Western", "North", "South", "East", "West", "Central",
    "Upper", "Lower", "Greater",
];

fn extend_directional(sentence: &str, entities: &mut [Entity]) {
    let chars: Vec<char> = sentence.chars().collect();
    let mut prev_end = 0;
    for e in entities.iter_mut() {
        if e.label != "PER" && e.start >= 2 && chars.get(e.start - 1) == Some(&' ') {
            let word_end = e.start - 1;
            let mut word_start = word_end;
            while word_start > prev_end && chars[word_start - 1].is_alphabetic() {
                word_start -= 1;
            }
            let word: String = chars[word_start..word_end].iter().collect();
            let at_boundary = word_start == 0 || !chars[word_start - 1].is_alphanumeric();
            if at_boundary && DIRECTIONAL.contains(&word.as_str()) {
                e.start = word_start;
            }
        }
        prev_end = e.end;
    }
}

/// Entities never begin or end with punctuation or space: a stray "." or quote tagged as
/// part of a name is dropped from its span ("Dr. Ruff" must not give ". Ruff"). A final dot
/// stays when it ends an abbreviation ("U.S.", "Inc."); entities left empty are removed.
/// Hyphenated compounds stay whole, as CoNLL tags them ("Soviet-led", "pro-Israeli");
/// the linking stage takes the name out of them.
fn trim_entities(sentence: &str, entities: &mut Vec<Entity>) {
    if entities.is_empty() {
        return;
    }
    let chars: Vec<char> = sentence.chars().collect();
    for e in entities.iter_mut() {
        let end = e.end.min(chars.len());
        let mut s = e.start.min(end);
        while s < end && !chars[s].is_alphanumeric() {
            s += 1;
        }
        let mut t = end;
        while t > s && !chars[t - 1].is_alphanumeric() {
            if chars[t - 1] == '.' {
                let word_start = chars[s..t - 1]
                    .iter()
                    .rposition(|c| c.is_whitespace())
                    .map_or(s, |i| s + i + 1);
                let word: String = chars[word_start..t].iter().collect();
                if NEWS_WORD.find(&word).is_some_and(|m| m.as_str() == word) {
                    break;
                }
            }
            t -= 1;
        }
        e.start = s;
        e.end = t;
    }
    entities.retain(|e| e.end > e.start);
}

/// Split an IOB2 (or IO) label into (prefix, type).
fn split_label(l: &str) -> (char, &str) {
    match l.split_once('-') {
        Some((p, t)) if p.len() == 1 => (p.chars().next().unwrap_or('I'), t),
        _ if l == "O" => ('O', ""),
        _ => ('I', l),
    }
}

/// Group word-level IOB predictions into entities (the first sub-token of a word decides
/// its label; an I- tag that does not continue an entity of its type starts one).
fn decode_entities(t: &Tokens, preds: &[(usize, f32, i64)], labels: &[String]) -> Vec<Entity> {
    // Words: (start char, end char, label index, prob).
    let mut words: Vec<(usize, usize, usize, f32)> = Vec::new();
    let mut last_word: Option<u32> = None;
    for (i, w) in t.words.iter().enumerate() {
        let (s, e) = t.offsets[i];
        let (li, p, _) = preds.get(i).copied().unwrap_or((0, 0.0, -1));
        match (w, last_word) {
            (Some(w), Some(lw)) if *w == lw => {
                if let Some(last) = words.last_mut() {
                    last.1 = e;
                }
            }
            _ => words.push((s, e, li, p)),
        }
        last_word = *w;
    }
    let mut ents: Vec<Entity> = Vec::new();
    let mut cur: Option<(usize, usize, &str, f32, usize)> = None; // start, end, type, sum p, n
    let flush = |cur: &mut Option<(usize, usize, &str, f32, usize)>, ents: &mut Vec<Entity>| {
        if let Some((s, e, ty, sp, n)) = cur.take() {
            ents.push(Entity {
                start: s,
                end: e,
                label: ty.to_string(),
                score: sp / n as f32,
            });
        }
    };
    for (s, e, li, p) in words {
        let (prefix, ty) = split_label(labels.get(li).map(String::as_str).unwrap_or("O"));
        match prefix {
            'B' => {
                flush(&mut cur, &mut ents);
                cur = Some((s, e, ty, p, 1));
            }
            'I' => match &mut cur {
                Some(c) if c.2 == ty => {
                    c.1 = e;
                    c.3 += p;
                    c.4 += 1;
                }
                _ => {
                    flush(&mut cur, &mut ents);
                    cur = Some((s, e, ty, p, 1));
                }
            },
            _ => flush(&mut cur, &mut ents),
        }
    }
    flush(&mut cur, &mut ents);
    ents
}

type SharedModel = Arc<Mutex<LoadedModel>>;
/// Per token of a batch: best NER label probability and its index (row-major).
type NerBest = (Vec<f32>, Vec<i64>);
/// Cache key: model, device (debug form) and window length.
type CacheKey = (ModelSpec, String, usize);
type ModelCache = Mutex<HashMap<CacheKey, SharedModel>>;

fn cache() -> &'static ModelCache {
    static CACHE: OnceLock<ModelCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Load a model once per process (per spec, device and window) and share it.
pub fn load_cached(spec: &ModelSpec, device: Device, max_window: usize) -> Result<SharedModel> {
    let key = (spec.clone(), format!("{device:?}"), max_window);
    let mut c = cache()
        .lock()
        .map_err(|_| Error::Inference("model cache poisoned".into()))?;
    if let Some(m) = c.get(&key) {
        return Ok(m.clone());
    }
    let m = Arc::new(Mutex::new(LoadedModel::load(spec, device, max_window)?));
    c.insert(key, m.clone());
    Ok(m)
}

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

/// Runs sentiment and NER over sentences. When both tasks use the same model, each
/// sentence is encoded once.
pub struct Analyzer {
    share_encoder: bool,
    sentiment: Option<SharedModel>,
    ner: Option<SharedModel>,
    batch_size: usize,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("batch_size", &self.batch_size)
            .finish()
    }
}

fn lock(m: &SharedModel) -> Result<std::sync::MutexGuard<'_, LoadedModel>> {
    m.lock()
        .map_err(|_| Error::Inference("model lock poisoned".into()))
}

impl Analyzer {
    /// Load (or reuse) the models named by `opts`.
    pub fn new(opts: &InferOptions) -> Result<Self> {
        opts.validate()?;
        if let Some(n) = opts.threads {
            tch::set_num_threads(n as i32);
        }
        let device = opts.device.resolve()?;
        let load = |spec: &Option<ModelSpec>, task: Task| -> Result<Option<SharedModel>> {
            let Some(spec) = spec else { return Ok(None) };
            let m = load_cached(spec, device, opts.max_window)?;
            if !lock(&m)?.has(task) {
                let what = if task == Task::Sentiment {
                    "sentiment (sequence classification)"
                } else {
                    "NER (token classification)"
                };
                return Err(Error::model(spec, format!("has no {what} head")));
            }
            Ok(Some(m))
        };
        Ok(Analyzer {
            sentiment: load(&opts.sentiment_model, Task::Sentiment)?,
            ner: load(&opts.ner_model, Task::Ner)?,
            batch_size: opts.batch_size,
            share_encoder: opts.share_encoder,
        })
    }

    /// Model descriptions for the manifest.
    pub fn models(&self) -> Result<HashMap<String, ModelInfo>> {
        let mut out = HashMap::new();
        if let Some(m) = &self.sentiment {
            out.insert("sentiment".to_string(), lock(m)?.info());
        }
        if let Some(m) = &self.ner {
            out.insert("ner".to_string(), lock(m)?.info());
        }
        Ok(out)
    }

    /// Infer sentiment and entities for each sentence.
    pub fn analyze(&self, sentences: &[&str]) -> Result<Vec<SentenceOutput>> {
        let mut out = vec![SentenceOutput::default(); sentences.len()];
        if sentences.is_empty() {
            return Ok(out);
        }
        match (&self.sentiment, &self.ner) {
            (Some(s), Some(n)) if self.share_encoder && Arc::ptr_eq(s, n) => {
                lock(s)?.run(
                    sentences,
                    &[Task::Sentiment, Task::Ner],
                    self.batch_size,
                    &mut out,
                )?;
            }
            (s, n) => {
                if let Some(s) = s {
                    lock(s)?.run(sentences, &[Task::Sentiment], self.batch_size, &mut out)?;
                }
                if let Some(n) = n {
                    lock(n)?.run(sentences, &[Task::Ner], self.batch_size, &mut out)?;
                }
            }
        }
        Ok(out)
    }
}

pub mod testing {
    //! A tiny random BERT with both heads, for tests and plumbing (not for results).
    use super::*;

    /// Write a random multi-task model (2 layers, hidden 32) into `dir`, using the given
    /// vocabulary file (e.g. the base encoder's `vocab.txt`), or a small built-in one.
    pub fn write_random_model(dir: &Path, vocab: Option<&Path>, seed: i64) -> Result<()> {
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
        let cfg = serde_json::json!({
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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> (tempfile::TempDir, ModelSpec) {
        let dir = tempfile::tempdir().expect("tmp");
        testing::write_random_model(dir.path(), None, 7).expect("write model");
        let spec = ModelSpec::Local(dir.path().to_path_buf());
        (dir, spec)
    }

    #[test]
    fn news_words_follow_conll_tokenisation() {
        let words = |text: &str| -> Vec<String> {
            NEWS_WORD
                .find_iter(text)
                .map(|m| m.as_str().to_string())
                .collect()
        };
        assert_eq!(
            words("U.S. troops, Stoltenberg-led NATO and Kishida's aides; O'Neill's 3.5%."),
            [
                "U.S.",
                "troops",
                ",",
                "Stoltenberg-led",
                "NATO",
                "and",
                "Kishida",
                "'s",
                "aides",
                ";",
                "O'Neill",
                "'s",
                "3.5",
                "%",
                "."
            ]
        );
        assert_eq!(
            words("Kishida’s “Japan”"),
            ["Kishida", "’s", "“", "Japan", "”"]
        );
        // Token offsets (chars) map to the news word that contains them.
        let s = "Ébé U.S. ok";
        let offsets = [(0, 3), (4, 5), (5, 6), (6, 7), (7, 8), (9, 11)];
        assert_eq!(
            news_word_ids(s, &offsets),
            [Some(0), Some(1), Some(1), Some(1), Some(1), Some(2)]
        );
    }

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

    #[test]
    fn windows_cover_every_token_and_overlap() {
        let pieces = make_pieces(&[3, 0, 10], 4);
        let p2: Vec<(usize, usize)> = pieces
            .iter()
            .filter(|p| p.sent == 2)
            .map(|p| (p.start, p.end))
            .collect();
        assert_eq!(pieces.iter().filter(|p| p.sent == 0).count(), 1);
        assert!(pieces.iter().all(|p| p.sent != 1));
        assert_eq!(p2.first(), Some(&(0, 4)));
        assert_eq!(p2.last().map(|p| p.1), Some(10));
        for t in 0..10 {
            assert!(
                p2.iter().any(|&(s, e)| s <= t && t < e),
                "token {t} uncovered"
            );
        }
        assert!(p2.iter().all(|&(s, e)| e - s == 4));
    }

    #[test]
    fn iob_decoding() {
        let labels: Vec<String> = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
            .map(String::from)
            .to_vec();
        // "Vladimir Putin visited Kuril Islands": five words, one token each; "Is" continues.
        let t = Tokens {
            ids: vec![0; 6],
            offsets: vec![(0, 8), (9, 14), (15, 22), (23, 28), (29, 33), (33, 36)],
            words: vec![Some(0), Some(1), Some(2), Some(3), Some(4), Some(4)],
        };
        let preds = vec![
            (1, 0.9, 0),
            (2, 0.7, 0),
            (0, 0.9, 0),
            (4, 0.6, 0),
            (4, 0.8, 0),
            (0, 0.1, 0),
        ];
        let e = decode_entities(&t, &preds, &labels);
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].start, e[0].end, e[0].label.as_str()), (0, 14, "PER"));
        assert!((e[0].score - 0.8).abs() < 1e-6);
        assert_eq!((e[1].start, e[1].end, e[1].label.as_str()), (23, 36, "LOC"));
    }

    #[test]
    fn entities_do_not_start_or_end_with_punctuation() {
        let ent = |start, end| Entity {
            start,
            end,
            label: "PER".into(),
            score: 0.9,
        };
        let s = "Dr. Abdul Ruff met U.S. envoys of Acme Inc. in “Tokyo”. .. Soviet-led";
        let mut es = vec![
            ent(2, 14),
            ent(19, 23),
            ent(34, 43),
            ent(47, 54),
            ent(56, 58),
            ent(59, 69),
        ];
        trim_entities(s, &mut es);
        let texts: Vec<String> = es
            .iter()
            .map(|e| s.chars().skip(e.start).take(e.end - e.start).collect())
            .collect();
        assert_eq!(
            texts,
            ["Abdul Ruff", "U.S.", "Acme Inc.", "Tokyo", "Soviet-led"]
        );
        // "Dr." is one word, as in CoNLL, so its dot cannot open the next entity.
        let words: Vec<&str> = NEWS_WORD
            .find_iter("Dr. Ruff")
            .map(|m| m.as_str())
            .collect();
        assert_eq!(words, ["Dr.", "Ruff"]);
    }

    #[test]
    fn directional_words_join_place_names() {
        let ent = |start, end, label: &str| Entity {
            start,
            end,
            label: label.into(),
            score: 0.9,
        };
        let s = "Japan claims the Northern Territories, not South Africa or North Korea.";
        let mut es = vec![ent(0, 5, "LOC"), ent(26, 37, "LOC"), ent(49, 55, "LOC")];
        extend_directional(s, &mut es);
        let texts: Vec<String> = es
            .iter()
            .map(|e| s.chars().skip(e.start).take(e.end - e.start).collect())
            .collect();
        assert_eq!(texts, ["Japan", "Northern Territories", "South Africa"]);
        // Not for people, not across another entity, not lower-case.
        let s = "the southern Kurils and North Putin";
        let mut es = vec![ent(13, 19, "LOC"), ent(30, 35, "PER")];
        extend_directional(s, &mut es);
        assert_eq!((es[0].start, es[1].start), (13, 30));
    }

    #[test]
    fn polarity_conventions() {
        let l = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            polarity_indices(&l(&["NEGATIVE", "POSITIVE"])),
            (Some(1), Some(0))
        );
        assert_eq!(
            polarity_indices(&l(&["LABEL_0", "LABEL_1"])),
            (Some(1), Some(0))
        );
        assert_eq!(
            polarity_indices(&l(&["negative", "neutral", "positive"])),
            (Some(2), Some(0))
        );
        assert_eq!(normalise_label("POSITIVE"), "positive");
    }

    #[test]
    fn random_model_runs_both_heads_and_long_sentences() {
        let (_d, spec) = tiny();
        let opts = InferOptions {
            sentiment_model: Some(spec.clone()),
            ner_model: Some(spec),
            max_window: 16,
            batch_size: 2,
            ..Default::default()
        };
        let a = Analyzer::new(&opts).expect("load");
        let long = "putin said tokyo was moscow. ".repeat(20);
        let sents = ["Tokyo condemned Moscow.", "", long.as_str()];
        let out = a.analyze(&sents).expect("analyze");
        assert_eq!(out.len(), 3);
        let s = out[0].sentiment.as_ref().expect("sentiment");
        assert!((0.0..=1.0).contains(&s.score) && (-1.0..=1.0).contains(&s.polarity));
        assert!(out[1].sentiment.is_none() && out[1].entities.is_empty());
        assert!(
            out[2].sentiment.is_some(),
            "long sentence is windowed, not dropped"
        );
        for (o, text) in out.iter().zip(sents) {
            let n = text.chars().count();
            for e in &o.entities {
                assert!(e.start < e.end && e.end <= n);
            }
        }
        // Same input, same output (deterministic inference, batches do not leak).
        let again = a.analyze(&sents[..1]).expect("analyze");
        let s2 = again[0].sentiment.as_ref().expect("sentiment");
        assert!((s.polarity - s2.polarity).abs() < 1e-4);
    }

    #[test]
    fn missing_head_and_bad_folder_are_clear_errors() {
        let d = tempfile::tempdir().expect("tmp");
        let err = LoadedModel::load(&ModelSpec::Local(d.path().to_path_buf()), Device::Cpu, 64)
            .expect_err("empty dir");
        assert!(err.to_string().contains("config.json not found"), "{err}");
        let (_d, spec) = tiny();
        let dir = match &spec {
            ModelSpec::Local(p) => p.clone(),
            _ => unreachable!(),
        };
        std::fs::remove_file(dir.join("model.safetensors")).expect("rm");
        let err = LoadedModel::load(&spec, Device::Cpu, 64).expect_err("no weights");
        assert!(err.to_string().contains("no weights found"), "{err}");
    }
}

#[cfg(test)]
mod default_model_tests {
    use super::*;

    #[test]
    fn embedded_model_gives_the_expected_labels() {
        let a = Analyzer::new(&InferOptions::default()).expect("embedded model loads");
        let sents = [
            "Vladimir Putin met Fumio Kishida in Tokyo on Monday.",
            "NATO leaders gathered in Brussels.",
            "The talks were a wonderful success and both sides were delighted.",
            "The talks were a disaster and the minister was furious.",
        ];
        let out = a.analyze(&sents).expect("analyze");
        let ents: Vec<(String, String)> = out[0]
            .entities
            .iter()
            .map(|e| {
                let t: String = sents[0]
                    .chars()
                    .skip(e.start)
                    .take(e.end - e.start)
                    .collect();
                (t, e.label.clone())
            })
            .collect();
        let want = |t: &str, l: &str| (t.to_string(), l.to_string());
        assert!(ents.contains(&want("Vladimir Putin", "PER")), "{ents:?}");
        assert!(ents.contains(&want("Fumio Kishida", "PER")), "{ents:?}");
        assert!(ents.contains(&want("Tokyo", "LOC")), "{ents:?}");
        assert_eq!(
            out[1].entities.first().map(|e| e.label.as_str()),
            Some("ORG")
        );
        let pos = out[2].sentiment.as_ref().expect("sentiment");
        let neg = out[3].sentiment.as_ref().expect("sentiment");
        assert_eq!(pos.label, "positive");
        assert_eq!(neg.label, "negative");
        assert!(pos.polarity > 0.5 && neg.polarity < -0.5);
    }
}
