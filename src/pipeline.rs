//! The pipeline: ingest → clean → segment → infer → sink, chunk by chunk.
//!
//! Documents flow one way through the stages. Cleaning and segmentation run in parallel
//! across documents (rayon); inference batches the sentences of a whole chunk. A problem
//! with one document is recorded in its `error` column; the run goes on.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::clean::CleanRules;
use crate::error::{Error, Result};
use crate::infer::{Analyzer, InferOptions, SentenceOutput};
use crate::ingest::{Corpus, InputSpec, RawDoc};
use crate::link::{AliasTable, CorpusIndex, Linker};
use crate::segment::Segmenter;
use crate::sink::{DocError, EntRows, Rows, SentRows, TableSink, Tables};
use polars::prelude::{df, DataFrame};

/// Cleaning options a user can set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CleanOptions {
    /// Extra regexes; a line matching one is dropped as boilerplate.
    pub drop_patterns: Vec<String>,
    /// A file of extra regexes, one per line.
    pub rules_file: Option<PathBuf>,
    /// Drop lines repeating an earlier line of the same document.
    pub dedupe_lines: bool,
}

impl Default for CleanOptions {
    fn default() -> Self {
        CleanOptions {
            drop_patterns: Vec::new(),
            rules_file: None,
            dedupe_lines: true,
        }
    }
}

impl CleanOptions {
    /// Build the cleaning rules.
    pub fn rules(&self) -> Result<CleanRules> {
        let rules = match &self.rules_file {
            Some(p) => CleanRules::from_file(p)?,
            None => CleanRules::default(),
        };
        Ok(rules
            .with_drop_patterns(&self.drop_patterns)?
            .dedupe_lines(self.dedupe_lines))
    }
}

/// Options of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PipelineOptions {
    pub clean: CleanOptions,
    pub infer: InferOptions,
    /// Extra abbreviations for the sentence splitter (without the final period).
    pub abbreviations: Vec<String>,
    /// Documents per chunk: bounds memory and sets the Parquet row-group size.
    pub chunk_size: usize,
    /// A user alias table (CSV or TOML) for entity linking.
    #[serde(default)]
    pub aliases: Option<PathBuf>,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        PipelineOptions {
            clean: CleanOptions::default(),
            infer: InferOptions::default(),
            abbreviations: Vec::new(),
            chunk_size: 256,
            aliases: None,
        }
    }
}

/// Seconds spent per stage.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Timings {
    pub ingest: f64,
    pub clean: f64,
    pub segment: f64,
    pub infer: f64,
    /// Corpus-wide entity linking, analysis tables and the final table files.
    pub link: f64,
    pub write: f64,
    pub total: f64,
}

/// Counts of a run.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq)]
pub struct Counts {
    pub documents: usize,
    pub failed_documents: usize,
    pub sentences: usize,
    pub entities: usize,
}

/// Progress report after each chunk.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub documents_done: usize,
    pub documents_total: Option<usize>,
    pub sentences_done: usize,
}

/// A loaded pipeline: cleaning rules, segmenter and models, reusable across runs.
pub struct Pipeline {
    rules: CleanRules,
    segmenter: Segmenter,
    analyzer: Analyzer,
    linker: Linker,
    opts: PipelineOptions,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("opts", &self.opts)
            .finish()
    }
}

/// Convert byte offsets of `text` to character offsets (Python's string indices).
struct CharIndex {
    /// Byte offset of every char start, plus `text.len()`.
    starts: Vec<usize>,
}

