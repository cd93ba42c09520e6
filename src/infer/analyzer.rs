//! [`Analyzer`]: loads (or reuses) the models named by [`InferOptions`] and runs them over
//! sentences, encoding each sentence once when both tasks share a model.

use std::collections::HashMap;
use std::sync::Arc;

use tch::Device;

use super::model::{load_cached, SharedModel, Task};
use super::{Entity, InferOptions, ModelInfo, ModelSpec, SentenceOutput};
use crate::error::{Error, Result};

/// Runs sentiment and NER over sentences. When both tasks use the same model, each
/// sentence is encoded once.
///
/// Mention sentiment: when sentiment and NER come from the same model and it has a target
/// head, every entity mention also gets the sentiment toward it, from the encoder pass that
/// NER reads ([`Entity::sentiment`](super::Entity::sentiment)). With a separate sentiment
/// model (say a user's SST-2 model) the target head does not run, so that all the
/// sentiment of a run comes from the model chosen for sentiment; nor when sentiment is off.
pub struct Analyzer {
    share_encoder: bool,
    /// Run the NER model's target head (see above).
    target: bool,
    sentiment: Option<SharedModel>,
    ner: Option<SharedModel>,
    batch_size: usize,
    /// Encoder streams (batches encoded at once), each with one libtorch thread on CPU.
    streams: usize,
    /// libtorch intra-op threads while analysing (`None`: leave libtorch's setting).
    intra_op_threads: Option<usize>,
}

impl std::fmt::Debug for Analyzer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyzer")
            .field("batch_size", &self.batch_size)
            .field("streams", &self.streams)
            .finish()
    }
}

