//! The pipeline: ingest → clean → segment → infer → link → sink, chunk by chunk.
//!
//! Documents flow one way through the stages. Cleaning and segmentation run in parallel
//! across documents (rayon); inference batches the sentences of a whole chunk. A problem
//! with one document is recorded in its `error` column; the run goes on.
//!
//! [`run`] (a corpus on disk → a run folder) and [`analyze`] (texts in memory → frames)
//! are the two entries; both open and check the input before loading any model, and both
//! go through the one chunk loop, [`Pipeline::execute`].

use std::path::Path;
use std::time::Instant;

use polars::prelude::{df, DataFrame};
use rayon::prelude::*;

use crate::clean::CleanRules;
use crate::error::{Error, Result};
use crate::infer::{Analyzer, SentenceOutput, Sentiment};
use crate::ingest::{Corpus, InputSpec, RawDoc};
use crate::journal::chunk_digest;
use crate::link::{observe_mentions, AliasTable, CorpusIndex, Linker};
use crate::manifest::{Counts, Manifest, Progress, Timings};
use crate::options::PipelineOptions;
use crate::segment::{Segmenter, Sentence};
use crate::sink::{ChunkInput, ChunkSink, DocError, FolderSink, MemorySink, Mode};
use crate::tables::{table_err, EntRows, Rows, SentRows, Tables, TABLES};

/// A loaded pipeline: cleaning rules, segmenter and models, reusable across runs.
pub struct Pipeline {
    rules: CleanRules,
    segmenter: Segmenter,
    analyzer: Analyzer,
    linker: Linker,
    opts: PipelineOptions,
    /// Cleaning and segmentation threads when `threads` is set (else rayon's global pool:
    /// all cores).
    pool: Option<rayon::ThreadPool>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("opts", &self.opts)
            .finish()
    }
}

/// The `start..end` characters of `s`.
fn char_slice(s: &str, start: usize, end: usize) -> &str {
    let mut it = s
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(s.len()));
    let b0 = it.nth(start).unwrap_or(s.len());
    let b1 = if end > start {
        it.nth(end - start - 1).unwrap_or(s.len())
    } else {
        b0
    };
    &s[b0..b1]
}

/// Cut a sentence longer than `cap` characters into pieces of at most `cap` characters,
/// each ending at the last whitespace before the cap where there is one; pieces are
/// trimmed, so they never start or end with whitespace.
fn cut_sentence(text: &str, s: Sentence, cap: usize) -> Vec<Sentence> {
    if s.chars.len() <= cap {
        return vec![s];
    }
    let mut out = Vec::new();
    let (mut b, mut c, end_b) = (s.bytes.start, s.chars.start, s.bytes.end);
    while b < end_b {
        let rest = &text[b..end_b];
        let lead = rest.len() - rest.trim_start().len();
        c += rest[..lead].chars().count();
        b += lead;
        if b >= end_b {
            break;
        }
        // (byte, char) of the next cap + 1 characters only: memory stays O(cap).
        let mut marks: Vec<(usize, usize)> = text[b..end_b]
            .char_indices()
            .take(cap + 1)
            .enumerate()
            .map(|(k, (off, _))| (b + off, c + k))
            .collect();
        let at_end = marks.len() <= cap;
        if at_end {
            marks.push((end_b, c + marks.len()));
        }
        let is_space = |i: usize| text[marks[i].0..marks[i + 1].0].trim().is_empty();
        let mut end = marks.len() - 1;
        if !at_end {
            if let Some(ws) = (1..end).rev().find(|&i| is_space(i)) {
                end = ws;
            }
        }
        let mut trimmed = end;
        while trimmed > 0 && is_space(trimmed - 1) {
            trimmed -= 1;
        }
        out.push(Sentence {
            bytes: marks[0].0..marks[trimmed].0,
            chars: marks[0].1..marks[trimmed].1,
        });
        (b, c) = marks[end];
    }
    out
}

/// A document after cleaning and segmentation.
struct Prepared {
    raw: RawDoc,
    title: Option<String>,
    text: String,
    n_chars: usize,
    spans: Vec<Sentence>,
    error: Option<String>,
}

/// Analyse a corpus on disk into the run folder `out`; returns the manifest it wrote.
/// The input, the output folder and what the folder holds already (see [`Mode`]) are
/// checked before the models load.
pub fn run(
    input: &InputSpec,
    out: &Path,
    opts: PipelineOptions,
    mode: Mode,
    progress: &mut dyn FnMut(Progress),
    stop: &dyn Fn() -> bool,
) -> Result<Manifest> {
    opts.validate()?;
    let mut corpus = Corpus::open(input)?;
    let (sink, plan) = FolderSink::open(out, input, &opts, mode)?;
    let resumed = sink.skip_done(plan, &mut corpus)?;
    let pipeline = Pipeline::new(opts)?;
    pipeline.run(corpus, input, sink, resumed, progress, stop)
}

