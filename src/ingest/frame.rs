//! A table already in memory (a polars `DataFrame`, e.g. an Arrow record batch handed over
//! by Spark or Ray) as documents; also the row conversion the Parquet reader uses per slice.

use polars::prelude::*;

use super::{
    keep_positions, make_doc, pick_column, InputSpec, RawDoc, ID_COLUMN_CANDIDATES,
    TEXT_COLUMN_CANDIDATES, TITLE_COLUMN_CANDIDATES,
};
use crate::error::{Error, Result};

/// The columns a table's documents are read from.
#[derive(Debug, Clone)]
pub(crate) struct DocColumns {
    pub(crate) text: String,
    pub(crate) id: Option<String>,
    pub(crate) title: Option<String>,
    pub(crate) keep: Vec<String>,
}

impl DocColumns {
    /// Choose the columns among `names` as `spec` asks (or by the usual names).
    pub(crate) fn pick(spec: &InputSpec, names: &[String]) -> Result<Self> {
        let p = &spec.path;
        let pick = |wanted: &Option<String>, candidates: &[&str], what: &str, required: bool| {
            pick_column(wanted.as_deref(), candidates, names, what, p, required)
        };
        let text = pick(&spec.text_col, &TEXT_COLUMN_CANDIDATES, "text", true)?.unwrap_or(0);
        let id = pick(&spec.id_col, &ID_COLUMN_CANDIDATES, "id", false)?;
        let title = pick(&spec.title_col, &TITLE_COLUMN_CANDIDATES, "title", false)?;
        Ok(DocColumns {
            text: names[text].clone(),
            id: id.map(|i| names[i].clone()),
            title: title.map(|i| names[i].clone()),
            keep: keep_positions(spec, names)?
                .into_iter()
                .map(|i| names[i].clone())
                .collect(),
        })
    }

    /// The distinct columns to read, text first.
    pub(crate) fn to_read(&self) -> Vec<String> {
        let mut out = vec![self.text.clone()];
        for c in self.id.iter().chain(&self.title).chain(&self.keep) {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
        out
    }

    /// Documents of `df`'s rows; row `i` is named `{source}#row{offset + i + 1}` (and, when
    /// it has no id, `{stem}-row{…}`).
    pub(crate) fn docs(
        &self,
        df: &DataFrame,
        offset: usize,
        source: &str,
        stem: &str,
    ) -> PolarsResult<Vec<RawDoc>> {
        let as_strings = |name: &str| -> PolarsResult<Vec<Option<String>>> {
            let col = df.column(name)?.cast(&DataType::String)?;
            Ok(col.str()?.iter().map(|v| v.map(str::to_owned)).collect())
        };
        let texts = as_strings(&self.text)?;
        let n = texts.len();
        let optional = |name: &Option<String>| match name {
            Some(c) => as_strings(c),
            None => Ok(vec![None; n]),
        };
        let ids = optional(&self.id)?;
        let titles = optional(&self.title)?;
        let kept = self
            .keep
            .iter()
            .map(|c| as_strings(c))
            .collect::<PolarsResult<Vec<_>>>()?;
        Ok(texts
            .into_iter()
            .zip(ids)
            .zip(titles)
            .enumerate()
            .map(|(i, ((text, id), title))| {
                let row = offset + i + 1;
                let mut doc = make_doc(
                    id,
                    title,
                    text,
                    format!("{source}#row{row}"),
                    format!("{stem}-row{row}"),
                    &self.text,
                );
                doc.meta = kept
                    .iter()
                    .map(|col| col.get(i).cloned().flatten())
                    .collect();
                doc
            })
            .collect())
    }
}

/// The documents of an in-memory table. `spec.path` names the table in sources and
/// messages (e.g. `batch`); the text column must hold strings (or binary, categories or
/// nulls), an id or title column strings or numbers.
pub(crate) fn frame_docs(df: &DataFrame, spec: &InputSpec) -> Result<Vec<RawDoc>> {
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let cols = DocColumns::pick(spec, &names)?;
    let bad = |reason: String| Error::Input {
        path: spec.path.clone(),
        reason,
    };
    for (role, column, text_only) in [
        ("text", Some(&cols.text), true),
        ("id", cols.id.as_ref(), false),
        ("title", cols.title.as_ref(), false),
    ] {
        let Some(c) = column else { continue };
        let dtype = df.column(c).map_err(|e| bad(e.to_string()))?.dtype();
        let fits = match dtype {
            DataType::String | DataType::Binary | DataType::Null => true,
            DataType::Categorical(..) | DataType::Enum(..) => true,
            dt if dt.is_nested() => false,
            _ => !text_only,
        };
        if !fits {
            let expected = if text_only {
                "a string column"
            } else {
                "a string or a number column"
            };
            return Err(bad(format!(
                "{role} column '{c}' has type {dtype}; expected {expected}"
            )));
        }
    }
    let label = spec.path.display().to_string();
    cols.docs(df, 0, &label, &label)
        .map_err(|e| bad(format!("cannot read the rows: {e}")))
}
