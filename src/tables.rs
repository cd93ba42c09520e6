//! The output tables: their names, their columns, and the rows that fill them.
//!
//! Every table name and column is written here once: the sink writes these frames (each
//! table a folder of part files, `<name>/part-NNNNN.parquet`), the manifest lists [`TABLES`],
//! and Python reads the names from `presslens._presslens.TABLES`.

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::link::{Aggregator, CoocRows, CorpusIndex, StatsRows, VariantRows};

/// The tables of a run, in order; each is written as `<name>.parquet`.
pub const TABLES: [&str; 6] = [
    "documents",
    "sentences",
    "entities",
    "entity_stats",
    "cooccurrence",
    "name_variants",
];
/// Name of the run's manifest file.
pub const MANIFEST: &str = "manifest.json";

/// Columns of the `documents` table, which kept input columns may not shadow.
pub const DOCUMENT_COLUMNS: [&str; 9] = [
    "doc_id",
    "source",
    "title",
    "text",
    "n_chars",
    "n_sentences",
    "sentiment_mean",
    "error",
    "warning",
];

/// Rows of the three tables for a chunk of documents (column-oriented).
#[derive(Debug, Default, Clone)]
pub struct Rows {
    pub doc: DocRows,
    pub sent: SentRows,
    pub ent: EntRows,
}

#[derive(Debug, Default, Clone)]
pub struct DocRows {
    pub doc_id: Vec<String>,
    pub source: Vec<String>,
    pub title: Vec<Option<String>>,
    pub text: Vec<String>,
    pub n_chars: Vec<i64>,
    pub n_sentences: Vec<i64>,
    pub sentiment_mean: Vec<Option<f64>>,
    pub error: Vec<Option<String>>,
    pub warning: Vec<Option<String>>,
    /// Per document, the values of the kept input columns (see `InputSpec::keep_cols`).
    pub meta: Vec<Vec<Option<String>>>,
}

#[derive(Debug, Default, Clone)]
pub struct SentRows {
    pub doc_id: Vec<String>,
    pub sent_idx: Vec<i64>,
    pub start: Vec<i64>,
    pub end: Vec<i64>,
    pub text: Vec<String>,
    pub sentiment_label: Vec<Option<String>>,
    pub sentiment_score: Vec<Option<f32>>,
    pub polarity: Vec<Option<f32>>,
}

#[derive(Debug, Default, Clone)]
pub struct EntRows {
    pub doc_id: Vec<String>,
    pub sent_idx: Vec<i64>,
    pub start: Vec<i64>,
    pub end: Vec<i64>,
    pub text: Vec<String>,
    pub label: Vec<String>,
    pub score: Vec<f32>,
    /// The sentiment toward the mention (the target head's), else its sentence's; the
    /// `sentences` columns of the same names.
    pub sentiment_label: Vec<Option<String>>,
    pub sentiment_score: Vec<Option<f32>>,
    pub polarity: Vec<Option<f32>>,
    // Linking within the document; replaced by `entity`, `entity_label`, `entity_id`,
    // `country_code` and `alias_source` once the corpus is resolved.
    pub name: Vec<String>,
    pub ent_label: Vec<String>,
    pub from_table: Vec<bool>,
}

/// All tables of an analysis, in [`TABLES`] order.
#[derive(Debug, Clone)]
pub struct Tables {
    frames: Vec<(&'static str, DataFrame)>,
}

impl Tables {
    /// Name the frames, given in [`TABLES`] order.
    pub fn new(frames: [DataFrame; 6]) -> Self {
        Tables {
            frames: TABLES.into_iter().zip(frames).collect(),
        }
    }

    /// One table by name.
    pub fn get(&self, name: &str) -> Option<&DataFrame> {
        self.frames.iter().find(|(n, _)| *n == name).map(|(_, f)| f)
    }

    /// Rows of a table (0 for an unknown name).
    pub fn height(&self, name: &str) -> usize {
        self.get(name).map_or(0, DataFrame::height)
    }

