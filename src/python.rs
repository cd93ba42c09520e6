//! The Python binding: converts types and maps errors, nothing more. The pipeline lives
//! in the other modules; the Python package (`python/presslens`) wraps these functions.
//!
//! Options cross as one JSON object of keyword arguments, turned into the core's option
//! types by [`crate::options::from_json`]: names, defaults and checks are the core's.

use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::PyString;
use pyo3_polars::PyDataFrame;

use crate::error::Error;
use crate::infer::{Analyzer, InferOptions};
use crate::ingest::InputSpec;
use crate::options::{from_json, option_names, PipelineOptions};
use crate::segment::Segmenter;
use crate::sink::Mode;
use crate::tables::TABLES;

/// The one place where library errors become Python exceptions (`presslens.exceptions`).
fn to_py(py: Python<'_>, e: Error) -> PyErr {
    let class = match &e {
        Error::Input { .. } | Error::Io { .. } => "InputError",
        Error::Output { .. } => "OutputError",
        Error::Model { .. } => "ModelError",
        Error::Option { .. } | Error::Clean(_) => "OptionError",
        Error::Interrupted => return PyKeyboardInterrupt::new_err("presslens run interrupted"),
        Error::Inference(_) | Error::Table { .. } | Error::Manifest(_) => "PresslensError",
    };
    let msg = e.to_string();
    match py
        .import("presslens.exceptions")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call1((msg,)))
    {
        Ok(exc) => PyErr::from_value(exc),
        Err(import_failed) => import_failed,
    }
}

/// Run `f` without the GIL; between chunks, let Python handle pending signals (Ctrl-C),
/// which stops the run and re-raises Python's own exception.
fn detach_interruptible<T: Send>(
    py: Python<'_>,
    f: impl FnOnce(&dyn Fn() -> bool) -> Result<T, Error> + Send,
) -> PyResult<T> {
    let pending: Mutex<Option<PyErr>> = Mutex::new(None);
    let stop = || match Python::attach(|py| py.check_signals()) {
        Ok(()) => false,
        Err(e) => {
            if let Ok(mut p) = pending.lock() {
                *p = Some(e);
            }
            true
        }
    };
    match py.detach(|| f(&stop)) {
        Ok(v) => Ok(v),
        Err(Error::Interrupted) => Err(pending
            .lock()
            .ok()
            .and_then(|mut p| p.take())
            .unwrap_or_else(|| PyKeyboardInterrupt::new_err("presslens run interrupted"))),
        Err(e) => Err(to_py(py, e)),
    }
}

/// Python strings to Rust strings; a string that is not valid Unicode (lone surrogates)
/// is decoded lossily and flagged, as invalid UTF-8 in files is.
fn lossy_strings(items: Vec<Bound<'_, PyString>>) -> Vec<(String, Option<String>)> {
    items
        .into_iter()
        .map(|s| match s.to_cow() {
            Ok(t) => (t.into_owned(), None),
            Err(_) => {
                let text = s.to_string_lossy().into_owned();
                let replaced = text.matches('\u{FFFD}').count();
                let warning =
                    format!("invalid Unicode (lone surrogates): {replaced} character(s) replaced with U+FFFD");
                (text, Some(warning))
            }
        })
        .collect()
}

/// Split text into sentences (list of strings).
#[pyfunction]
fn split_sentences(text: &str) -> Vec<String> {
    Segmenter::default()
        .sentences(text)
        .into_iter()
        .map(|s| text[s.bytes].to_string())
        .collect()
}

/// Sentence spans as (start, end) character offsets, as Python indexes strings.
#[pyfunction]
fn sentence_spans(text: &str) -> Vec<(usize, usize)> {
    Segmenter::default()
        .sentences(text)
        .into_iter()
        .map(|s| (s.chars.start, s.chars.end))
        .collect()
}

/// Clean one article with the default rules (plus extra drop patterns).
#[pyfunction]
#[pyo3(signature = (text, drop_patterns = Vec::new()))]
fn clean_text(py: Python<'_>, text: &str, drop_patterns: Vec<String>) -> PyResult<String> {
    let opts = crate::options::CleanOptions {
        drop_patterns,
        ..Default::default()
    };
    Ok(opts.rules().map_err(|e| to_py(py, e))?.clean(text).text)
}

/// Analyse in-memory texts; returns ([(table name, frame)], manifest JSON).
#[pyfunction]
#[pyo3(signature = (texts, ids, options))]
fn analyze<'py>(
    py: Python<'py>,
    texts: Vec<Bound<'py, PyString>>,
    ids: Option<Vec<String>>,
    options: &str,
) -> PyResult<(Vec<(String, PyDataFrame)>, String)> {
    let opts: PipelineOptions = from_json(options).map_err(|e| to_py(py, e))?;
    let texts = lossy_strings(texts);
    let (tables, manifest) = detach_interruptible(py, move |stop| {
        crate::pipeline::analyze_decoded(texts, ids, opts, stop)
    })?;
    let manifest = serde_json::to_string(&manifest).map_err(|e| to_py(py, Error::Manifest(e)))?;
    let frames = tables
        .into_named()
        .into_iter()
        .map(|(name, df)| (name.to_string(), PyDataFrame(df)))
        .collect();
    Ok((frames, manifest))
}

