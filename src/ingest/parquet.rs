//! Parquet with a text column, read in row slices so that memory stays bounded.
//!
//! Column types are checked when the file is opened, so that a wrong column is one clear
//! fatal error rather than numbers analysed as text: the text column must hold strings
//! (or binary, or categories), an id or title column strings or numbers.

use std::fs::File;
use std::path::PathBuf;

use polars::prelude::*;

use super::frame::DocColumns;
use super::{file_stem, InputSpec, RawDoc};
use crate::error::{Error, Result};

/// Parquet, read in row slices so that memory stays bounded.
pub(crate) struct ParquetDocs {
    path: PathBuf,
    stem: String,
    n_rows: usize,
    offset: usize,
    slice: usize,
    cols: DocColumns,
    buffer: std::vec::IntoIter<RawDoc>,
}

impl ParquetDocs {
    const SLICE_ROWS: usize = 2048;

    pub(crate) fn open(spec: &InputSpec) -> Result<Self> {
        let p = &spec.path;
        let bad = |e: PolarsError| Error::Input {
            path: p.clone(),
            reason: format!("cannot read Parquet: {e}"),
        };
        let f = File::open(p).map_err(|e| Error::io("cannot open", p, e))?;
        let mut reader = ParquetReader::new(f);
        let schema = reader.schema().map_err(bad)?;
        let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
        let n_rows = reader.num_rows().map_err(bad)?;
        let cols = DocColumns::pick(spec, &names)?;
        for (role, column, expected) in [
            (Some("text"), Some(&cols.text), "a string column"),
            (
                cols.id.as_ref().map(|_| "id"),
                cols.id.as_ref(),
                "a string or a number column",
            ),
            (
                cols.title.as_ref().map(|_| "title"),
                cols.title.as_ref(),
                "a string or a number column",
            ),
        ] {
            let (Some(role), Some(name)) = (role, column) else {
                continue;
            };
            let Some(field) = schema.get(name.as_str()) else {
                continue;
            };
            let fits = if role == "text" {
                is_text(&field.dtype)
            } else {
                is_text(&field.dtype) || !is_nested(&field.dtype)
            };
            if !fits {
                return Err(Error::Input {
                    path: p.clone(),
                    reason: format!(
                        "{role} column '{name}' has type {}; expected {expected}",
                        type_name(&field.dtype)
                    ),
                });
            }
        }
        Ok(ParquetDocs {
            path: p.clone(),
            stem: file_stem(p),
            n_rows,
            offset: 0,
            slice: Self::SLICE_ROWS,
            cols,
            buffer: Vec::new().into_iter(),
        })
    }

    /// Number of rows in the file.
    pub(crate) fn n_rows(&self) -> usize {
        self.n_rows
    }

    fn read_slice(&mut self) -> std::result::Result<Vec<RawDoc>, PolarsError> {
        let f = File::open(&self.path).map_err(|e| PolarsError::IO {
            error: std::sync::Arc::new(e),
            msg: None,
        })?;
        let df = ParquetReader::new(f)
            .with_columns(Some(self.cols.to_read()))
            .with_slice(Some((self.offset, self.slice)))
            .finish()?;
        self.cols.docs(
            &df,
            self.offset,
            &self.path.display().to_string(),
            &self.stem,
        )
    }
}

impl Iterator for ParquetDocs {
    type Item = RawDoc;
    fn next(&mut self) -> Option<RawDoc> {
        if let Some(d) = self.buffer.next() {
            return Some(d);
        }
        if self.offset >= self.n_rows {
            return None;
        }
        let docs = match self.read_slice() {
            Ok(d) => d,
            Err(e) => {
                // The slice cannot be decoded: report every row of it, then go on.
                let end = (self.offset + self.slice).min(self.n_rows);
                (self.offset..end)
                    .map(|r| {
                        RawDoc::failed(
                            format!("{}-row{}", self.stem, r + 1),
                            format!("{}#row{}", self.path.display(), r + 1),
                            format!("cannot decode Parquet rows: {e}"),
                        )
                    })
                    .collect()
            }
        };
        self.offset += self.slice;
        self.buffer = docs.into_iter();
        self.buffer.next()
    }
}