    /// (name, frame) in [`TABLES`] order.
    pub fn into_named(self) -> Vec<(&'static str, DataFrame)> {
        self.frames
    }
}

pub(crate) fn table_err(table: &str) -> impl Fn(PolarsError) -> Error + '_ {
    move |source| Error::Table {
        table: table.to_string(),
        source,
    }
}

impl Rows {
    /// Append another chunk's rows.
    pub fn extend(&mut self, o: Rows) {
        macro_rules! ext {
            ($t:ident: $($f:ident),+) => { $( self.$t.$f.extend(o.$t.$f); )+ };
        }
        ext!(doc: doc_id, source, title, text, n_chars, n_sentences, sentiment_mean, error, warning,
             meta);
        ext!(sent: doc_id, sent_idx, start, end, text, sentiment_label, sentiment_score, polarity);
        ext!(ent: doc_id, sent_idx, start, end, text, label, score, sentiment_label,
             sentiment_score, polarity, name, ent_label, from_table);
    }

    /// The documents and sentences frames; `kept` names the kept input columns, appended
    /// to `documents` as string columns.
    pub(crate) fn doc_sent_frames(
        d: DocRows,
        s: SentRows,
        kept: &[String],
    ) -> Result<[DataFrame; 2]> {
        let meta: Vec<Column> = kept
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let values: Vec<Option<String>> = d
                    .meta
                    .iter()
                    .map(|row| row.get(j).cloned().flatten())
                    .collect();
                Column::new(name.as_str().into(), values)
            })
            .collect();
        let mut documents = df!(
            "doc_id" => d.doc_id, "source" => d.source, "title" => d.title, "text" => d.text,
            "n_chars" => d.n_chars, "n_sentences" => d.n_sentences,
            "sentiment_mean" => d.sentiment_mean, "error" => d.error, "warning" => d.warning,
        )
        .map_err(table_err("documents"))?;
        documents
            .hstack_mut(&meta)
            .map_err(table_err("documents"))?;
        let sentences = df!(
            "doc_id" => s.doc_id, "sent_idx" => s.sent_idx, "start" => s.start, "end" => s.end,
            "text" => s.text, "sentiment_label" => s.sentiment_label,
            "sentiment_score" => s.sentiment_score, "polarity" => s.polarity,
        )
        .map_err(table_err("sentences"))?;
        Ok([documents, sentences])
    }

    /// Build all tables of an in-memory analysis; `index` must have observed these rows.
    pub fn into_tables(self, index: &CorpusIndex, kept: &[String]) -> Result<Tables> {
        let Rows { doc, sent, ent } = self;
        let [documents, sentences] = Self::doc_sent_frames(doc, sent, kept)?;
        let mut agg = Aggregator::default();
        let entities = ent.linked_frame(index, &mut agg)?;
        let [entity_stats, cooccurrence, name_variants] = analysis_frames(agg)?;
        Ok(Tables::new([
            documents,
            sentences,
            entities,
            entity_stats,
            cooccurrence,
            name_variants,
        ]))
    }
}

/// Empty `documents`, `sentences` and mentions frames of a distributed run's batch (see
/// [`crate::pipeline::Pipeline::analyze_batch`]): their columns and types.
pub fn batch_frames(kept: &[String]) -> Result<[DataFrame; 3]> {
    let [d, s] = Rows::doc_sent_frames(DocRows::default(), SentRows::default(), kept)?;
    Ok([d, s, EntRows::default().spill_frame()?])
}

impl EntRows {
    /// Entity rows with their linking columns, as spilled during a run.
    pub(crate) fn spill_frame(self) -> Result<DataFrame> {
        let e = self;
        df!(
            "doc_id" => e.doc_id, "sent_idx" => e.sent_idx, "start" => e.start, "end" => e.end,
            "text" => e.text, "label" => e.label, "score" => e.score,
            "sentiment_label" => e.sentiment_label, "sentiment_score" => e.sentiment_score,
            "polarity" => e.polarity, "_name" => e.name, "_ent_label" => e.ent_label,
            "_from_table" => e.from_table,
        )
        .map_err(table_err("entities"))
    }

