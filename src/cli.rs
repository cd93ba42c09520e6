//! The `presslens` command line: `run`, `split` and `bench`. The Python package's console
//! script calls [`main`] (and adds the Python commands `train`, `evaluate`, `report`).
//!
//! Exit codes, as ruff's: 0 success; 1 with `--strict` when any document failed;
//! 2 when the run could not be done (bad arguments, unreadable input, model or output
//! errors); 130 when interrupted (SIGINT) at a chunk boundary (rerun to resume).

use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};

use crate::error::{Error, Result};
use crate::infer::{DeviceChoice, InferOptions, Precision};

/// The CPU batch size before encoder streams (the "before" pass of `presslens bench`).
const BATCH_SIZE_BEFORE_STREAMS: usize = 32;
use crate::ingest::{Corpus, Format, InputSpec, RawDoc};
use crate::manifest::Timings;
use crate::options::{parse_model, CleanOptions, PipelineOptions};
use crate::pipeline::Pipeline;
use crate::segment::Segmenter;
use crate::sink::Mode;

/// Exit code: success.
pub const EXIT_OK: i32 = 0;
/// Exit code: `--strict` and at least one document failed.
pub const EXIT_DOCUMENTS_FAILED: i32 = 1;
/// Exit code: the command could not run (usage, input, model, output errors).
pub const EXIT_ERROR: i32 = 2;
/// Exit code: interrupted by SIGINT (128 + 2, as shells report it).
pub const EXIT_INTERRUPTED: i32 = 130;

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

/// The pipeline options ([`PipelineOptions`]) as flags, shared by `run` and `bench`.
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
    /// Sentence windows per encoder batch (default: 8 on CPU, 32 on CUDA).
    #[arg(long)]
    batch_size: Option<usize>,
    /// Longest encoder window in tokens; longer sentences are split into overlapping windows.
    #[arg(long, default_value_t = InferOptions::default().max_window)]
    max_window: usize,
    /// CPU threads: cleaning, splitting and encoder streams, one libtorch thread each
    /// (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Encoder arithmetic: int8 (CPU), fp32, or auto (int8 on CPU, fp32 on CUDA).
    #[arg(long, value_enum, default_value_t = Precision::Auto)]
    precision: Precision,
    /// Run the two heads of a multi-task model in separate encoder passes (to measure the gain
    /// of sharing the encoder).
    #[arg(long, hide = true)]
    no_shared_encoder: bool,
    /// Encode one batch at a time over libtorch's threads instead of parallel streams (to
    /// measure the gain of streams).
    #[arg(long, hide = true)]
    no_encoder_streams: bool,
    /// Documents per chunk (bounds memory; one Parquet row group per chunk).
    #[arg(long, default_value_t = PipelineOptions::default().chunk_size)]
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
    /// Do not link places and demonyms to the built-in gazetteer (GeoNames): no entity ids,
    /// country codes or coordinates, and "U.S." stays apart from "United States".
    #[arg(long)]
    no_gazetteer: bool,
    /// Longest sentence in characters; longer ones are cut at whitespace (with a warning).
    #[arg(long, default_value_t = PipelineOptions::default().max_sentence_chars)]
    max_sentence_chars: usize,
    /// Longest document in characters; longer ones are not analysed (per-document error).
    #[arg(long, default_value_t = PipelineOptions::default().max_document_chars)]
    max_document_chars: usize,
}

