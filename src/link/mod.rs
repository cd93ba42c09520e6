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
//! Layout: `names` (mention → name, keys, acronyms), `alias` ([`AliasTable`]), `document`
//! ([`Linker`]), `corpus` ([`CorpusIndex`]), `stats` ([`Aggregator`] and its rows); this
//! file joins them to the mention tables ([`link_mentions`], [`observe_mentions`]).

mod alias;
mod corpus;
mod document;
mod names;
mod stats;

pub use alias::{AliasSource, AliasTable};
pub use corpus::CorpusIndex;
pub use document::{Linked, Linker};
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
        let src = if e.from_table[i] {
            AliasSource::Table
        } else if canonical != e.text[i] {
            AliasSource::Rule
        } else {
            AliasSource::None
        };
        agg.push(&MentionRow {
            doc_id: &e.doc_id[i],
            sent_idx: e.sent_idx[i],
            surface: &e.text[i],
            entity: &canonical,
            label: &e.ent_label[i],
            polarity: e.polarity[i],
            sentiment: e.sentiment[i].as_deref(),
        });
        entity.push(canonical);
        source.push(src.as_str());
    }
    (entity, source)
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

    pub(super) fn link(linker: &Linker, text: &str, mentions: &[(&str, &str)]) -> Vec<String> {
        linker
            .link_doc(text, mentions)
            .into_iter()
            .map(|l| l.name)
            .collect()
    }
}
