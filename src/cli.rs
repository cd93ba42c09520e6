//! The `presslens` command line. The Python package's console script calls [`main`], so
//! `pip install` gives the same CLI as a Rust build.

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::error::{Error, Result};
use crate::infer::{DeviceChoice, InferOptions, ModelSpec};
use crate::ingest::{Corpus, Format, InputSpec, RawDoc};
use crate::pipeline::{CleanOptions, Pipeline, PipelineOptions, Timings};
use crate::segment::Segmenter;

#[derive(Debug, Parser)]
#[command(
    name = "presslens",
    version,
    about = "Batch NLP for news corpora: clean, split, sentiment, NER → Parquet"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyse a corpus and write documents/sentences/entities Parquet tables.
    Run(RunArgs),
    /// Split text (argument or stdin) into sentences, one per line.
    Split {
        /// Text to split; reads standard input when absent.
        text: Option<String>,
        /// Print character offsets before each sentence.
        #[arg(long)]
        offsets: bool,
    },
    /// Benchmark every stage on a corpus replicated to a minimum number of sentences.
    Bench(BenchArgs),
}

/// Options shared by `run` and `bench`.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// Sentiment model: `default`, a local folder (HF layout), a hub id, or `none`.
    #[arg(long, default_value = "default")]
    sentiment_model: String,
    /// NER model: `default`, a local folder (HF layout), a hub id, or `none`.
    #[arg(long, default_value = "default")]
    ner_model: String,
    /// Compute device.
    #[arg(long, value_enum, default_value_t = DeviceChoice::Cpu)]
    device: DeviceChoice,
    /// Sentence windows per encoder batch.
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Longest encoder window in tokens; longer sentences are split into overlapping windows.
    #[arg(long, default_value_t = 256)]
    max_window: usize,
    /// libtorch threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Run the two heads of a multi-task model in separate encoder passes (to measure the gain
    /// of sharing the encoder).
    #[arg(long, hide = true)]
    no_shared_encoder: bool,
    /// Documents per chunk (bounds memory; one Parquet row group per chunk).
    #[arg(long, default_value_t = 256)]
    chunk_size: usize,
    /// Extra boilerplate regex: matching lines are dropped (repeatable).
    #[arg(long = "drop-pattern", value_name = "REGEX")]
    drop_patterns: Vec<String>,
    /// File of extra boilerplate regexes, one per line.
    #[arg(long, value_name = "FILE")]
    clean_rules: Option<PathBuf>,
    /// Keep lines that repeat an earlier line of the same document.
    #[arg(long)]
    keep_duplicate_lines: bool,
    /// Extra abbreviations for the sentence splitter, without the final period (repeatable).
    #[arg(long = "abbreviation", value_name = "ABBR")]
    abbreviations: Vec<String>,
    /// Entity alias table, CSV (alias,canonical[,label]) or TOML ([aliases] "alias" = "name").
    #[arg(long, value_name = "FILE")]
    aliases: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct RunArgs {
    /// Folder of .txt/.md files, or a .jsonl, .csv, .tsv or .parquet file.
    input: PathBuf,
    /// Output folder for the Parquet tables and manifest.json.
    #[arg(short, long)]
    output: PathBuf,
    /// Input format (default: from the path).
    #[arg(long, value_enum, default_value_t = Format::Auto)]
    format: Format,
    /// Column or JSON field holding the text (default: text, content, body, article).
    #[arg(long)]
    text_col: Option<String>,
    /// Column holding a document id (default: id, doc_id; else a content hash).
    #[arg(long)]
    id_col: Option<String>,
    /// Column holding the title (default: title, headline; else the first line).
    #[arg(long)]
    title_col: Option<String>,
    /// Input columns to copy into the documents table as strings, e.g. outlet,date,url
    /// (JSONL/CSV/TSV/Parquet; repeat or separate with commas).
    #[arg(long = "keep-col", value_name = "COL", value_delimiter = ',')]
    keep_cols: Vec<String>,
    /// No progress bar or summary.
    #[arg(short, long)]
    quiet: bool,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(Debug, Args)]
struct BenchArgs {
    /// Corpus to replicate.
    #[arg(default_value = "seeds")]
    input: PathBuf,
    /// Replicate the corpus until it has at least this many sentences.
    #[arg(long, default_value_t = 2000)]
    min_sentences: usize,
    #[command(flatten)]
    common: CommonArgs,
}

fn model_opt(s: &str) -> Result<Option<ModelSpec>> {
    if matches!(s.trim().to_ascii_lowercase().as_str(), "none" | "off" | "") {
        return Ok(None);
    }
    ModelSpec::parse(s).map(Some)
}

impl CommonArgs {
    fn options(&self) -> Result<PipelineOptions> {
        Ok(PipelineOptions {
            clean: CleanOptions {
                drop_patterns: self.drop_patterns.clone(),
                rules_file: self.clean_rules.clone(),
                dedupe_lines: !self.keep_duplicate_lines,
            },
            infer: InferOptions {
                sentiment_model: model_opt(&self.sentiment_model)?,
                ner_model: model_opt(&self.ner_model)?,
                device: self.device,
                batch_size: self.batch_size,
                max_window: self.max_window,
                threads: self.threads,
                share_encoder: !self.no_shared_encoder,
            },
            abbreviations: self.abbreviations.clone(),
            chunk_size: self.chunk_size,
            aliases: self.aliases.clone(),
        })
    }
}