/// CPU threads when the user sets none: the machine's cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Analyzer {
    /// Load (or reuse) the models named by `opts`.
    pub fn new(opts: &InferOptions) -> Result<Self> {
        opts.validate()?;
        let device = opts.device.resolve()?;
        // On CPU, independent batches in parallel (one single-threaded stream per core) beat
        // one batch at a time spread over the cores by libtorch's OpenMP threads: no
        // barriers, and no spinning threads fighting another process for the cores.
        let streams = if device == Device::Cpu && opts.encoder_streams {
            opts.threads.unwrap_or_else(default_threads)
        } else {
            1
        };
        // Without streams, libtorch's intra-op threads do the parallel work (the caller's
        // setting, else all cores).
        let intra_op_threads = if device == Device::Cpu && opts.encoder_streams {
            Some(1)
        } else {
            opts.threads
        };
        let load = |spec: &Option<ModelSpec>, task: Task| -> Result<Option<SharedModel>> {
            let Some(spec) = spec else { return Ok(None) };
            let m = load_cached(spec, device, opts.max_window, opts.precision, streams)?;
            if !m.has(task) {
                let what = if task == Task::Sentiment {
                    "sentiment (sequence classification)"
                } else {
                    "NER (token classification)"
                };
                return Err(Error::model(spec, format!("has no {what} head")));
            }
            Ok(Some(m))
        };
        let sentiment = load(&opts.sentiment_model, Task::Sentiment)?;
        let ner = load(&opts.ner_model, Task::Ner)?;
        let target = match (&sentiment, &ner) {
            (Some(s), Some(n)) => Arc::ptr_eq(s, n) && n.has(Task::Target),
            _ => false,
        };
        Ok(Analyzer {
            sentiment,
            ner,
            target,
            batch_size: opts.batch_size_on(device),
            share_encoder: opts.share_encoder,
            streams,
            intra_op_threads,
        })
    }

    /// Model descriptions for the manifest.
    pub fn models(&self) -> Result<HashMap<String, ModelInfo>> {
        let mut out = HashMap::new();
        if let Some(m) = &self.sentiment {
            out.insert("sentiment".to_string(), m.info());
        }
        if let Some(m) = &self.ner {
            out.insert("ner".to_string(), m.info());
        }
        Ok(out)
    }

    /// Where the sentiment of entity mentions comes from: `target` (the target head: the
    /// sentiment toward each mention), `sentence` (the sentiment of the mention's sentence:
    /// no target head, or a separate sentiment model), `None` without sentiment or NER.
    pub fn mention_sentiment(&self) -> Option<&'static str> {
        match (&self.sentiment, &self.ner) {
            (Some(_), Some(_)) if self.target => Some("target"),
            (Some(_), Some(_)) => Some("sentence"),
            _ => None,
        }
    }

    /// The sentiment toward given mentions — `targets[i]` the `(start, end)` character
    /// spans of sentence `i` — and each sentence's sentiment, in one encoder pass per
    /// sentence (evaluation on gold targets, e.g. NewsMTSC). The returned entities are the
    /// given spans, in order, with an empty label; needs a model whose target head runs
    /// (see [`Analyzer::mention_sentiment`]).
    pub fn analyze_targets(
        &self,
        sentences: &[&str],
        targets: &[Vec<(usize, usize)>],
    ) -> Result<Vec<SentenceOutput>> {
        if targets.len() != sentences.len() {
            return Err(Error::option(
                "targets",
                format!(
                    "{} lists of spans for {} sentences",
                    targets.len(),
                    sentences.len()
                ),
            ));
        }
        let model = match (&self.sentiment, &self.ner) {
            (Some(m), Some(_)) if self.target => m,
            _ => {
                return Err(Error::option(
                    "targets",
                    "the sentiment toward given spans needs one model for sentiment and NER \
                     with a target head (the default model has one)",
                ))
            }
        };
        let mut out: Vec<SentenceOutput> = targets
            .iter()
            .map(|spans| SentenceOutput {
                sentiment: None,
                entities: spans
                    .iter()
                    .map(|&(start, end)| Entity {
                        start,
                        end,
                        label: String::new(),
                        score: 0.0,
                        sentiment: None,
                    })
                    .collect(),
            })
            .collect();
        if sentences.is_empty() {
            return Ok(out);
        }
        let caller = tch::get_num_threads();
        if let Some(n) = self.intra_op_threads {
            rayon::broadcast(|_| tch::set_num_threads(n as i32));
            tch::set_num_threads(n as i32);
        }
        let res = model.run_targets(sentences, self.batch_size, &mut out);
        tch::set_num_threads(caller);
        res.map(|()| out)
    }

    /// Encoder streams: batches encoded at once.
    pub fn streams(&self) -> usize {
        self.streams
    }

    /// Windows per encoder batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// Infer sentiment and entities for each sentence.
    pub fn analyze(&self, sentences: &[&str]) -> Result<Vec<SentenceOutput>> {
        let out = vec![SentenceOutput::default(); sentences.len()];
        if sentences.is_empty() {
            return Ok(out);
        }
        let Some(n) = self.intra_op_threads else {
            return self.analyze_into(sentences, out);
        };
        // Each stream runs libtorch single-threaded (`n` = 1; without streams, `n` threads);
        // the caller's setting comes back after (it is process-wide, and may be a
        // notebook's own torch work).
        let caller = tch::get_num_threads();
        rayon::broadcast(|_| tch::set_num_threads(n as i32));
        tch::set_num_threads(n as i32);
        let res = self.analyze_into(sentences, out);
        tch::set_num_threads(caller);
        res
    }

    fn analyze_into(
        &self,
        sentences: &[&str],
        mut out: Vec<SentenceOutput>,
    ) -> Result<Vec<SentenceOutput>> {
        let ner_tasks: &[Task] = if self.target {
            &[Task::Ner, Task::Target]
        } else {
            &[Task::Ner]
        };
        match (&self.sentiment, &self.ner) {
            (Some(s), Some(n)) if self.share_encoder && Arc::ptr_eq(s, n) => {
                let tasks = [&[Task::Sentiment][..], ner_tasks].concat();
                s.run(sentences, &tasks, self.batch_size, &mut out)?;
            }
            (s, n) => {
                if let Some(s) = s {
                    s.run(sentences, &[Task::Sentiment], self.batch_size, &mut out)?;
                }
                if let Some(n) = n {
                    n.run(sentences, ner_tasks, self.batch_size, &mut out)?;
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infer::tests::tiny;

    #[test]
    fn random_model_runs_both_heads_and_long_sentences() {
        let (_d, spec) = tiny();
        let opts = InferOptions {
            sentiment_model: Some(spec.clone()),
            ner_model: Some(spec),
            max_window: 16,
            batch_size: Some(2),
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

    fn polarities(spec: &ModelSpec, sents: &[&str]) -> Vec<f32> {
        let opts = InferOptions {
            sentiment_model: Some(spec.clone()),
            ner_model: Some(spec.clone()),
            max_window: 16,
            batch_size: Some(2),
            ..Default::default()
        };
        let a = Analyzer::new(&opts).expect("load");
        a.analyze(sents)
            .expect("analyze")
            .iter()
            .map(|o| o.sentiment.as_ref().expect("sentiment").polarity)
            .collect()
    }

    #[test]
    fn casing_classes_reach_the_encoder_only_when_the_model_takes_them() {
        // The tokenizer lower-cases, so both spellings give the same word pieces; only the
        // casing classes (token-type ids) can tell them apart. Long enough to be windowed.
        let tail = " said putin in tokyo.".repeat(6);
        let lower = format!("tokyo condemned moscow{tail}");
        let cased = format!("Tokyo condemned MOSCOW{tail}");
        let sents = [lower.as_str(), cased.as_str()];
        let (_d, plain) = tiny();
        let p = polarities(&plain, &sents);
        assert!(
            (p[0] - p[1]).abs() < 1e-6,
            "a plain BERT ignores capitals: {p:?}"
        );

        let d = tempfile::tempdir().expect("tmp");
        crate::infer::testing::write_random_model_with(d.path(), None, 7, true).expect("write");
        let casing = ModelSpec::Local(d.path().to_path_buf());
        let p = polarities(&casing, &sents);
        assert!(
            (p[0] - p[1]).abs() > 1e-6,
            "casing classes change the input: {p:?}"
        );
    }
}

#[cfg(test)]
mod stream_tests {
    use super::*;
    use crate::infer::tests::tiny;
    use crate::infer::Precision;

    fn outputs(
        spec: &ModelSpec,
        precision: Precision,
        threads: usize,
        encoder_streams: bool,
    ) -> Vec<SentenceOutput> {
        let opts = InferOptions {
            sentiment_model: Some(spec.clone()),
            ner_model: Some(spec.clone()),
            batch_size: Some(2),
            threads: Some(threads),
            precision,
            encoder_streams,
            ..Default::default()
        };
        let a = Analyzer::new(&opts).expect("load");
        assert_eq!(a.streams(), if encoder_streams { threads } else { 1 });
        let sents: Vec<String> = (0..23)
            .map(|i| {
                format!(
                    "Tokyo said {} things to Moscow and Putin.",
                    "many ".repeat(i % 7)
                )
            })
            .collect();
        let refs: Vec<&str> = sents.iter().map(String::as_str).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool");
        pool.install(|| a.analyze(&refs)).expect("analyze")
    }

    #[test]
    fn parallel_streams_give_the_single_stream_results() {
        let (_d, spec) = tiny();
        for precision in [Precision::Fp32, Precision::Int8] {
            let one = outputs(&spec, precision, 1, true);
            let three = outputs(&spec, precision, 3, true);
            assert_eq!(one, three, "{precision:?}");
            assert!(one.iter().all(|o| o.sentiment.is_some()));
            // One batch at a time over libtorch's threads (the way before streams): the
            // same labels, numbers equal up to the order of float sums.
            // A sentence gets the same numbers alone as batched with others.
            let opts = InferOptions {
                sentiment_model: Some(spec.clone()),
                ner_model: Some(spec.clone()),
                precision,
                ..Default::default()
            };
            let a = Analyzer::new(&opts).expect("load");
            let text = "Tokyo said many many things to Moscow and Putin.";
            let alone = a.analyze(&[text]).expect("alone");
            let long = "word ".repeat(40);
            let mixed = a.analyze(&[long.as_str(), text, "Short."]).expect("mixed");
            assert_eq!(alone[0], mixed[1], "{precision:?}");
            let intra = outputs(&spec, precision, 3, false);
            for (a, b) in one.iter().zip(&intra) {
                let (sa, sb) = (a.sentiment.as_ref(), b.sentiment.as_ref());
                assert_eq!(sa.map(|s| &s.label), sb.map(|s| &s.label));
                let pa = sa.map_or(0.0, |s| s.polarity);
                assert!((pa - sb.map_or(0.0, |s| s.polarity)).abs() < 1e-4);
            }
        }
    }
}

#[cfg(test)]
mod default_model_tests {
    use super::*;

    #[test]
    fn embedded_model_gives_the_expected_labels_in_both_precisions() {
        for precision in [crate::infer::Precision::Fp32, crate::infer::Precision::Int8] {
            expected_labels(&InferOptions {
                precision,
                ..Default::default()
            });
        }
    }

    fn expected_labels(opts: &InferOptions) {
        let a = Analyzer::new(opts).expect("embedded model loads");
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

#[cfg(test)]
mod target_tests {
    use std::path::Path;

    use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
    use tch::{nn, Kind, Tensor};

    use super::*;
    use crate::infer::testing::{write_random_model_opts, RandomModel};
    use crate::infer::{Entity, Precision};

    fn model(pooling: Option<&[&str]>, sentiment_classes: usize) -> (tempfile::TempDir, ModelSpec) {
        let d = tempfile::tempdir().expect("tmp");
        let what = RandomModel {
            casing: false,
            sentiment_classes,
            target_pooling: pooling.map(|p| p.iter().map(|s| s.to_string()).collect()),
        };
        write_random_model_opts(d.path(), None, 11, &what).expect("write");
        let spec = ModelSpec::Local(d.path().to_path_buf());
        (d, spec)
    }

    fn analyzer(sentiment: Option<&ModelSpec>, ner: &ModelSpec, max_window: usize) -> Analyzer {
        Analyzer::new(&InferOptions {
            sentiment_model: sentiment.cloned(),
            ner_model: Some(ner.clone()),
            precision: Precision::Fp32,
            threads: Some(1),
            max_window,
            batch_size: Some(3),
            ..Default::default()
        })
        .expect("load")
    }

    /// Sentences of the tiny built-in vocabulary, some with several entities.
    fn sentences() -> Vec<String> {
        let words = [
            "tokyo", "moscow", "putin", "japan", "russia", "the", "said", "was",
        ];
        (0..40)
            .map(|i| {
                (0..9)
                    .map(|k| words[(i * 7 + k * (i % 5 + 1)) % words.len()])
                    .collect::<Vec<_>>()
                    .join(" ")
                    + "."
            })
            .collect()
    }

    /// The target head's probabilities for the mention at characters `start..end` of
    /// `text`, computed without presslens' inference code: rust-bert's `BertModel` on the
    /// sentence's tokens (`[CLS] … [SEP]`), the parts of `pooling` from its outputs with
    /// tensor operations, then the head's linear layer and a softmax. With `content` (the
    /// tokens of a window) and a longer sentence: on the window (cut as `make_pieces` cuts
    /// them) that holds the mention with the most context; `None` when none holds it.
    fn reference(
        dir: &Path,
        tok: &tokenizers::Tokenizer,
        pooling: &[&str],
        text: &str,
        (start, end): (usize, usize),
        content: usize,
    ) -> Option<Vec<f32>> {
        let cfg_text = std::fs::read_to_string(dir.join("config.json")).expect("config");
        let cfg: BertConfig = serde_json::from_str(&cfg_text).expect("bert config");
        let mut vs = nn::VarStore::new(tch::Device::Cpu);
        let bert =
            BertModel::<BertEmbeddings>::new_with_optional_pooler(vs.root() / "bert", &cfg, true);
        let head = nn::linear(
            vs.root() / "target_classifier",
            32 * pooling.len() as i64,
            3,
            Default::default(),
        );
        vs.load(dir.join("model.safetensors")).expect("weights");
        let enc = tok.encode_char_offsets(text, false).expect("tokens");
        let cls = i64::from(tok.token_to_id("[CLS]").expect("cls"));
        let sep = i64::from(tok.token_to_id("[SEP]").expect("sep"));
        let tokens: Vec<usize> = enc
            .get_offsets()
            .iter()
            .enumerate()
            .filter(|&(_, &(s, e))| e > s && s < end && e > start)
            .map(|(i, _)| i)
            .collect();
        let (a, b) = (*tokens.first()?, *tokens.last()?);
        let n_tok = enc.get_ids().len();
        let mut windows = vec![(0, n_tok)];
        if n_tok > content {
            windows.clear();
            let (stride, mut ws) = (content / 2, 0);
            loop {
                let we = (ws + content).min(n_tok);
                windows.push((ws, we));
                if we == n_tok {
                    break;
                }
                ws = if we + stride > n_tok {
                    n_tok - content
                } else {
                    ws + stride
                };
            }
        }
        let (ws, we) = windows
            .iter()
            .filter(|&&(ws, we)| ws <= a && b < we)
            .rev()
            .max_by_key(|&&(ws, we)| (a - ws).min(we - 1 - b))
            .copied()?;
        let mut ids = vec![cls];
        ids.extend(enc.get_ids()[ws..we].iter().map(|&i| i64::from(i)));
        ids.push(sep);
        let pieces: Vec<i64> = tokens.iter().map(|&i| (i - ws + 1) as i64).collect();
        let n = ids.len() as i64;
        let ids = Tensor::from_slice(&ids).view([1, n]);
        let mask = Tensor::ones([1, n], (Kind::Int64, tch::Device::Cpu));
        let types = Tensor::zeros([1, n], (Kind::Int64, tch::Device::Cpu));
        let out = tch::no_grad(|| {
            bert.forward_t(
                Some(&ids),
                Some(&mask),
                Some(&types),
                None,
                None,
                None,
                None,
                false,
            )
        })
        .expect("forward");
        let hidden = out.hidden_state.get(0);
        let mention = hidden.index_select(0, &Tensor::from_slice(&pieces));
        let parts: Vec<Tensor> = pooling
            .iter()
            .map(|p| match *p {
                "cls" => hidden.get(0),
                "mean" => mention.mean_dim([0i64].as_slice(), false, Kind::Float),
                "max" => mention.amax([0i64].as_slice(), false),
                _ => out.pooled_output.as_ref().expect("pooler").get(0),
            })
            .collect();
        let x = Tensor::cat(&parts, 0);
        let probs = tch::no_grad(|| x.apply(&head).softmax(-1, Kind::Float));
        Some(Vec::<f32>::try_from(&probs).expect("probs"))
    }

    fn entities_with_text(out: &[SentenceOutput], sents: &[String]) -> Vec<(usize, Entity)> {
        out.iter()
            .enumerate()
            .flat_map(|(i, o)| o.entities.iter().map(move |e| (i, e.clone())))
            .filter(|(i, e)| e.end <= sents[*i].chars().count())
            .collect()
    }

    #[test]
    fn mentions_get_the_target_heads_sentiment_toward_them() {
        for pooling in [
            &["cls", "mean"][..],
            &["mean", "max", "cls"][..],
            &["pooler", "max"][..],
        ] {
            let (d, spec) = model(Some(pooling), 3);
            let a = analyzer(Some(&spec), &spec, 64);
            assert_eq!(a.mention_sentiment(), Some("target"));
            let info = &a.models().expect("models")["ner"];
            assert!(info.target_head && info.tasks.contains(&"target".to_string()));
            assert_eq!(info.sentiment_classes, Some(3));
            let sents = sentences();
            let refs: Vec<&str> = sents.iter().map(String::as_str).collect();
            let out = a.analyze(&refs).expect("analyze");
            let ents = entities_with_text(&out, &sents);
            assert!(ents.len() >= 10, "the random NER finds entities: {ents:?}");
            let model = a.ner.as_ref().expect("ner model");
            let labels = &model.labels[&Task::Target];
            for (i, e) in &ents {
                let s = e.sentiment.as_ref().expect("mention sentiment");
                let span = (e.start, e.end);
                let p = reference(d.path(), &model.tokenizer, pooling, &sents[*i], span, 62)
                    .expect("one window");
                let want = p[2] - p[0];
                assert!(
                    (s.polarity - want).abs() < 1e-4,
                    "{pooling:?} sentence {i} {e:?}: {} vs reference {want}",
                    s.polarity
                );
                let best = (0..3).fold(0, |b, k| if p[k] > p[b] { k } else { b });
                assert_eq!(s.label, labels[best].to_lowercase());
                assert!((s.score - p[best]).abs() < 1e-4);
            }
            // Two mentions of one sentence: the sentiment toward each, not one for both.
            let mut differ = 0;
            for (i, o) in out.iter().enumerate() {
                let pols: Vec<f32> = o
                    .entities
                    .iter()
                    .filter_map(|e| e.sentiment.as_ref().map(|s| s.polarity))
                    .collect();
                if pols.len() >= 2 {
                    let spread = pols.iter().copied().fold(f32::MIN, f32::max)
                        - pols.iter().copied().fold(f32::MAX, f32::min);
                    assert!(spread > 1e-3, "sentence {i}: {pols:?}");
                    differ += 1;
                }
            }
            assert!(
                differ >= 3,
                "{pooling:?}: sentences with two mentions: {differ}"
            );
        }
    }

    #[test]
    fn long_sentences_take_each_mention_from_the_window_where_it_is_most_central() {
        let pooling = ["cls", "mean", "max"];
        let (d, spec) = model(Some(&pooling), 3);
        let long = sentences()[..6].join(" ");
        // Windows of 14 tokens (16 with [CLS] and [SEP]), the sentence some 60 tokens.
        let a = analyzer(Some(&spec), &spec, 16);
        let out = a.analyze(&[long.as_str()]).expect("analyze");
        let model = a.ner.as_ref().expect("ner model");
        let mut compared = 0;
        for e in &out[0].entities {
            let s = e.sentiment.as_ref().expect("every mention has one");
            let span = (e.start, e.end);
            let Some(p) = reference(d.path(), &model.tokenizer, &pooling, &long, span, 14) else {
                continue; // a mention longer than a window
            };
            let want = p[2] - p[0];
            assert!(
                (s.polarity - want).abs() < 1e-4,
                "{e:?}: {} vs {want}",
                s.polarity
            );
            compared += 1;
        }
        assert!(compared >= 5, "mentions compared: {compared}");
    }

    #[test]
    fn without_a_target_head_or_with_another_sentiment_model_mentions_get_none() {
        let sents = sentences();
        let refs: Vec<&str> = sents.iter().map(String::as_str).collect();
        // An SST-2 style multi-task model without a target head.
        let (_d, plain) = model(None, 2);
        let a = analyzer(Some(&plain), &plain, 64);
        assert_eq!(a.mention_sentiment(), Some("sentence"));
        let info = &a.models().expect("models")["sentiment"];
        assert_eq!((info.sentiment_classes, info.target_head), (Some(2), false));
        let out = a.analyze(&refs).expect("analyze");
        assert!(out.iter().any(|o| !o.entities.is_empty()));
        assert!(out
            .iter()
            .flat_map(|o| &o.entities)
            .all(|e| e.sentiment.is_none()));
        // NER from a model with a target head, sentiment from another model: the target
        // head does not run, all sentiment comes from the sentiment model.
        let (_t, target) = model(Some(&["cls", "mean"]), 3);
        let a = analyzer(Some(&plain), &target, 64);
        assert_eq!(a.mention_sentiment(), Some("sentence"));
        let out = a.analyze(&refs).expect("analyze");
        assert!(out
            .iter()
            .flat_map(|o| &o.entities)
            .all(|e| e.sentiment.is_none()));
        // Sentiment off: none anywhere.
        let a = analyzer(None, &target, 64);
        assert_eq!(a.mention_sentiment(), None);
        let out = a.analyze(&refs).expect("analyze");
        assert!(out.iter().any(|o| !o.entities.is_empty()));
        assert!(out
            .iter()
            .all(|o| o.sentiment.is_none() && o.entities.iter().all(|e| e.sentiment.is_none())));
    }

    #[test]
    fn target_heads_are_checked_when_a_model_loads() {
        let (d, spec) = model(Some(&["cls", "mean"]), 3);
        let path = d.path().join("config.json");
        let cfg: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        let load =
            || crate::infer::LoadedModel::load(&spec, tch::Device::Cpu, 64, Precision::Fp32, 1);
        for (pooling, msg) in [
            (
                serde_json::json!(["cls", "median"]),
                "must be cls, mean, max or pooler",
            ),
            (serde_json::json!([]), "non-empty"),
            (serde_json::json!(["cls"]), "do not match config.json"),
        ] {
            let mut bad = cfg.clone();
            bad["presslens_heads"]["target"]["pooling"] = pooling;
            std::fs::write(&path, bad.to_string()).expect("write");
            let err = load().expect_err("bad target head");
            assert!(err.to_string().contains(msg), "{err}");
        }
        let mut bad = cfg.clone();
        bad["presslens_heads"]["target"]["kind"] = "token".into();
        std::fs::write(&path, bad.to_string()).expect("write");
        let err = load().expect_err("wrong kind");
        assert!(err.to_string().contains("has kind 'token'"), "{err}");
    }
}
