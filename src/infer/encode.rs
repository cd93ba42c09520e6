//! Running a model: tokenising sentences, cutting long ones into overlapping windows,
//! batching windows by length, encoding them, and merging the heads' outputs back per
//! sentence.

use std::sync::MutexGuard;

use rayon::prelude::*;
use tch::{Device, Kind, Tensor};

use super::casing::casing_ids;
use super::model::{LoadedModel, Replica, Task};
use super::ner::{decode_entities, extend_directional, news_word_ids, trim_entities, TokenProbs};
use super::sentiment::{polarity_indices, sentiment_from_probs};
use super::SentenceOutput;
use crate::error::{Error, Result};

/// The heads' label probabilities for one batch, row-major: sentiment `[row, label]`,
/// NER `[row, position, label]` with rows `max_len` positions long.
struct BatchProbs {
    sentiment: Option<Vec<f32>>,
    ner: Option<Vec<f32>>,
    max_len: usize,
}

/// One sentence's sentiment, summed over its windows: each window's label probabilities
/// weighted by its length in tokens.
#[derive(Clone)]
struct SentimentSum {
    /// Per label: sum of probability × window length.
    weighted: Vec<f32>,
    /// Sum of the window lengths.
    weight: f32,
}

impl SentimentSum {
    fn new(n_labels: usize) -> Self {
        SentimentSum {
            weighted: vec![0.0; n_labels],
            weight: 0.0,
        }
    }

    /// The length-weighted mean probability of each label (`None` without any window).
    fn mean(&self) -> Option<Vec<f32>> {
        (self.weight > 0.0).then(|| self.weighted.iter().map(|a| a / self.weight).collect())
    }
}

/// A token of a sentence after tokenisation.
pub(super) struct Tokens {
    pub(super) ids: Vec<u32>,
    /// Character offsets into the sentence.
    pub(super) offsets: Vec<(usize, usize)>,
    pub(super) words: Vec<Option<u32>>,
    /// Casing class of each token (empty when the model takes no casing classes).
    pub(super) casing: Vec<i64>,
}

/// A window of tokens of one sentence, fed to the encoder as one row.
#[derive(Clone, Copy)]
struct Piece {
    sent: usize,
    start: usize,
    end: usize,
}

/// Rows of a batch are padded to a multiple of this many tokens.
const PAD_MULTIPLE: usize = 8;