/// Analyse texts held in memory; returns the tables and the manifest of the analysis.
pub fn analyze(
    texts: Vec<String>,
    ids: Option<Vec<String>>,
    opts: PipelineOptions,
    stop: &dyn Fn() -> bool,
) -> Result<(Tables, Manifest)> {
    let texts = texts.into_iter().map(|t| (t, None)).collect();
    analyze_decoded(texts, ids, opts, stop)
}

/// [`analyze`] for texts that were decoded lossily: each text comes with the warning
/// (if any) its decoding raised, recorded in the `warning` column.
pub fn analyze_decoded(
    texts: Vec<(String, Option<String>)>,
    ids: Option<Vec<String>>,
    opts: PipelineOptions,
    stop: &dyn Fn() -> bool,
) -> Result<(Tables, Manifest)> {
    opts.validate()?;
    let corpus = Corpus::from_decoded(texts, ids)?;
    Pipeline::new(opts)?.analyze(corpus, stop)
}

impl Pipeline {
    /// Build the cleaning rules and segmenter and load the models.
    pub fn new(opts: PipelineOptions) -> Result<Self> {
        opts.validate()?;
        let pool = match opts.infer.threads {
            Some(n) => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| Error::option("threads", e.to_string()))?,
            ),
            None => None,
        };
        Ok(Pipeline {
            pool,
            rules: opts.clean.rules()?,
            segmenter: Segmenter::default().with_abbreviations(&opts.abbreviations),
            analyzer: Analyzer::new(&opts.infer)?,
            linker: Linker::new(match &opts.aliases {
                Some(p) => AliasTable::from_file(p)?,
                None => AliasTable::default(),
            }),
            opts,
        })
    }

    /// Encoder streams: batches encoded at once.
    pub fn streams(&self) -> usize {
        self.analyzer.streams()
    }

    /// Windows per encoder batch.
    pub fn batch_size(&self) -> usize {
        self.analyzer.batch_size()
    }

    fn prepare(&self, mut raw: RawDoc) -> Prepared {
        let cap = self.opts.max_document_chars;
        if raw.error.is_none() && raw.text.len() > cap && raw.text.chars().count() > cap {
            raw.error = Some(format!(
                "document has {} characters, over the limit of {cap} (max_document_chars)",
                raw.text.chars().count()
            ));
            raw.text = String::new();
        }
        if let Some(e) = &raw.error {
            return Prepared {
                error: Some(e.clone()),
                title: raw.title.clone(),
                text: String::new(),
                n_chars: 0,
                spans: Vec::new(),
                raw,
            };
        }
        let cleaned = self.rules.clean(&raw.text);
        let title = raw
            .title
            .clone()
            .or(cleaned.title)
            .map(|t| t.trim_start_matches('#').trim().to_string());
        let error = cleaned.text.trim().is_empty().then(|| {
            format!(
                "no text left after cleaning ({} boilerplate line(s) dropped)",
                cleaned.dropped_lines
            )
        });
        Prepared {
            raw,
            title,
            n_chars: cleaned.text.chars().count(),
            text: cleaned.text,
            spans: Vec::new(),
            error,
        }
    }

    fn segment(&self, p: &mut Prepared) {
        if p.error.is_some() {
            return;
        }
        let cap = self.opts.max_sentence_chars;
        let sentences = self.segmenter.sentences(&p.text);
        let long = sentences.iter().filter(|s| s.chars.len() > cap).count();
        if long == 0 {
            p.spans = sentences;
            return;
        }
        p.spans = sentences
            .into_iter()
            .flat_map(|s| cut_sentence(&p.text, s, cap))
            .collect();
        let note = format!(
            "{long} sentence(s) longer than {cap} characters cut into pieces (max_sentence_chars)"
        );
        p.raw.warning = Some(match p.raw.warning.take() {
            Some(w) => format!("{w}; {note}"),
            None => note,
        });
    }

    /// Clean, segment and analyse one chunk of documents into table rows.
    pub fn process(&self, docs: Vec<RawDoc>, timings: &mut Timings) -> Rows {
        match &self.pool {
            Some(pool) => pool.install(|| self.process_in_pool(docs, timings)),
            None => self.process_in_pool(docs, timings),
        }
    }

    fn process_in_pool(&self, docs: Vec<RawDoc>, timings: &mut Timings) -> Rows {
        let t = Instant::now();
        let mut prepared: Vec<Prepared> = docs.into_par_iter().map(|d| self.prepare(d)).collect();
        timings.clean += t.elapsed().as_secs_f64();

        let t = Instant::now();
        prepared.par_iter_mut().for_each(|p| self.segment(p));
        timings.segment += t.elapsed().as_secs_f64();

        let t = Instant::now();
        let outputs = self.infer_chunk(&mut prepared);
        timings.infer += t.elapsed().as_secs_f64();

        let mut rows = Rows::default();
        for (p, outs) in prepared.into_iter().zip(outputs) {
            push_rows(&mut rows, p, outs, &self.linker);
        }
        rows
    }

    /// Infer all sentences of a chunk in one batched call; if that fails, retry document
    /// by document so that one bad document cannot cost the others their results.
    fn infer_chunk(&self, prepared: &mut [Prepared]) -> Vec<Vec<SentenceOutput>> {
        let sentences: Vec<&str> = prepared
            .iter()
            .flat_map(|p| p.spans.iter().map(|s| &p.text[s.bytes.clone()]))
            .collect();
        match self.analyzer.analyze(&sentences) {
            Ok(all) => {
                let mut it = all.into_iter();
                prepared
                    .iter()
                    .map(|p| it.by_ref().take(p.spans.len()).collect())
                    .collect()
            }
            Err(_) => prepared
                .iter_mut()
                .map(|p| {
                    let sents: Vec<&str> =
                        p.spans.iter().map(|s| &p.text[s.bytes.clone()]).collect();
                    match self.analyzer.analyze(&sents) {
                        Ok(o) => o,
                        Err(e) => {
                            p.error = Some(e.to_string());
                            Vec::new()
                        }
                    }
                })
                .collect(),
        }
    }

    /// The chunk loop: read, process and hand each chunk to `sink`, observing every
    /// mention for corpus-level linking. Stops with [`Error::Interrupted`] at the next
    /// chunk boundary once `stop` is set.
    pub fn execute(
        &self,
        mut corpus: Corpus,
        sink: &mut dyn ChunkSink,
        progress: &mut dyn FnMut(Progress),
        stop: &dyn Fn() -> bool,
    ) -> Result<Executed> {
        let start = Instant::now();
        let total = corpus.total();
        let mut ex = Executed {
            index: CorpusIndex::new(self.opts.gazetteer),
            ..Default::default()
        };
        loop {
            if stop() {
                return Err(Error::Interrupted);
            }
            let t = Instant::now();
            let chunk = corpus.next_chunk(self.opts.chunk_size);
            let input = ChunkInput {
                documents: chunk.len(),
                digest: chunk_digest(&chunk),
            };
            ex.timings.ingest += t.elapsed().as_secs_f64();
            if chunk.is_empty() {
                break;
            }
            let rows = self.process(chunk, &mut ex.timings);
            ex.counts.documents += rows.doc.doc_id.len();
            ex.counts.sentences += rows.sent.doc_id.len();
            ex.counts.entities += rows.ent.doc_id.len();
            for (i, e) in rows.doc.error.iter().enumerate() {
                if let Some(e) = e {
                    ex.errors.push(DocError {
                        doc_id: rows.doc.doc_id[i].clone(),
                        source: rows.doc.source[i].clone(),
                        error: e.clone(),
                    });
                }
            }
            observe_mentions(&mut ex.index, &rows.ent);
            let t = Instant::now();
            sink.write(rows, &input)?;
            ex.timings.write += t.elapsed().as_secs_f64();
            progress(Progress {
                documents_done: ex.counts.documents,
                documents_total: total,
                sentences_done: ex.counts.sentences,
                documents_skipped: corpus.excluded(),
            });
        }
        ex.counts.failed_documents = ex.errors.len();
        let t = Instant::now();
        ex.index.resolve();
        ex.timings.link += t.elapsed().as_secs_f64();
        ex.timings.total = start.elapsed().as_secs_f64();
        Ok(ex)
    }

    /// Analyse one batch of a distributed run (Spark, Ray): its `documents` and `sentences`
    /// frames (with the `kept` input columns) and its document-linked mentions (the
    /// `entities` rows before corpus-level linking, see [`EntRows::spill_frame`]). The
    /// engine links the mentions across batches (see [`crate::link::link_distinct`]).
    pub fn analyze_batch(
        &self,
        corpus: Corpus,
        kept: &[String],
        stop: &dyn Fn() -> bool,
    ) -> Result<[DataFrame; 3]> {
        let mut sink = MemorySink::default();
        self.execute(corpus, &mut sink, &mut |_| (), stop)?;
        let Rows { doc, sent, ent } = sink.rows;
        let [documents, sentences] = Rows::doc_sent_frames(doc, sent, kept)?;
        Ok([documents, sentences, ent.spill_frame()?])
    }

    /// The manifest of a distributed run: its input, its tables' rows and part-file globs,
    /// counts, failed documents and timings as the engine measured them.
    pub fn batch_manifest(
        &self,
        input: InputSpec,
        rows: &[(&str, usize)],
        files: &dyn Fn(&str) -> String,
        counts: Counts,
        timings: Timings,
        errors: Vec<DocError>,
    ) -> Result<Manifest> {
        let ex = Executed {
            counts,
            timings,
            errors,
            index: CorpusIndex::new(self.opts.gazetteer),
        };
        let mut m = self.manifest(rows, Some(&input), ex)?;
        for (name, entry) in m.tables.iter_mut() {
            entry.files = files(name);
        }
        Ok(m)
    }

    /// Analyse an in-memory corpus: all tables as frames, no files written.
    pub fn analyze(&self, corpus: Corpus, stop: &dyn Fn() -> bool) -> Result<(Tables, Manifest)> {
        let start = Instant::now();
        let mut sink = MemorySink::default();
        let mut ex = self.execute(corpus, &mut sink, &mut |_| (), stop)?;
        let t = Instant::now();
        let tables = sink.rows.into_tables(&ex.index, &[])?;
        ex.timings.link += t.elapsed().as_secs_f64();
        ex.timings.total = start.elapsed().as_secs_f64();
        let rows: Vec<(&str, usize)> = TABLES.iter().map(|t| (*t, tables.height(t))).collect();
        let manifest = self.manifest(&rows, None, ex)?;
        Ok((tables, manifest))
    }

    /// Run over a corpus into a run folder; commits chunk by chunk, then writes the
    /// corpus-level tables and the manifest. `resumed` documents were committed by an
    /// earlier, interrupted command (the corpus is past them).
    pub fn run(
        &self,
        corpus: Corpus,
        input: &InputSpec,
        mut sink: FolderSink,
        resumed: usize,
        progress: &mut dyn FnMut(Progress),
        stop: &dyn Fn() -> bool,
    ) -> Result<Manifest> {
        let start = Instant::now();
        progress(Progress {
            documents_done: 0,
            documents_total: corpus.total().map(|t| t.saturating_sub(resumed)),
            sentences_done: 0,
            documents_skipped: resumed,
        });
        let mut ex = self.execute(corpus, &mut sink, progress, stop)?;
        let t = Instant::now();
        let mut finished = sink.finish()?;
        ex.timings.link += t.elapsed().as_secs_f64();
        ex.timings.total = start.elapsed().as_secs_f64();
        // The folder's totals: every committed chunk, this command's and earlier ones.
        ex.counts = finished.counts;
        ex.errors = std::mem::take(&mut finished.errors);
        let manifest = self.manifest(&finished.rows, Some(input), ex)?;
        let json = serde_json::to_value(&manifest).map_err(Error::Manifest)?;
        finished.commit(&json)?;
        Ok(manifest)
    }

    fn manifest(
        &self,
        rows: &[(&str, usize)],
        input: Option<&InputSpec>,
        ex: Executed,
    ) -> Result<Manifest> {
        let mut manifest = Manifest::new(
            rows,
            input.cloned(),
            self.opts.clone(),
            self.analyzer.models()?,
            ex.counts,
            ex.timings,
            ex.errors,
        );
        manifest.mention_sentiment = self.analyzer.mention_sentiment().map(String::from);
        Ok(manifest)
    }
}