    /// Read back a slice of the spill file.
    pub(crate) fn from_spill(df: &DataFrame) -> std::result::Result<Self, PolarsError> {
        fn strs(df: &DataFrame, c: &str) -> PolarsResult<Vec<String>> {
            Ok(df
                .column(c)?
                .str()?
                .iter()
                .map(|v| v.unwrap_or_default().to_string())
                .collect())
        }
        fn ints(df: &DataFrame, c: &str) -> PolarsResult<Vec<i64>> {
            Ok(df
                .column(c)?
                .i64()?
                .iter()
                .map(|v| v.unwrap_or(0))
                .collect())
        }
        Ok(EntRows {
            doc_id: strs(df, "doc_id")?,
            sent_idx: ints(df, "sent_idx")?,
            start: ints(df, "start")?,
            end: ints(df, "end")?,
            text: strs(df, "text")?,
            label: strs(df, "label")?,
            score: df
                .column("score")?
                .f32()?
                .iter()
                .map(|v| v.unwrap_or(0.0))
                .collect(),
            sentiment_label: df
                .column("sentiment_label")?
                .str()?
                .iter()
                .map(|v| v.map(str::to_string))
                .collect(),
            sentiment_score: df.column("sentiment_score")?.f32()?.iter().collect(),
            polarity: df.column("polarity")?.f32()?.iter().collect(),
            name: strs(df, "_name")?,
            ent_label: strs(df, "_ent_label")?,
            from_table: df
                .column("_from_table")?
                .bool()?
                .iter()
                .map(|v| v.unwrap_or(false))
                .collect(),
        })
    }
}

impl EntRows {
    /// The final `entities` frame: each mention with its entity (`entity`, `entity_label`,
    /// `entity_id`, `country_code`) and `alias_source` (see
    /// [`crate::link::link_mentions`], which also feeds `agg`).
    pub(crate) fn linked_frame(
        &self,
        index: &CorpusIndex,
        agg: &mut Aggregator,
    ) -> Result<DataFrame> {
        let e = self;
        let l = crate::link::link_mentions(e, index, agg);
        df!(
            "doc_id" => &e.doc_id, "sent_idx" => &e.sent_idx, "start" => &e.start,
            "end" => &e.end, "text" => &e.text, "label" => &e.label, "score" => &e.score,
            "sentiment_label" => &e.sentiment_label, "sentiment_score" => &e.sentiment_score,
            "polarity" => &e.polarity, "entity" => l.entity, "entity_label" => l.entity_label,
            "entity_id" => l.entity_id, "country_code" => l.country_code,
            "alias_source" => l.alias_source,
        )
        .map_err(table_err("entities"))
    }
}