/// Run the CLI with `argv` (program name first); returns the process exit code.
pub fn main<I, T>(argv: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Run(a) => run(a),
        Command::Split { text, offsets } => split(text, offsets),
        Command::Bench(a) => bench(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

fn run(a: RunArgs) -> Result<i32> {
    let input = InputSpec {
        path: a.input.clone(),
        format: a.format,
        text_col: a.text_col,
        id_col: a.id_col,
        title_col: a.title_col,
        keep_cols: a.keep_cols,
    };
    // Fail fast on a missing input before loading models.
    if !input.path.exists() {
        return Err(Error::Input {
            path: input.path,
            reason: "no such file or directory".into(),
        });
    }
    let pipeline = Pipeline::new(a.common.options()?)?;
    let bar = if a.quiet {
        indicatif::ProgressBar::hidden()
    } else {
        let b = indicatif::ProgressBar::new(0);
        b.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} docs {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        b
    };
    let started = Instant::now();
    let summary = pipeline.run(&input, &a.output, &mut |p| {
        if let Some(t) = p.documents_total {
            bar.set_length(t as u64);
        }
        bar.set_position(p.documents_done as u64);
        let rate = p.sentences_done as f64 / started.elapsed().as_secs_f64().max(1e-9);
        bar.set_message(format!("{} sentences ({rate:.0}/s)", p.sentences_done));
    })?;
    bar.finish_and_clear();
    if !a.quiet {
        let c = summary.counts;
        eprintln!(
            "presslens: {} documents, {} sentences, {} entities in {:.1}s -> {}",
            c.documents,
            c.sentences,
            c.entities,
            summary.timings.total,
            a.output.display()
        );
        if !summary.errors.is_empty() {
            eprintln!("{} document(s) failed:", summary.errors.len());
            for e in summary.errors.iter().take(20) {
                eprintln!("  {} ({}): {}", e.doc_id, e.source, e.error);
            }
            if summary.errors.len() > 20 {
                eprintln!("  ... see manifest.json for all {}", summary.errors.len());
            }
        }
    }
    Ok(0)
}

fn split(text: Option<String>, offsets: bool) -> Result<i32> {
    let text = match text {
        Some(t) => t,
        None => {
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Error::io("cannot read", "<stdin>", e))?;
            s
        }
    };
    let seg = Segmenter::default();
    let mut chars = 0;
    let mut last = 0;
    for s in seg.split(&text) {
        chars += text[last..s.start].chars().count();
        let start = chars;
        chars += text[s.start..s.end].chars().count();
        last = s.end;
        if offsets {
            println!("{start}\t{chars}\t{}", &text[s.start..s.end]);
        } else {
            println!("{}", &text[s.start..s.end]);
        }
    }
    Ok(0)
}

fn rate(n: usize, secs: f64) -> String {
    format!("{:>9.1} sent/s  ({secs:.3}s)", n as f64 / secs.max(1e-9))
}

fn bench(a: BenchArgs) -> Result<i32> {
    let opts = a.common.options()?;
    let base: Vec<RawDoc> = Corpus::open(&InputSpec {
        path: a.input.clone(),
        ..Default::default()
    })?
    .filter(|d| d.error.is_none())
    .collect();
    if base.is_empty() {
        return Err(Error::Input {
            path: a.input,
            reason: "no readable documents to benchmark".into(),
        });
    }
    let t = Instant::now();
    let pipeline = Pipeline::new(opts)?;
    let load_s = t.elapsed().as_secs_f64();
    // Replicate until the corpus has enough sentences.
    let per_copy = {
        let mut tm = Timings::default();
        pipeline
            .process(base.clone(), &mut tm)
            .sent
            .doc_id
            .len()
            .max(1)
    };
    let copies = a.min_sentences.div_ceil(per_copy).max(1);
    let mut docs = Vec::with_capacity(base.len() * copies);
    for c in 0..copies {
        for d in &base {
            let mut d = d.clone();
            d.doc_id = format!("{}#{c}", d.doc_id);
            docs.push(d);
        }
    }
    let n_docs = docs.len();
    let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
    let ids: Vec<String> = docs.iter().map(|d| d.doc_id.clone()).collect();
    let corpus = Corpus::from_texts(texts, Some(ids));
    let (tables, tm) = pipeline.analyze_corpus(corpus)?;
    let n = tables.sentences.height();
    let threads = a.common.threads.map_or_else(
        || format!("{} (libtorch default)", tch::get_num_threads()),
        |t| t.to_string(),
    );
    println!(
        "presslens bench: {n_docs} documents ({copies} copies of {}), {n} sentences, {} entities",
        base.len(),
        tables.entities.height()
    );
    println!(
        "models loaded in {load_s:.2}s; batch size {}, window {}, threads {threads}, shared encoder {}",
        a.common.batch_size, a.common.max_window, !a.common.no_shared_encoder
    );
    println!("  clean     {}", rate(n, tm.clean));
    println!("  segment   {}", rate(n, tm.segment));
    println!("  infer     {}", rate(n, tm.infer));
    println!("  link      {}", rate(n, tm.link));
    println!("  end2end   {}", rate(n, tm.total));
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_bad_args() {
        assert_eq!(main(["presslens", "--bogus"]), 2);
        assert_eq!(
            main(["presslens", "run", "/no/such/input", "-o", "/tmp/x"]),
            1
        );
        assert!(model_opt("none").expect("ok").is_none());
        assert_eq!(model_opt("default").expect("ok"), Some(ModelSpec::Default));
    }
}