/// What the chunk loop gathered: counts, timings, failed documents, the corpus index.
#[derive(Debug, Default)]
pub struct Executed {
    pub counts: Counts,
    pub timings: Timings,
    pub errors: Vec<DocError>,
    pub index: CorpusIndex,
}

/// Infer sentiment and entities for sentences taken as they are (no cleaning, no
/// splitting) — for evaluation on labelled sentences and for users who already have
/// sentences. Returns the `sentences` frame (sent_idx = position in the input, text,
/// sentiment_label, sentiment_score, polarity) and the `entities` frame (sent_idx, start,
/// end in characters of that sentence, text, label, score, and sentiment_label,
/// sentiment_score, polarity toward the mention: the target head's, else the sentence's).
pub fn predict(analyzer: &Analyzer, sentences: &[String]) -> Result<[DataFrame; 2]> {
    let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
    predict_frames(sentences, analyzer.analyze(&refs)?, false)
}

/// [`predict`] for given mentions: the sentiment toward each span of `targets[i]`
/// (characters of sentence `i`) from the target head, and each sentence's sentiment; the
/// entities frame holds the spans in order (`sent_idx`, `start`, `end`, `text` and the
/// sentiment columns). See [`Analyzer::analyze_targets`].
pub fn predict_targets(
    analyzer: &Analyzer,
    sentences: &[String],
    targets: &[Vec<(usize, usize)>],
) -> Result<[DataFrame; 2]> {
    let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
    predict_frames(sentences, analyzer.analyze_targets(&refs, targets)?, true)
}

