//! Running a model: tokenising sentences, cutting long ones into overlapping windows,
//! batching windows by length, encoding them, and merging the heads' outputs back per
//! sentence.

use std::sync::MutexGuard;

use rayon::prelude::*;
use tch::{Device, Kind, Tensor};

use super::casing::casing_ids;
use super::model::{LoadedModel, Pooling, Replica, TargetHead, Task};
use super::ner::{decode_entities, extend_directional, news_word_ids, trim_entities, TokenProbs};
use super::sentiment::{polarity_indices, sentiment_from_probs};
use super::SentenceOutput;
use crate::error::{Error, Result};

/// The heads' label probabilities for one batch, row-major: sentiment `[row, label]`,
/// NER `[row, position, label]` with rows `max_len` positions long; and the encoder
/// outputs the target head reads, when it runs.
struct BatchProbs {
    sentiment: Option<Vec<f32>>,
    ner: Option<Vec<f32>>,
    max_len: usize,
    hidden: Option<Hidden>,
}

/// A batch's encoder outputs, row-major: the last hidden states `[row, position, hidden]`
/// and, when the target head reads it, the pooler output `[row, hidden]`.
struct Hidden {
    states: Vec<f32>,
    pooled: Option<Vec<f32>>,
}

/// Which heads a run computes.
#[derive(Debug, Clone, Copy)]
struct Want {
    sentiment: bool,
    ner: bool,
    /// The target head, for every entity mention (needs `ner`).
    target: bool,
    /// The mentions are given (`out`'s entities, as [`LoadedModel::run_targets`] gets
    /// them), not decoded from the NER head.
    given: bool,
}

/// Sentences whose hidden states are kept at once for the target head: groups of about
/// this many tokens (MiniLM, 384 floats per token: 400 MB). Groups of 32k tokens gave 0.90×
/// version 3's end-to-end throughput, 256k 0.95× (`presslens bench seeds --min-sentences
/// 2000`, int8, medians of interleaved rounds; issue 25): each group ends with idle streams.
const TARGET_GROUP_TOKENS: usize = 256 * 1024;

/// A window of a sentence and where the encoder's outputs for it are: batch and row.
#[derive(Debug, Clone, Copy)]
struct Window {
    piece: usize,
    batch: usize,
    row: usize,
}