/// The length a window of `len` tokens (special tokens included) is padded to: a function
/// of its own length only, so a sentence is encoded with the same shapes whatever it is
/// batched with. Otherwise float rounding inside attention varies with the padding, and
/// int8 rounding can amplify that to the third decimal of a score; with it, a sentence gets
/// the same numbers in any run, chunking or Spark partitioning.
fn padded_len(len: usize, window: usize) -> usize {
    (len.div_ceil(PAD_MULTIPLE) * PAD_MULTIPLE)
        .min(window)
        .max(len)
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
                    casing: if self.casing {
                        casing_ids(s, &offsets)
                    } else {
                        Vec::new()
                    },
                    offsets,
                }
            })
            .collect())
    }

    /// Run the encoder once per window and every requested head on it. Batches are
    /// encoded in parallel, one per replica (stream) at a time, on the current rayon pool.
    pub(super) fn run(
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
        // Length-bucketed batches: windows sorted by length; a batch holds windows of one
        // padded length only (see `padded_len`).
        let padded = |i: usize| padded_len(pieces[i].end - pieces[i].start + 2, self.window);
        let mut order: Vec<usize> = (0..pieces.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(pieces[i].end - pieces[i].start));
        let batches: Vec<&[usize]> = order
            .chunk_by(|&a, &b| padded(a) == padded(b))
            .flat_map(|bucket| bucket.chunks(batch_size.max(1)))
            .collect();

        let n_labels = |t: Task| self.labels.get(&t).map_or(0, Vec::len);
        let (n_sent_labels, n_ner_labels) = (n_labels(Task::Sentiment), n_labels(Task::Ner));
        let encode =
            |batch: &&[usize]| self.encode_batch(batch, &pieces, &toks, want_sent, want_ner);
        let encoded: Vec<BatchProbs> = if self.replicas.len() > 1 && batches.len() > 1 {
            batches.par_iter().map(encode).collect::<Result<_>>()?
        } else {
            batches.iter().map(encode).collect::<Result<_>>()?
        };

        let mut sent_sums = vec![SentimentSum::new(n_sent_labels); sentences.len()];
        // Per sentence and token: the label probabilities of the window where it is most
        // central.
        let mut tok_probs: Vec<TokenProbs> = toks
            .iter()
            .map(|t| TokenProbs::new(if want_ner { t.ids.len() } else { 0 }, n_ner_labels))
            .collect();
        for (batch, probs) in batches.iter().zip(&encoded) {
            for (row, &pi) in batch.iter().enumerate() {
                let p = pieces[pi];
                let len = p.end - p.start;
                if let Some(sp) = &probs.sentiment {
                    let sum = &mut sent_sums[p.sent];
                    let w = len as f32;
                    for (k, a) in sum.weighted.iter_mut().enumerate() {
                        *a += sp[row * n_sent_labels + k] * w;
                    }
                    sum.weight += w;
                }
                if let Some(ner) = &probs.ner {
                    for j in 0..len {
                        // Prefer the window where the token is most central (most context).
                        let centrality = j.min(len - 1 - j) as i64;
                        let k = (row * probs.max_len + 1 + j) * n_ner_labels;
                        tok_probs[p.sent].offer(p.start + j, centrality, &ner[k..k + n_ner_labels]);
                    }
                }
            }
        }

        if want_sent {
            let labels = &self.labels[&Task::Sentiment];
            let (pos, neg) = polarity_indices(labels);
            for (o, sum) in out.iter_mut().zip(&sent_sums) {
                if let Some(probs) = sum.mean() {
                    o.sentiment = Some(sentiment_from_probs(&probs, labels, pos, neg));
                }
            }
        }
        if want_ner {
            let labels = &self.labels[&Task::Ner];
            for (((o, t), probs), text) in out.iter_mut().zip(&toks).zip(&tok_probs).zip(sentences)
            {
                o.entities = decode_entities(t, probs, labels, self.ner_decoding);
                extend_directional(text, &mut o.entities);
                trim_entities(text, &mut o.entities);
            }
        }
        Ok(())
    }

    /// The replica this thread encodes with: a free one, else (all busy) the one of this
    /// rayon thread's index, waited for.
    fn replica(&self) -> Result<MutexGuard<'_, Replica>> {
        for r in &self.replicas {
            if let Ok(g) = r.try_lock() {
                return Ok(g);
            }
        }
        let i = rayon::current_thread_index().unwrap_or(0) % self.replicas.len();
        self.replicas[i]
            .lock()
            .map_err(|_| Error::Inference("model replica poisoned".into()))
    }

    /// Encode one batch of windows and run the requested heads.
    fn encode_batch(
        &self,
        batch: &[usize],
        pieces: &[Piece],
        toks: &[Tokens],
        want_sent: bool,
        want_ner: bool,
    ) -> Result<BatchProbs> {
        let longest = batch
            .iter()
            .map(|&i| pieces[i].end - pieces[i].start)
            .max()
            .unwrap_or(0);
        let max_len = padded_len(longest + 2, self.window);
        let b = batch.len();
        let mut ids = vec![self.pad; b * max_len];
        let mut mask = vec![0i64; b * max_len];
        // Token-type ids: the casing classes, or 0 (also for [CLS], [SEP] and padding).
        let mut types = vec![0i64; b * max_len];
        for (row, &pi) in batch.iter().enumerate() {
            let p = pieces[pi];
            let base = row * max_len;
            ids[base] = self.cls;
            for (j, &t) in toks[p.sent].ids[p.start..p.end].iter().enumerate() {
                ids[base + 1 + j] = i64::from(t);
            }
            if let Some(c) = toks[p.sent].casing.get(p.start..p.end) {
                types[base + 1..base + 1 + c.len()].copy_from_slice(c);
            }
            let len = p.end - p.start;
            ids[base + 1 + len] = self.sep;
            mask[base..base + len + 2].iter_mut().for_each(|m| *m = 1);
        }
        let shape = [b as i64, max_len as i64];
        let tensor = |v: &[i64]| Tensor::from_slice(v).view(shape).to_device(self.device);
        let (ids_t, mask_t, type_t) = (tensor(&ids), tensor(&mask), tensor(&types));
        let replica = self.replica()?;
        tch::no_grad(|| -> Result<BatchProbs> {
            let o = replica.encoder.forward(&ids_t, &mask_t, &type_t)?;
            let probs = |task: Task, x: &Tensor| -> Result<Vec<f32>> {
                let head = replica
                    .heads
                    .get(&task)
                    .ok_or_else(|| Error::Inference(format!("no {task:?} head")))?;
                to_vec_f32(&head.forward(x)?.softmax(-1, Kind::Float))
            };
            let sentiment = if want_sent {
                Some(probs(Task::Sentiment, &o.pooled)?)
            } else {
                None
            };
            let ner = if want_ner {
                Some(probs(Task::Ner, &o.hidden)?)
            } else {
                None
            };
            Ok(BatchProbs {
                sentiment,
                ner,
                max_len,
            })
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padding_depends_on_the_window_length_only() {
        assert_eq!(padded_len(3, 256), 8);
        assert_eq!(padded_len(8, 256), 8);
        assert_eq!(padded_len(9, 256), 16);
        assert_eq!(padded_len(254, 256), 256);
        // A window that is not a multiple of 8 caps the padding, never cuts a window.
        assert_eq!(padded_len(99, 100), 100);
        assert_eq!(padded_len(100, 100), 100);
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
}