/// The input options ([`InputSpec`]) as flags.
#[derive(Debug, Args)]
struct InputArgs {
    /// Folder of .txt/.md files, or a .jsonl, .csv, .tsv or .parquet file.
    input: PathBuf,
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
    /// Follow symbolic links in the input folder that lead outside it (by default such a
    /// link is reported as a failed document; links within the folder are always followed).
    #[arg(long)]
    follow_links: bool,
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Output folder for the Parquet tables and manifest.json.
    #[arg(short, long)]
    output: PathBuf,
    /// No progress bar or summary.
    #[arg(short, long)]
    quiet: bool,
    /// Exit with code 1 when any document failed (the tables are written all the same).
    #[arg(long)]
    strict: bool,
    /// Add the input's documents whose doc_id is not in OUTPUT yet, then recompute the
    /// corpus-level tables over everything.
    #[arg(long, conflicts_with = "overwrite")]
    append: bool,
    /// Remove the run in OUTPUT (its tables, journal and manifest) and start over.
    #[arg(long)]
    overwrite: bool,
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

impl CommonArgs {
    /// The one mapping from flags to [`PipelineOptions`].
    fn options(&self) -> Result<PipelineOptions> {
        Ok(PipelineOptions {
            clean: CleanOptions {
                drop_patterns: self.drop_patterns.clone(),
                clean_rules: self.clean_rules.clone(),
                keep_duplicate_lines: self.keep_duplicate_lines,
            },
            infer: InferOptions {
                sentiment_model: parse_model(&self.sentiment_model)?,
                ner_model: parse_model(&self.ner_model)?,
                device: self.device,
                batch_size: self.batch_size,
                max_window: self.max_window,
                threads: self.threads,
                precision: self.precision,
                share_encoder: !self.no_shared_encoder,
                encoder_streams: !self.no_encoder_streams,
            },
            abbreviations: self.abbreviations.clone(),
            chunk_size: self.chunk_size,
            aliases: self.aliases.clone(),
            gazetteer: !self.no_gazetteer,
            max_sentence_chars: self.max_sentence_chars,
            max_document_chars: self.max_document_chars,
        })
    }
}

impl InputArgs {
    /// The one mapping from flags to [`InputSpec`].
    fn spec(self) -> InputSpec {
        InputSpec {
            path: self.input,
            format: self.format,
            text_col: self.text_col,
            id_col: self.id_col,
            title_col: self.title_col,
            keep_cols: self.keep_cols,
            follow_links: self.follow_links,
        }
    }
}

/// Run the CLI with `argv` (program name first); returns the process exit code. `stop` is
/// polled between chunks: when it returns true the run stops after its committed chunks.
pub fn main<I, T>(argv: I, stop: &dyn Fn() -> bool) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::Run(a) => run(a, stop),
        Command::Split { text, offsets } => split(text, offsets),
        Command::Bench(a) => bench(a),
    };
    match result {
        Ok(code) => code,
        Err(Error::Interrupted) => EXIT_INTERRUPTED,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_ERROR
        }
    }
}

fn run(a: RunArgs, stop: &dyn Fn() -> bool) -> Result<i32> {
    let options = a.common.options()?;
    let input = a.input.spec();
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
    let mode = if a.append {
        Mode::Append
    } else if a.overwrite {
        Mode::Overwrite
    } else {
        Mode::Resume
    };
    let started = Instant::now();
    let mut announced = false;
    let mut done = 0;
    let result = crate::pipeline::run(
        &input,
        &a.output,
        options,
        mode,
        &mut |p| {
            done = p.documents_done;
            if p.documents_skipped > 0 && !announced && !a.quiet {
                announced = true;
                let why = if mode == Mode::Append {
                    "already in the output"
                } else {
                    "committed by the interrupted run; resuming after them"
                };
                bar.suspend(|| {
                    eprintln!(
                        "presslens: skipping {} document(s) {why}",
                        p.documents_skipped
                    )
                });
            }
            if let Some(t) = p.documents_total {
                bar.set_length(t as u64);
            }
            bar.set_position(p.documents_done as u64);
            let rate = p.sentences_done as f64 / started.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{} sentences ({rate:.0}/s)", p.sentences_done));
        },
        stop,
    );
    bar.finish_and_clear();
    if let Err(Error::Interrupted) = result {
        eprintln!(
            "presslens: interrupted after {done} more document(s); the committed chunks are \
             kept in {}: run the same command again to resume",
            a.output.display()
        );
    }
    let manifest = result?;
    let failed = &manifest.errors;
    if !a.quiet {
        let c = manifest.counts;
        eprintln!(
            "presslens: {} documents, {} sentences, {} entities in {:.1}s -> {}",
            c.documents,
            c.sentences,
            c.entities,
            manifest.timings.total,
            a.output.display()
        );
        if !failed.is_empty() {
            eprintln!("{} document(s) failed:", failed.len());
            for e in failed.iter().take(20) {
                eprintln!("  {} ({}): {}", e.doc_id, e.source, e.error);
            }
            if failed.len() > 20 {
                eprintln!("  ... see manifest.json for all {}", failed.len());
            }
        }
    }
    Ok(if a.strict && !failed.is_empty() {
        EXIT_DOCUMENTS_FAILED
    } else {
        EXIT_OK
    })
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
    for s in Segmenter::default().sentences(&text) {
        let sentence = &text[s.bytes];
        if offsets {
            println!("{}\t{}\t{sentence}", s.chars.start, s.chars.end);
        } else {
            println!("{sentence}");
        }
    }
    Ok(EXIT_OK)
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
    // On CPU without an explicit --precision: fp32 as presslens ran before streams (batches
    // of 32, one at a time over libtorch's threads), fp32 and int8 with streams, side by side.
    let passes: Vec<(Precision, bool)> = match (a.common.precision, opts.infer.device.resolve()?) {
        (Precision::Auto, tch::Device::Cpu) if opts.infer.encoder_streams => vec![
            (Precision::Fp32, false),
            (Precision::Fp32, true),
            (Precision::Int8, true),
        ],
        (p, _) => vec![(p, opts.infer.encoder_streams)],
    };
    let mut end2end = Vec::new();
    for (precision, streams) in passes {
        let mut opts = opts.clone();
        opts.infer.precision = precision;
        opts.infer.encoder_streams = streams;
        if !streams && opts.infer.batch_size.is_none() {
            opts.infer.batch_size = Some(BATCH_SIZE_BEFORE_STREAMS);
        }
        end2end.push(bench_one(&base, &a, opts)?);
    }
    if let [before, fp32, int8] = end2end.as_slice() {
        println!(
            "int8 / fp32: {:.2}x end to end; int8 / fp32 without streams (before): {:.2}x",
            int8 / fp32.max(1e-9),
            int8 / before.max(1e-9)
        );
    }
    Ok(EXIT_OK)
}