/// The frames of [`predict`] / [`predict_targets`]. `given`: the entities are the caller's
/// spans (no NER label or score, and no sentence sentiment in place of the target head's).
fn predict_frames(
    sentences: &[String],
    outs: Vec<SentenceOutput>,
    given: bool,
) -> Result<[DataFrame; 2]> {
    let mut s = SentRows::default();
    let mut e = EntRows::default();
    for (i, (text, out)) in sentences.iter().zip(outs).enumerate() {
        s.sent_idx.push(i as i64);
        s.text.push(text.clone());
        let sent = out.sentiment.as_ref();
        s.sentiment_label.push(sent.map(|x| x.label.clone()));
        s.sentiment_score.push(sent.map(|x| x.score));
        s.polarity.push(sent.map(|x| x.polarity));
        for ent in out.entities {
            e.sent_idx.push(i as i64);
            e.start.push(ent.start as i64);
            e.end.push(ent.end as i64);
            e.text
                .push(char_slice(text, ent.start, ent.end).to_string());
            let fallback = if given { None } else { sent };
            push_mention_sentiment(&mut e, ent.sentiment.as_ref().or(fallback));
            e.label.push(ent.label);
            e.score.push(ent.score);
        }
    }
    let sentences = df!(
        "sent_idx" => s.sent_idx, "text" => s.text, "sentiment_label" => s.sentiment_label,
        "sentiment_score" => s.sentiment_score, "polarity" => s.polarity,
    )
    .map_err(table_err("sentences"))?;
    let mut entities = df!(
        "sent_idx" => e.sent_idx, "start" => e.start, "end" => e.end, "text" => e.text,
        "label" => e.label, "score" => e.score, "sentiment_label" => e.sentiment_label,
        "sentiment_score" => e.sentiment_score, "polarity" => e.polarity,
    )
    .map_err(table_err("entities"))?;
    if given {
        entities = entities.drop_many(["label", "score"]);
    }
    Ok([sentences, entities])
}

