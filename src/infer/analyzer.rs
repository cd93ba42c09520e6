//! [`Analyzer`]: loads (or reuses) the models named by [`InferOptions`] and runs them over
//! sentences, encoding each sentence once when both tasks share a model.

use std::collections::HashMap;
use std::sync::Arc;

use tch::Device;

use super::model::{load_cached, SharedModel, Task};
use super::{InferOptions, ModelInfo, ModelSpec, SentenceOutput};
use crate::error::{Error, Result};

/// Runs sentiment and NER over sentences. When both tasks use the same model, each
/// sentence is encoded once.
pub struct Analyzer {
    share_encoder: bool,
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
        Ok(Analyzer {
            sentiment: load(&opts.sentiment_model, Task::Sentiment)?,
            ner: load(&opts.ner_model, Task::Ner)?,
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
        match (&self.sentiment, &self.ner) {
            (Some(s), Some(n)) if self.share_encoder && Arc::ptr_eq(s, n) => {
                s.run(
                    sentences,
                    &[Task::Sentiment, Task::Ner],
                    self.batch_size,
                    &mut out,
                )?;
            }
            (s, n) => {
                if let Some(s) = s {
                    s.run(sentences, &[Task::Sentiment], self.batch_size, &mut out)?;
                }
                if let Some(n) = n {
                    n.run(sentences, &[Task::Ner], self.batch_size, &mut out)?;
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