/// One benchmark pass; prints its figures and returns the end-to-end sentences per second.
fn bench_one(base: &[RawDoc], a: &BenchArgs, opts: PipelineOptions) -> Result<f64> {
    let (precision, streams) = (opts.infer.precision, opts.infer.encoder_streams);
    let t = Instant::now();
    let pipeline = Pipeline::new(opts)?;
    let load_s = t.elapsed().as_secs_f64();
    // Replicate until the corpus has enough sentences.
    let per_copy = {
        let mut tm = Timings::default();
        pipeline
            .process(base.to_vec(), &mut tm)
            .sent
            .doc_id
            .len()
            .max(1)
    };
    let copies = a.min_sentences.div_ceil(per_copy).max(1);
    let mut docs = Vec::with_capacity(base.len() * copies);
    for c in 0..copies {
        for d in base {
            let mut d = d.clone();
            d.doc_id = format!("{}#{c}", d.doc_id);
            docs.push(d);
        }
    }
    let n_docs = docs.len();
    let texts: Vec<String> = docs.iter().map(|d| d.text.clone()).collect();
    let ids: Vec<String> = docs.iter().map(|d| d.doc_id.clone()).collect();
    let corpus = Corpus::from_texts(texts, Some(ids))?;
    let (tables, manifest) = pipeline.analyze(corpus, &|| false)?;
    let tm = manifest.timings;
    let n = tables.height("sentences");
    println!(
        "presslens bench, precision {}{}: {n_docs} documents ({copies} copies of {}), {n} sentences, {} entities",
        precision.name(),
        if streams { "" } else { ", without streams" },
        base.len(),
        tables.height("entities")
    );
    println!(
        "models loaded in {load_s:.2}s; batch size {}, window {}, encoder streams {}, libtorch threads per stream {}, shared encoder {}",
        pipeline.batch_size(),
        a.common.max_window,
        pipeline.streams(),
        if streams { 1 } else { tch::get_num_threads() },
        !a.common.no_shared_encoder
    );
    println!("  clean     {}", rate(n, tm.clean));
    println!("  segment   {}", rate(n, tm.segment));
    println!("  infer     {}", rate(n, tm.infer));
    println!("  link      {}", rate(n, tm.link));
    println!("  end2end   {}", rate(n, tm.total));
    Ok(n as f64 / tm.total.max(1e-9))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_bad_args() {
        let never = || false;
        assert_eq!(main(["presslens", "--bogus"], &never), EXIT_ERROR);
        assert_eq!(
            main(
                ["presslens", "run", "/no/such/input", "-o", "/tmp/x"],
                &never
            ),
            EXIT_ERROR
        );
        assert_eq!(main(["presslens", "split", "One. Two."], &never), EXIT_OK);
    }
}
