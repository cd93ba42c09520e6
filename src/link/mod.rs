//! Stage 5 — link: entity mentions become entities, and entities become analysis tables.
//!
//! * Within a document ([`Linker::link_doc`]): titles and possessives are stripped
//!   ("President Putin", "Kishida's"); a person's surname or first name alone links to the
//!   one full name of the document that ends or starts with it ("Putin" → "Vladimir
//!   Putin"); an acronym links to the long form the document defines ("Terminal
//!   High-Altitude Air Defense (THAAD)").
//! * A user alias table ([`AliasTable`], CSV or TOML) maps what no rule can know
//!   ("Northern Territories" → "Kuril Islands"); it is applied first.
//! * Across the corpus ([`CorpusIndex`]): entities are merged by normalised name and label;
//!   a surname left alone in a document links to the corpus' one full name with that
//!   surname; each entity is named by its most complete, most frequent form.
//! * [`Aggregator`] then turns linked mentions into `entity_stats`, `cooccurrence` and
//!   `name_variants`. The surface form of every mention is kept: the name an outlet
//!   chooses is itself the signal.
//!
//! A distributed run links counted distinct mentions instead ([`link_distinct`]).
//!
//! Layout: `names` (mention → name, keys, acronyms), `alias` ([`AliasTable`]), `document`
//! ([`Linker`]), `corpus` ([`CorpusIndex`]), `stats` ([`Aggregator`] and its rows); this
//! file joins them to the mention tables ([`link_mentions`], [`observe_mentions`]).

mod alias;
mod corpus;
mod document;
mod gazetteer;
mod names;
mod stats;

pub use alias::{AliasSource, AliasTable};
pub use corpus::{CorpusIndex, Resolved};
pub use document::{Linked, Linker};
pub use gazetteer::{Gazetteer, Place};
pub(crate) use names::compound_affix_start;
pub use names::{acronym_definitions, normalise};
pub use stats::{Aggregator, CoocRows, MentionRow, StatsRows, VariantRows};

/// Corpus-level linking of a batch of mentions: the canonical name and alias source of
/// each, in order; every mention is also fed to `agg` for the analysis tables.
pub fn link_mentions(
    e: &crate::tables::EntRows,
    index: &CorpusIndex,
    agg: &mut Aggregator,
) -> (Vec<String>, Vec<&'static str>) {
    let n = e.doc_id.len();
    let mut entity = Vec::with_capacity(n);
    let mut source = Vec::with_capacity(n);
    for i in 0..n {
        let canonical = index.canonical(&e.ent_label[i], &e.name[i]);
        let src = alias_source(e.from_table[i], &canonical, &e.text[i]);
        agg.push(&MentionRow {
            doc_id: &e.doc_id[i],
            sent_idx: e.sent_idx[i],
            surface: &e.text[i],
            entity: &canonical,
            label: &e.ent_label[i],
            polarity: e.polarity[i],
            sentiment: e.sentiment_label[i].as_deref(),
        });
        entity.push(canonical);
        source.push(src.as_str());
    }
    (entity, source)
}

/// How a mention got its entity name.
fn alias_source(from_table: bool, entity: &str, surface: &str) -> AliasSource {
    if from_table {
        AliasSource::Table
    } else if entity != surface {
        AliasSource::Rule
    } else {
        AliasSource::None
    }
}

/// Document-linked mentions that are alike, counted: what a distributed run brings to
/// the driver for corpus-level linking instead of every mention.
#[derive(Debug, Clone)]
pub struct DistinctMention<'a> {
    pub label: &'a str,
    pub name: &'a str,
    pub from_table: bool,
    pub surface: &'a str,
    pub count: u64,
}

/// Corpus-level linking from counted distinct mentions: the canonical name and alias
/// source of each, as [`link_mentions`] gives every mention of a single-machine run.
/// Memory grows with the distinct names, not with the mentions.
pub fn link_distinct(rows: &[DistinctMention<'_>]) -> Vec<(String, &'static str)> {
    let mut index = CorpusIndex::default();
    for r in rows {
        let linked = Linked {
            name: r.name.to_string(),
            label: r.label.to_string(),
            from_table: r.from_table,
        };
        index.observe_n(&linked, r.count);
    }
    index.resolve();
    rows.iter()
        .map(|r| {
            let entity = index.canonical(r.label, r.name);
            let source = alias_source(r.from_table, &entity, r.surface).as_str();
            (entity, source)
        })
        .collect()
}

/// Record a chunk's document-linked mentions in the corpus index.
pub fn observe_mentions(index: &mut CorpusIndex, e: &crate::tables::EntRows) {
    for i in 0..e.name.len() {
        index.observe(&Linked {
            name: e.name[i].clone(),
            label: e.ent_label[i].clone(),
            from_table: e.from_table[i],
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_mentions_link_as_every_mention_does() {
        // (label, name, from_table, surface) of each mention, repeats included.
        let mentions = [
            ("PER", "Vladimir Putin", false, "Vladimir Putin"),
            ("PER", "Putin", false, "Putin"),
            ("PER", "Putin", false, "Putin"),
            ("LOC", "Kuril Islands", true, "Northern Territories"),
            ("LOC", "Kuril Islands", false, "Kuril Islands"),
            ("LOC", "kuril islands", false, "kuril islands"),
        ];
        let mut e = crate::tables::EntRows::default();
        let mut index = CorpusIndex::default();
        for (i, (label, name, from_table, surface)) in mentions.iter().enumerate() {
            e.doc_id.push(format!("d{i}"));
            e.sent_idx.push(0);
            e.text.push(surface.to_string());
            e.name.push(name.to_string());
            e.ent_label.push(label.to_string());
            e.from_table.push(*from_table);
            e.sentiment_label.push(None);
            e.sentiment_score.push(None);
            e.polarity.push(None);
        }
        observe_mentions(&mut index, &e);
        index.resolve();
        let (every, sources) = link_mentions(&e, &index, &mut Aggregator::default());
        let distinct: Vec<DistinctMention> = [(0, 1), (1, 2), (3, 1), (4, 1), (5, 1)]
            .iter()
            .map(|&(i, count)| {
                let (label, name, from_table, surface) = mentions[i];
                DistinctMention {
                    label,
                    name,
                    from_table,
                    surface,
                    count,
                }
            })
            .collect();
        let linked = link_distinct(&distinct);
        for (k, &(i, _)) in [(0, 1), (1, 2), (3, 1), (4, 1), (5, 1)].iter().enumerate() {
            assert_eq!(linked[k].0, every[i], "mention {i}");
            assert_eq!(linked[k].1, sources[i], "mention {i}");
        }
        assert_eq!(linked[1].0, "Vladimir Putin");
        assert_eq!(linked[4].0, "Kuril Islands");
    }

    pub(super) fn link(linker: &Linker, text: &str, mentions: &[(&str, &str)]) -> Vec<String> {
        linker
            .link_doc(text, mentions)
            .into_iter()
            .map(|l| l.name)
            .collect()
    }
}