impl CharIndex {
    fn new(text: &str) -> Self {
        let mut starts: Vec<usize> = text.char_indices().map(|(i, _)| i).collect();
        starts.push(text.len());
        CharIndex { starts }
    }
    fn char_of(&self, byte: usize) -> usize {
        self.starts.partition_point(|&b| b < byte)
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

/// A document after cleaning and segmentation.
struct Prepared {
    raw: RawDoc,
    title: Option<String>,
    text: String,
    n_chars: usize,
    /// (char start, char end, byte start, byte end) of each sentence.
    spans: Vec<(usize, usize, usize, usize)>,
    error: Option<String>,
}

impl Pipeline {
    /// Build the cleaning rules and segmenter and load the models.
    pub fn new(opts: PipelineOptions) -> Result<Self> {
        if opts.chunk_size == 0 {
            return Err(Error::Option {
                option: "chunk_size",
                reason: "must be at least 1".into(),
            });
        }
        Ok(Pipeline {
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

    /// The options this pipeline was built with.
    pub fn options(&self) -> &PipelineOptions {
        &self.opts
    }

    /// The analyzer (models) of this pipeline.
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    fn prepare(&self, raw: RawDoc) -> Prepared {
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
        let idx = CharIndex::new(&p.text);
        p.spans = self
            .segmenter
            .split(&p.text)
            .into_iter()
            .map(|s| (idx.char_of(s.start), idx.char_of(s.end), s.start, s.end))
            .collect();
    }

    /// Clean, segment and analyse one chunk of documents into table rows.
    pub fn process(&self, docs: Vec<RawDoc>, timings: &mut Timings) -> Rows {
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
            .flat_map(|p| p.spans.iter().map(|s| &p.text[s.2..s.3]))
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
                    let sents: Vec<&str> = p.spans.iter().map(|s| &p.text[s.2..s.3]).collect();
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

    /// Analyse in-memory documents and return all tables (no files written).
    pub fn analyze_corpus(&self, mut corpus: Corpus) -> Result<(Tables, Timings)> {
        let start = Instant::now();
        let mut timings = Timings::default();
        let mut rows = Rows::default();
        let mut index = CorpusIndex::default();
        loop {
            let t = Instant::now();
            let chunk = corpus.next_chunk(self.opts.chunk_size);
            timings.ingest += t.elapsed().as_secs_f64();
            if chunk.is_empty() {
                break;
            }
            let chunk_rows = self.process(chunk, &mut timings);
            observe(&mut index, &chunk_rows.ent);
            rows.extend(chunk_rows);
        }
        let t = Instant::now();
        index.resolve();
        let tables = rows.into_tables(&index, &[])?;
        timings.link += t.elapsed().as_secs_f64();
        timings.total = start.elapsed().as_secs_f64();
        Ok((tables, timings))
    }

    /// Run over a corpus on disk and write the tables and manifest into `out`.
    pub fn run(
        &self,
        input: &InputSpec,
        out: &Path,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<RunSummary> {
        let start = Instant::now();
        let mut corpus = Corpus::open(input)?;
        let total = corpus.total();
        let mut sink = TableSink::create(out, &input.keep_cols)?;
        let mut timings = Timings::default();
        let mut counts = Counts::default();
        let mut errors = Vec::new();
        let mut index = CorpusIndex::default();
        loop {
            let t = Instant::now();
            let chunk = corpus.next_chunk(self.opts.chunk_size);
            timings.ingest += t.elapsed().as_secs_f64();
            if chunk.is_empty() {
                break;
            }
            let rows = self.process(chunk, &mut timings);
            counts.documents += rows.doc.doc_id.len();
            counts.sentences += rows.sent.doc_id.len();
            counts.entities += rows.ent.doc_id.len();
            for (i, e) in rows.doc.error.iter().enumerate() {
                if let Some(e) = e {
                    errors.push(DocError {
                        doc_id: rows.doc.doc_id[i].clone(),
                        source: rows.doc.source[i].clone(),
                        error: e.clone(),
                    });
                }
            }
            observe(&mut index, &rows.ent);
            let t = Instant::now();
            sink.write(rows)?;
            timings.write += t.elapsed().as_secs_f64();
            progress(Progress {
                documents_done: counts.documents,
                documents_total: total,
                sentences_done: counts.sentences,
            });
        }
        counts.failed_documents = errors.len();
        let t = Instant::now();
        index.resolve();
        timings.total = start.elapsed().as_secs_f64();
        let summary = RunSummary {
            output: out.to_path_buf(),
            counts,
            timings,
            errors,
        };
        let manifest = self.manifest(input, &summary)?;
        sink.finish(&index, &manifest)?;
        let mut summary = summary;
        summary.timings.link += t.elapsed().as_secs_f64();
        summary.timings.total = start.elapsed().as_secs_f64();
        Ok(summary)
    }

    fn manifest(&self, input: &InputSpec, s: &RunSummary) -> Result<serde_json::Value> {
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs();
        Ok(serde_json::json!({
            "presslens_version": env!("CARGO_PKG_VERSION"),
            "created_unix": created,
            "input": input,
            "options": self.opts,
            "models": self.analyzer.models()?,
            "tables": {
                "documents": "documents.parquet",
                "sentences": "sentences.parquet",
                "entities": "entities.parquet",
                "entity_stats": "entity_stats.parquet",
                "cooccurrence": "cooccurrence.parquet",
                "name_variants": "name_variants.parquet",
            },
            "counts": s.counts,
            "timings_s": s.timings,
            "errors": s.errors,
        }))
    }
}

/// Infer sentiment and entities for sentences taken as they are (no cleaning, no
/// splitting) — for evaluation on labelled sentences and for users who already have
/// sentences. Returns the `sentences` frame (sent_idx = position in the input, text,
/// sentiment_label, sentiment_score, polarity) and the `entities` frame (sent_idx, start,
/// end in characters of that sentence, text, label, score).
pub fn predict(analyzer: &Analyzer, sentences: &[String]) -> Result<[DataFrame; 2]> {
    let refs: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let outs = analyzer.analyze(&refs)?;
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
            e.label.push(ent.label);
            e.score.push(ent.score);
        }
    }
    let table = |name: &'static str| {
        move |source| Error::Table {
            table: name.to_string(),
            source,
        }
    };
    let sentences = df!(
        "sent_idx" => s.sent_idx, "text" => s.text, "sentiment_label" => s.sentiment_label,
        "sentiment_score" => s.sentiment_score, "polarity" => s.polarity,
    )
    .map_err(table("sentences"))?;
    let entities = df!(
        "sent_idx" => e.sent_idx, "start" => e.start, "end" => e.end, "text" => e.text,
        "label" => e.label, "score" => e.score,
    )
    .map_err(table("entities"))?;
    Ok([sentences, entities])
}

fn observe(index: &mut CorpusIndex, e: &EntRows) {
    for i in 0..e.name.len() {
        index.observe(&crate::link::Linked {
            name: e.name[i].clone(),
            label: e.ent_label[i].clone(),
            from_table: e.from_table[i],
        });
    }
}

fn push_rows(rows: &mut Rows, p: Prepared, outs: Vec<SentenceOutput>, linker: &Linker) {
    let first_ent = rows.ent.doc_id.len();
    let doc_id = p.raw.doc_id.clone();
    let mut polarities = Vec::new();
    if p.error.is_none() {
        for (i, (span, out)) in p.spans.iter().zip(outs).enumerate() {
            let (c0, c1, b0, b1) = *span;
            let sent_text = &p.text[b0..b1];
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
                rows.ent.label.push(e.label);
                rows.ent.score.push(e.score);
                rows.ent.polarity.push(s.map(|s| s.polarity));
                rows.ent.sentiment.push(s.map(|s| s.label.clone()));
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

/// What a run did.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunSummary {
    pub output: PathBuf,
    pub counts: Counts,
    pub timings: Timings,
    pub errors: Vec<DocError>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::infer::{testing, ModelSpec};

    #[test]
    fn char_helpers() {
        let s = "Ünïcode — text";
        let idx = CharIndex::new(s);
        let b = s.find("text").expect("find");
        assert_eq!(idx.char_of(b), 10);
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
        let s = pipe
            .run(&spec, out.path(), &mut |_| calls += 1)
            .expect("run");
        assert_eq!(calls, 2, "one progress report per chunk");
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
        let s = pipe.run(&spec, out.path(), &mut |_| ()).expect("run");
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
}