/// Sentiment and entities of sentences taken as they are (no cleaning, no splitting);
/// returns (sentences, entities) frames.
/// With `targets` (character spans per sentence), the entities frame holds the sentiment
/// toward those spans instead of NER's mentions.
#[pyfunction]
#[pyo3(signature = (sentences, options, targets=None))]
fn predict(
    py: Python<'_>,
    sentences: Vec<String>,
    options: &str,
    targets: Option<Vec<Vec<(usize, usize)>>>,
) -> PyResult<(PyDataFrame, PyDataFrame)> {
    let opts: InferOptions = from_json(options).map_err(|e| to_py(py, e))?;
    let [s, e] = detach_interruptible(py, move |_| {
        let analyzer = Analyzer::new(&opts)?;
        match &targets {
            Some(t) => crate::pipeline::predict_targets(&analyzer, &sentences, t),
            None => crate::pipeline::predict(&analyzer, &sentences),
        }
    })?;
    Ok((PyDataFrame(s), PyDataFrame(e)))
}

/// Analyse a corpus on disk and write the run folder; returns the manifest as JSON.
/// `input_options` holds the [`InputSpec`] fields but the path, `options` the pipeline's.
#[pyfunction]
#[pyo3(signature = (input, output, input_options, options, mode))]
fn run(
    py: Python<'_>,
    input: PathBuf,
    output: PathBuf,
    input_options: &str,
    options: &str,
    mode: &str,
) -> PyResult<String> {
    let mut spec: InputSpec = from_json(input_options).map_err(|e| to_py(py, e))?;
    spec.path = input;
    let opts: PipelineOptions = from_json(options).map_err(|e| to_py(py, e))?;
    let mode: Mode = serde_json::from_value(serde_json::Value::String(mode.to_string()))
        .map_err(|e| to_py(py, Error::option("mode", e.to_string())))?;
    let manifest = detach_interruptible(py, move |stop| {
        crate::pipeline::run(&spec, &output, opts, mode, &mut |_| (), stop)
    })?;
    serde_json::to_string(&manifest).map_err(|e| to_py(py, Error::Manifest(e)))
}

/// A loaded pipeline for the batches of a distributed run (Spark, Ray): load once per
/// worker process, then analyse one in-memory table (an Arrow record batch) at a time.
#[pyclass(module = "presslens._presslens")]
struct BatchAnalyzer {
    pipeline: crate::pipeline::Pipeline,
}

#[pymethods]
impl BatchAnalyzer {
    #[new]
    #[pyo3(signature = (options))]
    fn new(py: Python<'_>, options: &str) -> PyResult<Self> {
        let opts: PipelineOptions = from_json(options).map_err(|e| to_py(py, e))?;
        let pipeline = py
            .detach(move || crate::pipeline::Pipeline::new(opts))
            .map_err(|e| to_py(py, e))?;
        Ok(BatchAnalyzer { pipeline })
    }

    /// Analyse one table; `input_options` holds the [`InputSpec`] column options and `label`
    /// names the table in sources and messages. Returns the (documents, sentences,
    /// document-linked mentions) frames.
    #[pyo3(signature = (frame, input_options, label))]
    fn analyze(
        &self,
        py: Python<'_>,
        frame: PyDataFrame,
        input_options: &str,
        label: &str,
    ) -> PyResult<(PyDataFrame, PyDataFrame, PyDataFrame)> {
        let mut spec: InputSpec = from_json(input_options).map_err(|e| to_py(py, e))?;
        spec.path = PathBuf::from(label);
        let pipeline = &self.pipeline;
        let [d, s, m] = detach_interruptible(py, move |stop| {
            let corpus = crate::ingest::Corpus::from_frame(&frame.0, &spec)?;
            pipeline.analyze_batch(corpus, &spec.keep_cols, stop)
        })?;
        Ok((PyDataFrame(d), PyDataFrame(s), PyDataFrame(m)))
    }

    /// The manifest (JSON) of a distributed run: its `input` (a path or a description) read
    /// with `input_options`, `rows` per table, `files` a glob with `{table}` for the table's
    /// name, `counts` / `timings` / `errors` as in a local run's.
    #[pyo3(signature = (input, input_options, rows, files, counts, timings, errors))]
    #[allow(clippy::too_many_arguments)]
    fn manifest(
        &self,
        py: Python<'_>,
        input: PathBuf,
        input_options: &str,
        rows: Vec<(String, usize)>,
        files: &str,
        counts: &str,
        timings: &str,
        errors: &str,
    ) -> PyResult<String> {
        let json_err =
            |what: &str, e: serde_json::Error| to_py(py, Error::option(what, e.to_string()));
        let counts = serde_json::from_str(counts).map_err(|e| json_err("counts", e))?;
        let timings = serde_json::from_str(timings).map_err(|e| json_err("timings", e))?;
        let errors = serde_json::from_str(errors).map_err(|e| json_err("errors", e))?;
        let mut spec: InputSpec = from_json(input_options).map_err(|e| to_py(py, e))?;
        spec.path = input;
        let rows: Vec<(&str, usize)> = rows.iter().map(|(t, n)| (t.as_str(), *n)).collect();
        let files = |t: &str| files.replace("{table}", t);
        let manifest = self
            .pipeline
            .batch_manifest(spec, &rows, &files, counts, timings, errors)
            .map_err(|e| to_py(py, e))?;
        serde_json::to_string(&manifest).map_err(|e| to_py(py, Error::Manifest(e)))
    }
}