/// The target head's input for the mention at characters `start..end` of a sentence: the
/// parts of `head.pooling` concatenated, from one window of the sentence. The mention's
/// word pieces are the tokens whose character offsets overlap it; the window is the one
/// that holds all of them with the most context on the shorter side (as NER takes each
/// token from the window where it is most central; the first on ties), else — a mention
/// longer than a window — the one holding most of them, whose pieces alone are pooled.
/// `None` when no token overlaps the mention.
fn mention_input(
    head: &TargetHead,
    t: &Tokens,
    start: usize,
    end: usize,
    windows: &[Window],
    pieces: &[Piece],
    encoded: &[BatchProbs],
) -> Option<Vec<f32>> {
    let tokens: Vec<usize> = t
        .offsets
        .iter()
        .enumerate()
        .filter(|&(_, &(s, e))| e > s && s < end && e > start)
        .map(|(i, _)| i)
        .collect();
    let (&a, &b) = (tokens.first()?, tokens.last()?);
    let mut best: Option<((bool, usize), Window)> = None;
    for w in windows {
        let p = pieces[w.piece];
        let key = if p.start <= a && b < p.end {
            (true, (a - p.start).min(p.end - 1 - b))
        } else {
            let inside = tokens
                .iter()
                .filter(|&&i| p.start <= i && i < p.end)
                .count();
            if inside == 0 {
                continue;
            }
            (false, inside)
        };
        if best.as_ref().is_none_or(|(k, _)| key > *k) {
            best = Some((key, *w));
        }
    }
    let (_, w) = best?;
    let p = pieces[w.piece];
    let out = &encoded[w.batch];
    let states = &out.hidden.as_ref()?.states;
    let h = head.hidden;
    let base = w.row * out.max_len * h;
    let at = |pos: usize| states.get(base + pos * h..base + (pos + 1) * h);
    let inside: Vec<&[f32]> = tokens
        .iter()
        .filter(|&&i| p.start <= i && i < p.end)
        .map(|&i| at(1 + i - p.start))
        .collect::<Option<_>>()?;
    let mut x = Vec::with_capacity(h * head.pooling.len());
    for part in &head.pooling {
        match part {
            Pooling::Cls => x.extend_from_slice(at(0)?),
            Pooling::Mean => {
                let mut m = vec![0.0f32; h];
                for v in &inside {
                    m.iter_mut().zip(*v).for_each(|(a, b)| *a += b);
                }
                let n = inside.len() as f32;
                x.extend(m.iter().map(|a| a / n));
            }
            Pooling::Max => {
                let mut m = vec![f32::NEG_INFINITY; h];
                for v in &inside {
                    m.iter_mut().zip(*v).for_each(|(a, b)| *a = a.max(*b));
                }
                x.extend(m);
            }
            Pooling::Pooler => {
                let pooled = out.hidden.as_ref()?.pooled.as_ref()?;
                x.extend_from_slice(pooled.get(w.row * h..(w.row + 1) * h)?);
            }
        }
    }
    Some(x)
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
    ///
    /// With [`Task::Target`] (and NER), each entity mention also gets the sentiment toward
    /// it from the target head, on the hidden states of the same encoder pass: they are kept
    /// until the sentence's entities are decoded, so sentences are then run in groups of
    /// about [`TARGET_GROUP_TOKENS`] tokens to bound that memory.
    pub(super) fn run(
        &self,
        sentences: &[&str],
        tasks: &[Task],
        batch_size: usize,
        out: &mut [SentenceOutput],
    ) -> Result<()> {
        let want = Want {
            sentiment: tasks.contains(&Task::Sentiment) && self.has(Task::Sentiment),
            ner: tasks.contains(&Task::Ner) && self.has(Task::Ner),
            target: tasks.contains(&Task::Target)
                && tasks.contains(&Task::Ner)
                && self.has(Task::Ner)
                && self.target.is_some(),
            given: false,
        };
        self.run_want(sentences, want, batch_size, out)
    }

    /// The sentiment toward given mentions (each sentence's `out.entities`: their `start`
    /// and `end`, characters of the sentence) from the target head, and each sentence's
    /// sentiment, in one encoder pass per sentence: what [`LoadedModel::run`] computes for
    /// the mentions NER finds, for spans chosen by the caller (evaluation on gold targets).
    pub(super) fn run_targets(
        &self,
        sentences: &[&str],
        batch_size: usize,
        out: &mut [SentenceOutput],
    ) -> Result<()> {
        let want = Want {
            sentiment: self.has(Task::Sentiment),
            ner: false,
            target: self.target.is_some(),
            given: true,
        };
        self.run_want(sentences, want, batch_size, out)
    }

    fn run_want(
        &self,
        sentences: &[&str],
        want: Want,
        batch_size: usize,
        out: &mut [SentenceOutput],
    ) -> Result<()> {
        if !want.sentiment && !want.ner && !want.target {
            return Ok(());
        }
        let toks = self.tokenize(sentences)?;
        if !want.target {
            return self.run_group(sentences, &toks, want, batch_size, out);
        }
        let mut start = 0;
        while start < sentences.len() {
            let (mut end, mut n) = (start, 0);
            while end < sentences.len()
                && (end == start || n + toks[end].ids.len() + 2 <= TARGET_GROUP_TOKENS)
            {
                n += toks[end].ids.len() + 2;
                end += 1;
            }
            self.run_group(
                &sentences[start..end],
                &toks[start..end],
                want,
                batch_size,
                &mut out[start..end],
            )?;
            start = end;
        }
        Ok(())
    }

    /// [`LoadedModel::run`] on tokenised sentences.
    fn run_group(
        &self,
        sentences: &[&str],
        toks: &[Tokens],
        want: Want,
        batch_size: usize,
        out: &mut [SentenceOutput],
    ) -> Result<()> {
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
        let encode = |batch: &&[usize]| self.encode_batch(batch, &pieces, toks, want);
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
            .map(|t| TokenProbs::new(if want.ner { t.ids.len() } else { 0 }, n_ner_labels))
            .collect();
        // Per sentence: its windows, where their encoder outputs are (for the target head).
        let mut windows: Vec<Vec<Window>> = vec![Vec::new(); sentences.len()];
        for (bi, (batch, probs)) in batches.iter().zip(&encoded).enumerate() {
            for (row, &pi) in batch.iter().enumerate() {
                let p = pieces[pi];
                let len = p.end - p.start;
                if want.target {
                    windows[p.sent].push(Window {
                        piece: pi,
                        batch: bi,
                        row,
                    });
                }
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

        if want.sentiment {
            let labels = &self.labels[&Task::Sentiment];
            let (pos, neg) = polarity_indices(labels);
            for (o, sum) in out.iter_mut().zip(&sent_sums) {
                if let Some(probs) = sum.mean() {
                    o.sentiment = Some(sentiment_from_probs(&probs, labels, pos, neg));
                }
            }
        }
        if want.ner && !want.given {
            let labels = &self.labels[&Task::Ner];
            for (((o, t), probs), text) in out.iter_mut().zip(toks).zip(&tok_probs).zip(sentences) {
                o.entities = decode_entities(t, probs, labels, self.ner_decoding);
                extend_directional(text, &mut o.entities);
                trim_entities(text, &mut o.entities);
            }
        }
        if let (true, Some(head)) = (want.target, &self.target) {
            let labels = &self.labels[&Task::Target];
            let (pos, neg) = polarity_indices(labels);
            for ((o, t), ws) in out.iter_mut().zip(toks).zip(&mut windows) {
                // In the order of the sentence (the order `make_pieces` made them).
                ws.sort_by_key(|w| w.piece);
                for e in &mut o.entities {
                    e.sentiment = mention_input(head, t, e.start, e.end, ws, &pieces, &encoded)
                        .map(|x| sentiment_from_probs(&head.probs(&x), labels, pos, neg));
                }
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
        want: Want,
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
            let sentiment = if want.sentiment {
                Some(probs(Task::Sentiment, &o.pooled)?)
            } else {
                None
            };
            let ner = if want.ner {
                Some(probs(Task::Ner, &o.hidden)?)
            } else {
                None
            };
            let hidden = match (&self.target, want.target) {
                (Some(head), true) => Some(Hidden {
                    states: to_vec_f32(&o.hidden)?,
                    pooled: if head.pooling.contains(&Pooling::Pooler) {
                        Some(to_vec_f32(&o.pooled)?)
                    } else {
                        None
                    },
                }),
                _ => None,
            };
            Ok(BatchProbs {
                sentiment,
                ner,
                max_len,
                hidden,
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