/// The sentiment columns of a mention: the sentiment toward it (target head), else its
/// sentence's (`sentiment` is already the one to use).
fn push_mention_sentiment(e: &mut EntRows, sentiment: Option<&Sentiment>) {
    e.sentiment_label.push(sentiment.map(|s| s.label.clone()));
    e.sentiment_score.push(sentiment.map(|s| s.score));
    e.polarity.push(sentiment.map(|s| s.polarity));
}

fn push_rows(rows: &mut Rows, p: Prepared, outs: Vec<SentenceOutput>, linker: &Linker) {
    let first_ent = rows.ent.doc_id.len();
    let doc_id = p.raw.doc_id.clone();
    let mut polarities = Vec::new();
    if p.error.is_none() {
        for (i, (span, out)) in p.spans.iter().zip(outs).enumerate() {
            let (c0, c1) = (span.chars.start, span.chars.end);
            let sent_text = &p.text[span.bytes.clone()];
            rows.sent.doc_id.push(doc_id.clone());
            rows.sent.sent_idx.push(i as i64);
            rows.sent.start.push(c0 as i64);
            rows.sent.end.push(c1 as i64);
            rows.sent.text.push(sent_text.to_string());
            let s = out.sentiment.as_ref();
            rows.sent.sentiment_label.push(s.map(|s| s.label.clone()));
            rows.sent.sentiment_score.push(s.map(|s| s.score));
            rows.sent.polarity.push(s.map(|s| s.polarity));
            if let Some(s) = s {
                polarities.push(f64::from(s.polarity));
            }
            for e in out.entities {
                rows.ent.doc_id.push(doc_id.clone());
                rows.ent.sent_idx.push(i as i64);
                rows.ent.start.push((c0 + e.start) as i64);
                rows.ent.end.push((c0 + e.end) as i64);
                rows.ent
                    .text
                    .push(char_slice(sent_text, e.start, e.end).to_string());
                push_mention_sentiment(&mut rows.ent, e.sentiment.as_ref().or(s));
                rows.ent.label.push(e.label);
                rows.ent.score.push(e.score);
            }
        }
        let e = &mut rows.ent;
        let mentions: Vec<(&str, &str)> = e.text[first_ent..]
            .iter()
            .zip(&e.label[first_ent..])
            .map(|(t, l)| (t.as_str(), l.as_str()))
            .collect();
        for l in linker.link_doc(&p.text, &mentions) {
            e.name.push(l.name);
            e.ent_label.push(l.label);
            e.from_table.push(l.from_table);
        }
    }
    let n_sentences = if p.error.is_none() { p.spans.len() } else { 0 };
    rows.doc.doc_id.push(doc_id);
    rows.doc.source.push(p.raw.source);
    rows.doc.title.push(p.title);
    rows.doc.text.push(if p.error.is_none() {
        p.text
    } else {
        String::new()
    });
    rows.doc.n_chars.push(if p.error.is_none() {
        p.n_chars as i64
    } else {
        0
    });
    rows.doc.n_sentences.push(n_sentences as i64);
    rows.doc.sentiment_mean.push(
        (!polarities.is_empty()).then(|| polarities.iter().sum::<f64>() / polarities.len() as f64),
    );
    rows.doc.error.push(p.error);
    rows.doc.warning.push(p.raw.warning);
    rows.doc.meta.push(p.raw.meta);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infer::{testing, InferOptions, ModelSpec};

    #[test]
    fn long_sentences_are_cut_at_whitespace_into_capped_pieces() {
        let text = "  ünï wörd ".repeat(40) + "end";
        let seg = Segmenter::default();
        for s in seg.sentences(&text) {
            let pieces = cut_sentence(&text, s.clone(), 25);
            assert!(pieces.len() > 10);
            for p in &pieces {
                let piece = &text[p.bytes.clone()];
                assert!(p.chars.len() <= 25, "{piece:?}");
                assert_eq!(piece.chars().count(), p.chars.len());
                assert_eq!(piece, piece.trim());
                assert!(!piece.is_empty());
            }
            let joined: String = pieces.iter().map(|p| &text[p.bytes.clone()]).collect();
            let original: String = text[s.bytes].split_whitespace().collect();
            assert_eq!(joined.split_whitespace().collect::<String>(), original);
        }
        let unbroken = "x".repeat(60);
        let s = seg.sentences(&unbroken).remove(0);
        let lens: Vec<usize> = cut_sentence(&unbroken, s, 25)
            .iter()
            .map(|p| p.chars.len())
            .collect();
        assert_eq!(lens, [25, 25, 10]);
    }

    #[test]
    fn char_helpers() {
        let s = "Ünïcode — text";
        assert_eq!(char_slice(s, 10, 14), "text");
        assert_eq!(char_slice(s, 0, 0), "");
        assert_eq!(char_slice(s, 8, 9), "—");
    }

    fn tiny_pipeline(dir: &Path) -> Pipeline {
        testing::write_random_model(dir, None, 3).expect("model");
        let spec = ModelSpec::Local(dir.to_path_buf());
        let opts = PipelineOptions {
            infer: InferOptions {
                sentiment_model: Some(spec.clone()),
                ner_model: Some(spec),
                ..Default::default()
            },
            chunk_size: 2,
            ..Default::default()
        };
        Pipeline::new(opts).expect("pipeline")
    }

    fn run_into(
        pipe: &Pipeline,
        spec: &InputSpec,
        out: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Manifest {
        let corpus = Corpus::open(spec).expect("open");
        let (sink, _) = FolderSink::open(out, spec, &pipe.opts, Mode::Resume).expect("sink");
        pipe.run(corpus, spec, sink, 0, progress, &|| false)
            .expect("run")
    }

    #[test]
    fn run_writes_tables_with_consistent_offsets_and_keeps_bad_documents() {
        let m = tempfile::tempdir().expect("tmp");
        let pipe = tiny_pipeline(m.path());
        let input = tempfile::tempdir().expect("tmp");
        std::fs::write(
            input.path().join("a.txt"),
            "Héllo “Tokyo” title\n\nMr. Abe met Putin. Talks stalled.\n\nLeave a Reply\n",
        )
        .expect("w");
        std::fs::write(input.path().join("b.txt"), b"\x00\x00binary").expect("w");
        std::fs::write(input.path().join("c.txt"), "Only one sentence here.").expect("w");
        let out = tempfile::tempdir().expect("tmp");
        let mut calls = 0;
        let spec = InputSpec {
            path: input.path().to_path_buf(),
            ..Default::default()
        };
        let s = run_into(&pipe, &spec, out.path(), &mut |_| calls += 1);
        assert_eq!(
            calls, 3,
            "one progress report before the first chunk and one per chunk"
        );
        assert_eq!(s.counts.documents, 3);
        assert_eq!(s.counts.failed_documents, 1);
        assert_eq!(s.errors[0].doc_id, "b");
        let docs = crate::sink::read_table(out.path(), "documents").expect("docs");
        let sents = crate::sink::read_table(out.path(), "sentences").expect("sents");
        let texts = docs.column("text").expect("c").str().expect("s").clone();
        let a_text = texts.get(0).expect("a");
        assert!(!a_text.contains("Leave a Reply"));
        assert_eq!(
            docs.column("title").expect("c").str().expect("s").get(0),
            Some("Héllo \"Tokyo\" title")
        );
        assert_eq!(sents.height(), 4, "title + 3 sentences? got {sents}");
        let st = sents.column("start").expect("c").i64().expect("i");
        let en = sents.column("end").expect("c").i64().expect("i");
        let tx = sents.column("text").expect("c").str().expect("s");
        let did = sents.column("doc_id").expect("c").str().expect("s");
        for i in 0..sents.height() {
            let doc_text = if did.get(i) == Some("a") {
                a_text
            } else {
                texts.get(2).expect("c")
            };
            let (s0, s1) = (
                st.get(i).expect("s") as usize,
                en.get(i).expect("e") as usize,
            );
            assert_eq!(char_slice(doc_text, s0, s1), tx.get(i).expect("t"));
        }
        let manifest: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.path().join("manifest.json")).expect("m"),
        )
        .expect("json");
        assert_eq!(manifest["counts"]["documents"], 3);
        assert_eq!(manifest["errors"][0]["doc_id"], "b");
    }

    #[test]
    fn kept_columns_reach_the_documents_table_across_chunks_and_bad_rows() {
        let m = tempfile::tempdir().expect("tmp");
        let pipe = tiny_pipeline(m.path());
        let input = tempfile::tempdir().expect("tmp");
        let csv = input.path().join("c.csv");
        std::fs::write(
            &csv,
            "id,outlet,text,date\n1,NHK,Tokyo protested.,2022-03-01\n2,Tass,,2022-03-02\n\
             3,Tass,Moscow replied. Talks stalled.,\n",
        )
        .expect("w");
        let out = tempfile::tempdir().expect("tmp");
        let spec = InputSpec {
            path: csv,
            keep_cols: vec!["outlet".into(), "date".into()],
            ..Default::default()
        };
        let s = run_into(&pipe, &spec, out.path(), &mut |_| ());
        assert_eq!(s.counts.failed_documents, 1, "the row without text");
        let docs = crate::sink::read_table(out.path(), "documents").expect("docs");
        let names: Vec<&str> = docs.get_column_names().iter().map(|c| c.as_str()).collect();
        assert_eq!(names[names.len() - 2..], ["outlet", "date"]);
        let col = |c: &str| -> Vec<Option<String>> {
            docs.column(c)
                .expect("c")
                .str()
                .expect("s")
                .iter()
                .map(|v| v.map(str::to_owned))
                .collect()
        };
        let some = |v: &str| Some(v.to_string());
        assert_eq!(col("doc_id"), [some("1"), some("2"), some("3")]);
        assert_eq!(col("outlet"), [some("NHK"), some("Tass"), some("Tass")]);
        assert_eq!(col("date"), [some("2022-03-01"), some("2022-03-02"), None]);
    }

    /// The tables of `texts` analysed in memory with a random model (`target`: with a
    /// target head), and the manifest.
    fn analysed(target: bool, texts: &[&str]) -> (Tables, Manifest) {
        let m = tempfile::tempdir().expect("tmp");
        let what = testing::RandomModel {
            target_pooling: target.then(|| vec!["cls".to_string(), "mean".to_string()]),
            ..Default::default()
        };
        testing::write_random_model_opts(m.path(), None, 5, &what).expect("model");
        let spec = ModelSpec::Local(m.path().to_path_buf());
        let opts = PipelineOptions {
            infer: InferOptions {
                sentiment_model: Some(spec.clone()),
                ner_model: Some(spec),
                ..Default::default()
            },
            ..Default::default()
        };
        let texts = texts.iter().map(|t| t.to_string()).collect();
        analyze(texts, None, opts, &|| false).expect("analyze")
    }

    /// Per mention: (doc_id, sent_idx, polarity, sentiment_label) of `entities`, and the
    /// polarity and label of its sentence.
    type MentionSentiment = (String, i64, Option<f32>, Option<String>);
    fn mention_rows(t: &Tables, table: &str) -> Vec<MentionSentiment> {
        let df = t.get(table).expect("table");
        let col = |c: &str| df.column(c).expect("column");
        let (d, i) = (
            col("doc_id").str().expect("s"),
            col("sent_idx").i64().expect("i"),
        );
        let (p, l) = (
            col("polarity").f32().expect("f"),
            col("sentiment_label").str().expect("s"),
        );
        (0..df.height())
            .map(|k| {
                (
                    d.get(k).unwrap_or_default().to_string(),
                    i.get(k).unwrap_or_default(),
                    p.get(k),
                    l.get(k).map(str::to_string),
                )
            })
            .collect()
    }

    #[test]
    fn entities_carry_the_sentiment_toward_each_mention() {
        let texts = [
            "Tokyo said Putin was in Moscow. Japan said Russia was the threat to Tokyo.",
            "Putin said Japan was Russia. Moscow said Tokyo was Putin. The end.",
            "Russia and Japan said the Moscow talks were over.",
        ];
        for target in [true, false] {
            let (t, manifest) = analysed(target, &texts);
            let want = if target { "target" } else { "sentence" };
            assert_eq!(manifest.mention_sentiment.as_deref(), Some(want));
            assert_eq!(manifest.models["ner"].target_head, target);
            let ents = t.get("entities").expect("entities");
            let names: Vec<&str> = ents.get_column_names().iter().map(|c| c.as_str()).collect();
            assert_eq!(
                names,
                [
                    "doc_id",
                    "sent_idx",
                    "start",
                    "end",
                    "text",
                    "label",
                    "score",
                    "sentiment_label",
                    "sentiment_score",
                    "polarity",
                    "entity",
                    "entity_label",
                    "entity_id",
                    "country_code",
                    "alias_source"
                ]
            );
            let sentence: std::collections::HashMap<(String, i64), (Option<f32>, Option<String>)> =
                mention_rows(&t, "sentences")
                    .into_iter()
                    .map(|(d, i, p, l)| ((d, i), (p, l)))
                    .collect();
            let mentions = mention_rows(&t, "entities");
            assert!(mentions.len() >= 6, "{ents}");
            let same = mentions
                .iter()
                .filter(|(d, i, p, l)| sentence[&(d.clone(), *i)] == (*p, l.clone()))
                .count();
            assert!(mentions.iter().all(|m| m.2.is_some() && m.3.is_some()));
            if target {
                assert!(
                    same < mentions.len() / 2,
                    "{same} of {} as the sentence",
                    mentions.len()
                );
            } else {
                assert_eq!(
                    same,
                    mentions.len(),
                    "without a target head: the sentence's"
                );
            }
            // entity_stats counts and averages mentions (corpus rows: every mention once).
            let stats = t.get("entity_stats").expect("stats");
            let scope = stats.column("scope").expect("c").str().expect("s");
            let corpus: Vec<usize> = (0..stats.height())
                .filter(|&k| scope.get(k) == Some("corpus"))
                .collect();
            let int = |c: &str, k: usize| -> i64 {
                stats
                    .column(c)
                    .expect("c")
                    .i64()
                    .expect("i")
                    .get(k)
                    .unwrap_or(0)
            };
            let sum = |c: &str| -> usize { corpus.iter().map(|&k| int(c, k) as usize).sum() };
            assert_eq!(sum("mentions"), mentions.len());
            let by_label = |want: &str| {
                mentions
                    .iter()
                    .filter(|m| m.3.as_deref() == Some(want))
                    .count()
            };
            assert_eq!(sum("n_positive"), by_label("positive"));
            assert_eq!(sum("n_neutral"), by_label("neutral"));
            assert_eq!(sum("n_negative"), by_label("negative"));
            let mp = stats.column("mean_polarity").expect("c").f64().expect("f");
            let weighted: f64 = corpus
                .iter()
                .map(|&k| mp.get(k).unwrap_or(0.0) * int("mentions", k) as f64)
                .sum();
            let total: f64 = mentions.iter().map(|m| f64::from(m.2.unwrap_or(0.0))).sum();
            assert!((weighted - total).abs() < 1e-4, "{weighted} vs {total}");
        }
    }
}