/// Empty (documents, sentences, mentions) frames of a distributed run's batch, with the
/// kept columns: the columns and types, without loading a model.
#[pyfunction]
fn batch_frames(
    py: Python<'_>,
    keep_cols: Vec<String>,
) -> PyResult<(PyDataFrame, PyDataFrame, PyDataFrame)> {
    let [d, s, m] = crate::tables::batch_frames(&keep_cols).map_err(|e| to_py(py, e))?;
    Ok((PyDataFrame(d), PyDataFrame(s), PyDataFrame(m)))
}

/// Corpus-level linking of a distributed run's counted distinct mentions (see
/// `tables::link_distinct_frame`): adds `entity`, `entity_label`, `entity_id`,
/// `country_code`, `alias_source`, `latitude` and `longitude`. `gazetteer`: the option.
#[pyfunction]
#[pyo3(signature = (distinct, gazetteer = true))]
fn link_distinct(py: Python<'_>, distinct: PyDataFrame, gazetteer: bool) -> PyResult<PyDataFrame> {
    crate::tables::link_distinct_frame(distinct.0, gazetteer)
        .map(PyDataFrame)
        .map_err(|e| to_py(py, e))
}

/// Option names per options type: `pipeline`, `input`, `infer` (for the wrappers' checks).
#[pyfunction]
fn option_names_of(py: Python<'_>, kind: &str) -> PyResult<Vec<String>> {
    match kind {
        "pipeline" => Ok(option_names::<PipelineOptions>()),
        "input" => Ok(option_names::<InputSpec>()
            .into_iter()
            .filter(|n| n != "path")
            .collect()),
        "infer" => Ok(option_names::<InferOptions>()),
        other => Err(to_py(
            py,
            Error::option(
                "kind",
                format!("'{other}': expected pipeline, input or infer"),
            ),
        )),
    }
}

/// Check pipeline options (JSON) without loading anything; raises `OptionError`.
#[pyfunction]
fn check_options(py: Python<'_>, options: &str) -> PyResult<()> {
    let opts: PipelineOptions = from_json(options).map_err(|e| to_py(py, e))?;
    opts.validate().map_err(|e| to_py(py, e))
}

/// The default pipeline options as JSON.
#[pyfunction]
fn default_options() -> String {
    serde_json::to_string(&PipelineOptions::default()).unwrap_or_else(|_| "{}".into())
}

/// The `presslens` command line; returns the exit code.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> PyResult<i32> {
    detach_interruptible(py, move |stop| Ok(crate::cli::main(argv, stop)))
}

/// Write a tiny random BERT (tests and plumbing only; feature `testing`): sentiment with
/// `sentiment_classes` labels (2 or 3), NER, and a target head with `target_pooling`
/// (`None`: no target head).
#[cfg(feature = "testing")]
#[pyfunction]
#[pyo3(signature = (
    path, vocab=None, seed=0, sentiment_classes=3,
    target_pooling=Some(vec!["cls".to_string(), "mean".to_string()])
))]
fn write_random_model(
    py: Python<'_>,
    path: PathBuf,
    vocab: Option<PathBuf>,
    seed: i64,
    sentiment_classes: usize,
    target_pooling: Option<Vec<String>>,
) -> PyResult<()> {
    let what = crate::infer::testing::RandomModel {
        casing: false,
        sentiment_classes,
        target_pooling,
    };
    crate::infer::testing::write_random_model_opts(&path, vocab.as_deref(), seed, &what)
        .map_err(|e| to_py(py, e))
}

#[pymodule]
fn _presslens(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("TABLES", TABLES.to_vec())?;
    m.add("MANIFEST", crate::tables::MANIFEST)?;
    m.add_function(wrap_pyfunction!(split_sentences, m)?)?;
    m.add_function(wrap_pyfunction!(sentence_spans, m)?)?;
    m.add_function(wrap_pyfunction!(clean_text, m)?)?;
    m.add_function(wrap_pyfunction!(analyze, m)?)?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(predict, m)?)?;
    m.add_function(wrap_pyfunction!(option_names_of, m)?)?;
    m.add_function(wrap_pyfunction!(default_options, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(link_distinct, m)?)?;
    m.add_function(wrap_pyfunction!(batch_frames, m)?)?;
    m.add_function(wrap_pyfunction!(check_options, m)?)?;
    m.add_class::<BatchAnalyzer>()?;
    #[cfg(feature = "testing")]
    m.add_function(wrap_pyfunction!(write_random_model, m)?)?;
    Ok(())
}