/// Whether a column of this type holds text: strings, binary (read as UTF-8), categories
/// of strings, or only nulls.
fn is_text(dtype: &ArrowDataType) -> bool {
    match dtype {
        ArrowDataType::Utf8
        | ArrowDataType::LargeUtf8
        | ArrowDataType::Utf8View
        | ArrowDataType::Binary
        | ArrowDataType::LargeBinary
        | ArrowDataType::BinaryView
        | ArrowDataType::Null => true,
        ArrowDataType::Dictionary(_, values, _) => is_text(values),
        ArrowDataType::Extension(ext) => is_text(&ext.inner),
        _ => false,
    }
}

/// Whether a column of this type holds lists, structs or other nested values.
fn is_nested(dtype: &ArrowDataType) -> bool {
    matches!(
        dtype,
        ArrowDataType::List(_)
            | ArrowDataType::LargeList(_)
            | ArrowDataType::FixedSizeList(..)
            | ArrowDataType::Struct(_)
            | ArrowDataType::Map(..)
            | ArrowDataType::Union(_)
            | ArrowDataType::Unknown
    )
}

/// A column type as polars prints it (`f64`, `list[str]`).
fn type_name(dtype: &ArrowDataType) -> String {
    use ArrowDataType as T;
    match dtype {
        T::Null => "null".into(),
        T::Boolean => "bool".into(),
        T::Int8 => "i8".into(),
        T::Int16 => "i16".into(),
        T::Int32 => "i32".into(),
        T::Int64 => "i64".into(),
        T::Int128 => "i128".into(),
        T::UInt8 => "u8".into(),
        T::UInt16 => "u16".into(),
        T::UInt32 => "u32".into(),
        T::UInt64 => "u64".into(),
        T::UInt128 => "u128".into(),
        T::Float16 => "f16".into(),
        T::Float32 => "f32".into(),
        T::Float64 => "f64".into(),
        T::Utf8 | T::LargeUtf8 | T::Utf8View => "str".into(),
        T::Binary | T::LargeBinary | T::BinaryView | T::FixedSizeBinary(_) => "binary".into(),
        T::Date32 => "date".into(),
        T::Date64 | T::Timestamp(..) => "datetime".into(),
        T::Time32(_) | T::Time64(_) => "time".into(),
        T::Duration(_) => "duration".into(),
        T::Decimal(..) => "decimal".into(),
        T::List(f) | T::LargeList(f) => format!("list[{}]", type_name(&f.dtype)),
        T::FixedSizeList(f, n) => format!("array[{}, {n}]", type_name(&f.dtype)),
        T::Struct(fields) => format!("struct[{}]", fields.len()),
        T::Dictionary(_, values, _) => format!("categorical[{}]", type_name(values)),
        other => format!("{other:?}").to_lowercase(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Corpus;
    use super::*;

    #[test]
    fn parquet_slices() {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("c.parquet");
        let n = ParquetDocs::SLICE_ROWS + 5;
        let texts: Vec<Option<String>> = (0..n)
            .map(|i| {
                if i == 3 {
                    None
                } else {
                    Some(format!("Doc number {i}."))
                }
            })
            .collect();
        let ids: Vec<i64> = (0..n as i64).collect();
        let mut df = df!("id" => ids, "text" => texts).expect("df");
        let f = File::create(&p).expect("create");
        ParquetWriter::new(f).finish(&mut df).expect("write");
        let docs: Vec<RawDoc> = Corpus::open(&spec(&p)).expect("open").collect();
        assert_eq!(docs.len(), n);
        assert_eq!(docs[n - 1].doc_id, (n - 1).to_string());
        assert_eq!(docs[n - 1].text, format!("Doc number {}.", n - 1));
        assert!(docs[3].error.is_some());
    }

    #[test]
    fn kept_columns_from_parquet() {
        // A kept column may also be the id column; non-strings become strings.
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("c.parquet");
        let mut df = df!(
            "text" => ["One.", "Two."],
            "title" => [Some("T1"), None],
            "year" => [2021i64, 2022],
        )
        .expect("df");
        ParquetWriter::new(File::create(&p).expect("create"))
            .finish(&mut df)
            .expect("write");
        let mut s = keep(&p, &["year", "title2"]);
        let err = Corpus::open(&s).expect_err("missing column");
        assert!(err.to_string().contains("'title2'"), "{err}");
        s.keep_cols = vec!["year".into()];
        s.id_col = Some("year".into());
        let docs: Vec<RawDoc> = Corpus::open(&s).expect("open").collect();
        assert_eq!(docs[0].title.as_deref(), Some("T1"));
        assert_eq!(docs[1].doc_id, "2022");
        assert_eq!(docs[1].meta, [Some("2022".into())]);
    }
}
