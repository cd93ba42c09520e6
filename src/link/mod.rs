//! Stage 5 — link: entity mentions become entities, and entities become analysis tables.
//!
//! * Within a document ([`Linker::link_doc`]): titles and possessives are stripped
//!   ("President Putin", "Kishida's"); a person's surname or first name alone links to the
//!   one full name of the document that ends or starts with it ("Putin" → "Vladimir
//!   Putin"); an acronym links to the long form the document defines ("Terminal
//!   High-Altitude Air Defense (THAAD)").
//! * A user alias table ([`AliasTable`], CSV or TOML) maps what no rule can know
//!   ("Northern Territories" → "Kuril Islands"); it is applied first.
//! * Across the corpus ([`CorpusIndex`], rules and thresholds in `corpus.rs`): a short
//!   form used alone links to the full person name that dominates it (`alias_source`
//!   `corpus`); a name tagged with several labels becomes one entity with its dominant
//!   label; places and demonyms come from the built-in gazetteer (`gazetteer`: id, country
//!   code, coordinates; the option `gazetteer = false` / `--no-gazetteer` turns it off);
//!   each entity is named by its most complete, most frequent form.
//! * [`link_mentions`] writes each mention's entity into `entities` (`entity`,
//!   `entity_label`, `entity_id`, `country_code`, `alias_source`; `label` stays the
//!   mention's NER label).
//! * [`Aggregator`] then turns linked mentions into `entity_stats`, `cooccurrence` and
//!   `name_variants`, grouping by entity name and entity label. The surface form of every
//!   mention is kept: the name an outlet chooses is itself the signal.
//!
//! A distributed run links counted distinct mentions instead ([`link_distinct`]), with
//! the same index and rules.
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

/// The corpus-level linking columns of the `entities` table, one value per mention.
#[derive(Debug, Default, Clone)]
pub struct LinkedColumns {
    /// Canonical name.
    pub entity: Vec<String>,
    /// The entity's label (its dominant one; `entities.label` is the mention's NER label).
    pub entity_label: Vec<String>,
    /// Stable id from the gazetteer (`geonames:2017370`, `demonym:RU`).
    pub entity_id: Vec<Option<String>>,
    /// ISO 3166-1 alpha-2 of a place, or of a demonym's country.
    pub country_code: Vec<Option<String>>,
    /// How the mention got its entity: `table`, `corpus`, `gazetteer`, `rule` or `none`.
    pub alias_source: Vec<&'static str>,
}

/// Corpus-level linking of a batch of mentions: the entity and alias source of each, in
/// order; every mention is also fed to `agg` (under its entity's name and label) for the
/// analysis tables.
pub fn link_mentions(
    e: &crate::tables::EntRows,
    index: &CorpusIndex,
    agg: &mut Aggregator,
) -> LinkedColumns {
    let n = e.doc_id.len();
    let mut out = LinkedColumns {
        entity: Vec::with_capacity(n),
        entity_label: Vec::with_capacity(n),
        entity_id: Vec::with_capacity(n),
        country_code: Vec::with_capacity(n),
        alias_source: Vec::with_capacity(n),
    };
    for i in 0..n {
        let r = index.entity(&e.ent_label[i], &e.name[i]);
        let src = alias_source(e.from_table[i], &r, &e.text[i]);
        agg.push(&MentionRow {
            doc_id: &e.doc_id[i],
            sent_idx: e.sent_idx[i],
            surface: &e.text[i],
            entity: &r.name,
            label: &r.label,
            entity_id: r.id.as_deref(),
            country_code: r.country_code.as_deref(),
            latitude: r.latitude,
            longitude: r.longitude,
            polarity: e.polarity[i],
            sentiment: e.sentiment_label[i].as_deref(),
        });
        out.entity.push(r.name);
        out.entity_label.push(r.label);
        out.entity_id.push(r.id);
        out.country_code.push(r.country_code);
        out.alias_source.push(src.as_str());
    }
    out
}

/// How a mention got its entity: the alias table, a corpus-level rule (a short form
/// resolved across the corpus, the gazetteer), a document-level rule, or its own text.
fn alias_source(from_table: bool, r: &Resolved, surface: &str) -> AliasSource {
    if from_table {
        AliasSource::Table
    } else if let Some(s) = r.source {
        s
    } else if r.name != surface {
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

/// Corpus-level linking from counted distinct mentions: the entity and alias source of
/// each, as [`link_mentions`] gives every mention of a single-machine run (`gazetteer`:
/// the option of the same name). Memory grows with the distinct names, not with the
/// mentions.
pub fn link_distinct(
    rows: &[DistinctMention<'_>],
    gazetteer: bool,
) -> Vec<(Resolved, &'static str)> {
    let mut index = CorpusIndex::new(gazetteer);
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
            let entity = index.entity(r.label, r.name);
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
            ("LOC", "U.S.", false, "U.S."),
            ("MISC", "US", false, "US-led"),
            ("MISC", "Russian", false, "Russian"),
        ];
        let mut e = crate::tables::EntRows::default();
        let mut index = CorpusIndex::with_gazetteer();
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
        let every = link_mentions(&e, &index, &mut Aggregator::default());
        let groups = [
            (0, 1),
            (1, 2),
            (3, 1),
            (4, 1),
            (5, 1),
            (6, 1),
            (7, 1),
            (8, 1),
        ];
        let distinct: Vec<DistinctMention> = groups
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
        let linked = link_distinct(&distinct, true);
        for (k, &(i, _)) in groups.iter().enumerate() {
            let (r, source) = &linked[k];
            assert_eq!(r.name, every.entity[i], "mention {i}");
            assert_eq!(r.label, every.entity_label[i], "mention {i}");
            assert_eq!(r.id, every.entity_id[i], "mention {i}");
            assert_eq!(r.country_code, every.country_code[i], "mention {i}");
            assert_eq!(*source, every.alias_source[i], "mention {i}");
        }
        assert_eq!(linked[1].0.name, "Vladimir Putin");
        assert_eq!(linked[4].0.name, "Kuril Islands");
        // "U.S." and "US" (MISC) are the gazetteer's United States, a LOC.
        for k in [5, 6] {
            assert_eq!(
                (
                    linked[k].0.name.as_str(),
                    linked[k].0.label.as_str(),
                    linked[k].1
                ),
                ("United States", "LOC", "gazetteer")
            );
        }
        assert_eq!(linked[7].0.country_code.as_deref(), Some("RU"));
        assert_eq!(linked[7].1, "none");
        // Without the gazetteer, names stay as the documents give them.
        let plain = link_distinct(&distinct, false);
        assert_eq!(
            (plain[5].0.name.as_str(), plain[5].0.id.as_deref()),
            ("U.S.", None)
        );
    }

    pub(super) fn link(linker: &Linker, text: &str, mentions: &[(&str, &str)]) -> Vec<String> {
        linker
            .link_doc(text, mentions)
            .into_iter()
            .map(|l| l.name)
            .collect()
    }
}
