//! The Python binding: converts types and maps errors, nothing more. The pipeline lives
//! in the other modules; the Python package (`python/presslens`) wraps these functions.

use std::path::PathBuf;

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3_polars::PyDataFrame;

use crate::error::Error;
use crate::infer::{Analyzer, DeviceChoice, InferOptions, ModelSpec};
use crate::ingest::{Corpus, Format, InputSpec};
use crate::pipeline::{CleanOptions, Pipeline, PipelineOptions};
use crate::segment::Segmenter;

create_exception!(
    presslens,
    PresslensError,
    PyException,
    "A presslens run or call failed."
);
create_exception!(
    presslens,
    InputError,
    PresslensError,
    "The input corpus cannot be read."
);
create_exception!(
    presslens,
    ModelError,
    PresslensError,
    "A model cannot be found or loaded."
);

/// The one place where library errors become Python exceptions.
fn to_py(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::Input { .. } | Error::Io { .. } => InputError::new_err(msg),
        Error::Model { .. } => ModelError::new_err(msg),
        Error::Option { .. } | Error::Clean(_) => PyValueError::new_err(msg),
        Error::Inference(_) | Error::Table { .. } => PresslensError::new_err(msg),
    }
}

fn model_opt(s: Option<&str>) -> Result<Option<ModelSpec>, Error> {
    match s {
        None => Ok(Some(ModelSpec::Default)),
        Some(s) if matches!(s.trim().to_ascii_lowercase().as_str(), "none" | "off") => Ok(None),
        Some(s) => ModelSpec::parse(s).map(Some),
    }
}

#[allow(clippy::too_many_arguments)]
fn options(
    sentiment_model: Option<&str>,
    ner_model: Option<&str>,
    device: &str,
    batch_size: usize,
    max_window: usize,
    threads: Option<usize>,
    chunk_size: usize,
    drop_patterns: Vec<String>,
    aliases: Option<PathBuf>,
) -> PyResult<PipelineOptions> {
    let device = <DeviceChoice as clap::ValueEnum>::from_str(device, true).map_err(|_| {
        PyValueError::new_err(format!(
            "device must be 'cpu', 'cuda' or 'auto', not '{device}'"
        ))
    })?;
    Ok(PipelineOptions {
        clean: CleanOptions {
            drop_patterns,
            ..Default::default()
        },
        infer: InferOptions {
            sentiment_model: model_opt(sentiment_model).map_err(to_py)?,
            ner_model: model_opt(ner_model).map_err(to_py)?,
            device,
            batch_size,
            max_window,
            threads,
            share_encoder: true,
        },
        abbreviations: Vec::new(),
        chunk_size,
        aliases,
    })
}

/// Split text into sentences (list of strings).
#[pyfunction]
fn split_sentences(text: &str) -> Vec<String> {
    Segmenter::default()
        .split(text)
        .into_iter()
        .map(|s| text[s.start..s.end].to_string())
        .collect()
}

/// Sentence spans as (start, end) character offsets, as Python indexes strings.
#[pyfunction]
fn sentence_spans(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let (mut chars, mut last) = (0, 0);
    for s in Segmenter::default().split(text) {
        chars += text[last..s.start].chars().count();
        let start = chars;
        chars += text[s.start..s.end].chars().count();
        last = s.end;
        out.push((start, chars));
    }
    out
}

/// Clean one article with the default rules (plus extra drop patterns).
#[pyfunction]
#[pyo3(signature = (text, drop_patterns = Vec::new()))]
fn clean_text(text: &str, drop_patterns: Vec<String>) -> PyResult<String> {
    let opts = CleanOptions {
        drop_patterns,
        ..Default::default()
    };
    Ok(opts.rules().map_err(to_py)?.clean(text).text)
}

/// Analyse in-memory texts; returns ({table name: frame}, timings JSON).
#[pyfunction]
#[pyo3(signature = (texts, ids=None, sentiment_model=None, ner_model=None, device="cpu", batch_size=32, max_window=256, threads=None, chunk_size=256, drop_patterns=Vec::new(), aliases=None))]
#[allow(clippy::too_many_arguments)]
fn analyze(
    py: Python<'_>,
    texts: Vec<String>,
    ids: Option<Vec<String>>,
    sentiment_model: Option<&str>,
    ner_model: Option<&str>,
    device: &str,
    batch_size: usize,
    max_window: usize,
    threads: Option<usize>,
    chunk_size: usize,
    drop_patterns: Vec<String>,
    aliases: Option<PathBuf>,
) -> PyResult<(Vec<(String, PyDataFrame)>, String)> {
    if let Some(ids) = &ids {
        if ids.len() != texts.len() {
            return Err(PyValueError::new_err(format!(
                "ids has {} items but texts has {}",
                ids.len(),
                texts.len()
            )));
        }
    }
    let opts = options(
        sentiment_model,
        ner_model,
        device,
        batch_size,
        max_window,
        threads,
        chunk_size,
        drop_patterns,
        aliases,
    )?;
    let (tables, timings) = py
        .detach(move || -> Result<_, Error> {
            let pipeline = Pipeline::new(opts)?;
            pipeline.analyze_corpus(Corpus::from_texts(texts, ids))
        })
        .map_err(to_py)?;
    let timings = serde_json::to_string(&timings).unwrap_or_else(|_| "{}".into());
    let frames = tables
        .into_named()
        .into_iter()
        .map(|(name, df)| (name.to_string(), PyDataFrame(df)))
        .collect();
    Ok((frames, timings))
}