/// Corpus-level linking of a distributed run ([`crate::link::link_distinct`]): `distinct`
/// holds the document-linked mentions counted by the spill frame's linking columns and
/// surface (`_ent_label`, `_name`, `_from_table`, `text`, and `count`); returns them with
/// the linking columns of the `entities` table (`entity`, `entity_label`, `entity_id`,
/// `country_code`, `alias_source`) and the entity's `latitude` and `longitude` (for
/// `entity_stats`). `gazetteer`: the option of the same name.
pub fn link_distinct_frame(distinct: DataFrame, gazetteer: bool) -> Result<DataFrame> {
    let err = table_err("entities");
    let strs = |c: &str| -> Result<Vec<String>> {
        Ok(distinct
            .column(c)
            .map_err(&err)?
            .str()
            .map_err(&err)?
            .iter()
            .map(|v| v.unwrap_or_default().to_string())
            .collect())
    };
    let (label, name, surface) = (strs("_ent_label")?, strs("_name")?, strs("text")?);
    let from_table: Vec<bool> = distinct
        .column("_from_table")
        .and_then(|c| c.bool().cloned())
        .map_err(&err)?
        .iter()
        .map(|v| v.unwrap_or(false))
        .collect();
    let count: Vec<u64> = distinct
        .column("count")
        .and_then(|c| c.cast(&DataType::UInt64))
        .and_then(|c| c.u64().cloned())
        .map_err(&err)?
        .iter()
        .map(|v| v.unwrap_or(0))
        .collect();
    let rows: Vec<crate::link::DistinctMention> = (0..label.len())
        .map(|i| crate::link::DistinctMention {
            label: &label[i],
            name: &name[i],
            from_table: from_table[i],
            surface: &surface[i],
            count: count[i],
        })
        .collect();
    let linked = crate::link::link_distinct(&rows, gazetteer);
    let mut out = distinct.clone();
    let columns = [
        Column::new(
            "entity".into(),
            linked
                .iter()
                .map(|(r, _)| r.name.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "entity_label".into(),
            linked
                .iter()
                .map(|(r, _)| r.label.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "entity_id".into(),
            linked
                .iter()
                .map(|(r, _)| r.id.as_deref())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "country_code".into(),
            linked
                .iter()
                .map(|(r, _)| r.country_code.as_deref())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "alias_source".into(),
            linked.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        ),
        Column::new(
            "latitude".into(),
            linked.iter().map(|(r, _)| r.latitude).collect::<Vec<_>>(),
        ),
        Column::new(
            "longitude".into(),
            linked.iter().map(|(r, _)| r.longitude).collect::<Vec<_>>(),
        ),
    ];
    for c in columns {
        out.with_column(c).map_err(&err)?;
    }
    Ok(out)
}

/// The `entity_stats`, `cooccurrence` and `name_variants` frames of the mentions `agg` saw.
pub(crate) fn analysis_frames(agg: Aggregator) -> Result<[DataFrame; 3]> {
    let (s, c, v): (StatsRows, CoocRows, VariantRows) = agg.finish();
    let stats = df!(
        "scope" => s.scope, "doc_id" => s.doc_id, "entity" => s.entity, "label" => s.label,
        "entity_id" => s.entity_id, "country_code" => s.country_code,
        "latitude" => s.latitude, "longitude" => s.longitude, "mentions" => s.mentions, "documents" => s.documents, "sentences" => s.sentences,
        "mean_polarity" => s.mean_polarity, "n_positive" => s.n_positive,
        "n_neutral" => s.n_neutral, "n_negative" => s.n_negative,
        "first_sent" => s.first_sent, "last_sent" => s.last_sent,
    )
    .map_err(table_err("entity_stats"))?;
    let cooc = df!(
        "entity_a" => c.entity_a, "label_a" => c.label_a, "entity_b" => c.entity_b,
        "label_b" => c.label_b, "sentences" => c.sentences, "documents" => c.documents,
        "mean_polarity" => c.mean_polarity, "polarity_a" => c.polarity_a,
        "polarity_b" => c.polarity_b,
    )
    .map_err(table_err("cooccurrence"))?;
    let variants = df!(
        "entity" => v.entity, "label" => v.label, "doc_id" => v.doc_id,
        "surface" => v.surface, "mentions" => v.mentions,
    )
    .map_err(table_err("name_variants"))?;
    Ok([stats, cooc, variants])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::observe_mentions;

    /// Document-linked mentions: (doc, sentence, surface, label, linked name, from table).
    pub(crate) fn mentions(rows: &[(&str, i64, &str, &str, &str, bool)]) -> EntRows {
        let mut e = EntRows::default();
        for (i, &(doc, sent, surface, label, name, from_table)) in rows.iter().enumerate() {
            e.doc_id.push(doc.into());
            e.sent_idx.push(sent);
            e.start.push(i as i64);
            e.end.push(i as i64 + 1);
            e.text.push(surface.into());
            e.label.push(label.into());
            e.score.push(0.9);
            e.sentiment_label.push(Some("neutral".into()));
            e.sentiment_score.push(Some(0.5));
            e.polarity.push(Some(0.0));
            e.name.push(name.into());
            e.ent_label.push(label.into());
            e.from_table.push(from_table);
        }
        e
    }

    /// A small corpus: "Trump" alone in one article, "Donald Trump" in two; the United
    /// States as "U.S.", "US" (MISC and ORG), "America" and "United States"; a demonym; an
    /// alias table entry naming a place its own way.
    fn corpus() -> EntRows {
        mentions(&[
            ("d1", 0, "Donald Trump", "PER", "Donald Trump", false),
            ("d1", 0, "U.S.", "LOC", "U.S.", false),
            ("d1", 1, "Russian", "MISC", "Russian", false),
            ("d2", 0, "Donald Trump", "PER", "Donald Trump", false),
            ("d2", 0, "US", "MISC", "US", false),
            ("d2", 1, "America", "LOC", "America", false),
            ("d3", 0, "Trump", "PER", "Trump", false),
            ("d3", 0, "US", "ORG", "US", false),
            ("d3", 1, "United States", "LOC", "United States", false),
            ("d4", 0, "USA", "LOC", "United States of America", true),
        ])
    }

    fn tables(gazetteer: bool) -> Tables {
        let ent = corpus();
        let mut index = CorpusIndex::new(gazetteer);
        observe_mentions(&mut index, &ent);
        index.resolve();
        Rows {
            ent,
            ..Default::default()
        }
        .into_tables(&index, &[])
        .expect("tables")
    }

    fn strs(df: &DataFrame, c: &str) -> Vec<Option<String>> {
        df.column(c)
            .expect("column")
            .str()
            .expect("str")
            .iter()
            .map(|v| v.map(str::to_string))
            .collect()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn entities_carry_the_corpus_entity_label_id_and_source() {
        let t = tables(true);
        let e = t.get("entities").expect("entities");
        let names: Vec<&str> = e.get_column_names().iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names[10..],
            [
                "entity",
                "entity_label",
                "entity_id",
                "country_code",
                "alias_source"
            ]
        );
        let (text, label) = (strs(e, "text"), strs(e, "label"));
        let (entity, entity_label) = (strs(e, "entity"), strs(e, "entity_label"));
        let (id, cc, source) = (
            strs(e, "entity_id"),
            strs(e, "country_code"),
            strs(e, "alias_source"),
        );
        // "Trump" alone links to the corpus' dominant full name.
        assert_eq!(
            (
                entity[6].clone(),
                entity_label[6].clone(),
                source[6].clone()
            ),
            (s("Donald Trump"), s("PER"), s("corpus"))
        );
        // Every form of the United States is one LOC entity; the mention keeps its label.
        for i in [1, 4, 5, 7, 8] {
            assert_eq!(entity[i], s("United States"), "{:?}", text[i]);
            assert_eq!(entity_label[i], s("LOC"));
            assert_eq!(id[i], s("geonames:6252001"));
            assert_eq!(cc[i], s("US"));
        }
        assert_eq!((label[4].clone(), label[7].clone()), (s("MISC"), s("ORG")));
        assert_eq!(source[1], s("gazetteer"));
        assert_eq!(source[8], s("none"));
        // A demonym keeps its name and label and gets its country's code.
        assert_eq!(
            (entity[2].clone(), entity_label[2].clone(), cc[2].clone()),
            (s("Russian"), s("MISC"), s("RU"))
        );
        // The alias table wins over the gazetteer.
        assert_eq!(
            (entity[9].clone(), id[9].clone(), source[9].clone()),
            (s("United States of America"), None, s("table"))
        );
    }

    #[test]
    fn analysis_tables_count_an_entity_once_under_its_label() {
        let t = tables(true);
        let st = t.get("entity_stats").expect("stats");
        let names: Vec<&str> = st.get_column_names().iter().map(|c| c.as_str()).collect();
        assert_eq!(
            names[..9],
            [
                "scope",
                "doc_id",
                "entity",
                "label",
                "entity_id",
                "country_code",
                "latitude",
                "longitude",
                "mentions"
            ]
        );
        let corpus: Vec<usize> = strs(st, "scope")
            .iter()
            .enumerate()
            .filter(|(_, v)| v.as_deref() == Some("corpus"))
            .map(|(i, _)| i)
            .collect();
        let (entity, label) = (strs(st, "entity"), strs(st, "label"));
        let ints = |c: &str, i: usize| st.column(c).expect("c").i64().expect("i").get(i);
        let floats = |c: &str, i: usize| st.column(c).expect("c").f64().expect("f").get(i);
        let rows = |name: &str| -> Vec<usize> {
            corpus
                .iter()
                .copied()
                .filter(|&i| entity[i].as_deref() == Some(name))
                .collect()
        };
        let us = rows("United States");
        assert_eq!(us.len(), 1, "one entity, one label");
        let us = us[0];
        assert_eq!(label[us], s("LOC"));
        assert_eq!(
            (ints("mentions", us), ints("documents", us)),
            (Some(5), Some(3))
        );
        assert_eq!(strs(st, "entity_id")[us], s("geonames:6252001"));
        assert_eq!(strs(st, "country_code")[us], s("US"));
        assert!(floats("latitude", us).is_some_and(|l| (20.0..50.0).contains(&l)));
        assert!(floats("longitude", us).is_some_and(|l| (-130.0..-60.0).contains(&l)));
        let trump = rows("Donald Trump");
        assert_eq!(trump.len(), 1);
        assert_eq!(ints("mentions", trump[0]), Some(3));
        assert_eq!(ints("documents", trump[0]), Some(3));
        let russian = rows("Russian")[0];
        assert_eq!(strs(st, "country_code")[russian], s("RU"));
        assert_eq!(floats("latitude", russian), None);
        assert_eq!(
            strs(st, "entity_id")[rows("United States of America")[0]],
            None
        );
        // Trump and the United States share sentence 0 of d1, d2 and d3: one pair.
        let c = t.get("cooccurrence").expect("cooc");
        let pairs: Vec<usize> = (0..c.height())
            .filter(|&i| {
                strs(c, "entity_a")[i] == s("Donald Trump")
                    && strs(c, "entity_b")[i] == s("United States")
            })
            .collect();
        assert_eq!(pairs.len(), 1);
        assert_eq!(strs(c, "label_b")[pairs[0]], s("LOC"));
        let sentences = c.column("sentences").expect("c").i64().expect("i");
        assert_eq!(sentences.get(pairs[0]), Some(3));
        // Name variants: the surface forms of d3's United States under one entity.
        let v = t.get("name_variants").expect("variants");
        let d3: Vec<(Option<String>, Option<String>)> = (0..v.height())
            .filter(|&i| {
                strs(v, "doc_id")[i] == s("d3") && strs(v, "entity")[i] == s("United States")
            })
            .map(|i| (strs(v, "label")[i].clone(), strs(v, "surface")[i].clone()))
            .collect();
        assert_eq!(d3, [(s("LOC"), s("US")), (s("LOC"), s("United States"))]);
    }

    #[test]
    fn without_the_gazetteer_places_stay_as_written() {
        let t = tables(false);
        let e = t.get("entities").expect("entities");
        let entity = strs(e, "entity");
        assert_eq!(entity[1], s("U.S."));
        assert_eq!(entity[4], s("US"));
        assert_eq!(entity[5], s("America"));
        assert!(strs(e, "entity_id").iter().all(Option::is_none));
        assert!(strs(e, "country_code").iter().all(Option::is_none));
        // The corpus rules do not need it.
        assert_eq!(entity[6], s("Donald Trump"));
        let st = t.get("entity_stats").expect("stats");
        let corpus_us = (0..st.height())
            .filter(|&i| {
                strs(st, "scope")[i] == s("corpus")
                    && matches!(strs(st, "entity")[i].as_deref(), Some("US" | "U.S."))
            })
            .count();
        // "US" is split evenly between MISC and ORG: two entities, and "U.S." a third.
        assert_eq!(corpus_us, 3);
        let lat = st.column("latitude").expect("c").f64().expect("f");
        assert_eq!(lat.null_count(), st.height());
    }

    #[test]
    fn distinct_linking_gives_the_entities_columns() {
        let e = corpus();
        let distinct = df!(
            "_ent_label" => &e.ent_label, "_name" => &e.name, "_from_table" => &e.from_table,
            "text" => &e.text, "count" => vec![1u32; e.name.len()],
        )
        .expect("df");
        let linked = link_distinct_frame(distinct, true).expect("linked");
        let local = tables(true);
        let ents = local.get("entities").expect("entities");
        for c in [
            "entity",
            "entity_label",
            "entity_id",
            "country_code",
            "alias_source",
        ] {
            assert_eq!(strs(&linked, c), strs(ents, c), "{c}");
        }
        let lat = linked.column("latitude").expect("c").f64().expect("f");
        assert!(lat.get(1).is_some() && lat.get(0).is_none());
    }
}