/// Sentiment and entities of sentences taken as they are (no cleaning, no splitting);
/// returns (sentences, entities) frames.
#[pyfunction]
#[pyo3(signature = (sentences, sentiment_model=None, ner_model=None, device="cpu", batch_size=32, max_window=256, threads=None))]
#[allow(clippy::too_many_arguments)]
fn predict(
    py: Python<'_>,
    sentences: Vec<String>,
    sentiment_model: Option<&str>,
    ner_model: Option<&str>,
    device: &str,
    batch_size: usize,
    max_window: usize,
    threads: Option<usize>,
) -> PyResult<(PyDataFrame, PyDataFrame)> {
    let opts = options(
        sentiment_model,
        ner_model,
        device,
        batch_size,
        max_window,
        threads,
        1,
        Vec::new(),
        None,
    )?;
    let [s, e] = py
        .detach(move || -> Result<_, Error> {
            let analyzer = Analyzer::new(&opts.infer)?;
            crate::pipeline::predict(&analyzer, &sentences)
        })
        .map_err(to_py)?;
    Ok((PyDataFrame(s), PyDataFrame(e)))
}

/// Analyse a corpus on disk and write the tables; returns the manifest as JSON.
#[pyfunction]
#[pyo3(signature = (input, output, format="auto", text_col=None, id_col=None, title_col=None, keep_cols=Vec::new(), sentiment_model=None, ner_model=None, device="cpu", batch_size=32, max_window=256, threads=None, chunk_size=256, drop_patterns=Vec::new(), aliases=None))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    input: PathBuf,
    output: PathBuf,
    format: &str,
    text_col: Option<String>,
    id_col: Option<String>,
    title_col: Option<String>,
    keep_cols: Vec<String>,
    sentiment_model: Option<&str>,
    ner_model: Option<&str>,
    device: &str,
    batch_size: usize,
    max_window: usize,
    threads: Option<usize>,
    chunk_size: usize,
    drop_patterns: Vec<String>,
    aliases: Option<PathBuf>,
) -> PyResult<String> {
    let format = <Format as clap::ValueEnum>::from_str(format, true)
        .map_err(|_| PyValueError::new_err(format!("unknown format '{format}'")))?;
    let opts = options(
        sentiment_model,
        ner_model,
        device,
        batch_size,
        max_window,
        threads,
        chunk_size,
        drop_patterns,
        aliases,
    )?;
    let spec = InputSpec {
        path: input,
        format,
        text_col,
        id_col,
        title_col,
        keep_cols,
    };
    py.detach(move || -> Result<String, Error> {
        if !spec.path.exists() {
            return Err(Error::Input {
                path: spec.path.clone(),
                reason: "no such file or directory".into(),
            });
        }
        let pipeline = Pipeline::new(opts)?;
        pipeline.run(&spec, &output, &mut |_| {})?;
        std::fs::read_to_string(output.join(crate::sink::MANIFEST))
            .map_err(|e| Error::io("cannot read", output.join(crate::sink::MANIFEST), e))
    })
    .map_err(to_py)
}

/// The `presslens` command line; returns the exit code.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> i32 {
    py.detach(move || crate::cli::main(argv))
}

/// Write a tiny random BERT with both heads (tests and plumbing only).
#[pyfunction]
#[pyo3(signature = (path, vocab=None, seed=0))]
fn write_random_model(path: PathBuf, vocab: Option<PathBuf>, seed: i64) -> PyResult<()> {
    crate::infer::testing::write_random_model(&path, vocab.as_deref(), seed).map_err(to_py)
}

#[pymodule]
fn _presslens(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("PresslensError", py.get_type::<PresslensError>())?;
    m.add("InputError", py.get_type::<InputError>())?;
    m.add("ModelError", py.get_type::<ModelError>())?;
    m.add_function(wrap_pyfunction!(split_sentences, m)?)?;
    m.add_function(wrap_pyfunction!(sentence_spans, m)?)?;
    m.add_function(wrap_pyfunction!(clean_text, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(write_random_model, m)?)?;
    Ok(())
}
