//! Linking across the corpus ([`CorpusIndex`]): short forms resolved to the full name that
//! dominates them, one label per entity, places and demonyms from the gazetteer, each
//! entity named by its best form.
//!
//! The rules, in order (thresholds are constants below, each with its reason):
//! 1. **Short forms.** A one-word name used for a person ("Trump", "Obama", "Xi") links to
//!    the full person name that extends it (ending or starting with it) when that name holds
//!    at least [`DOMINANT_SHARE`] of the mentions of all full person names extending it
//!    ("Donald Trump" against "Ivanka Trump" and "Melania Trump"): two people sharing a
//!    surname stay apart when neither dominates, and the full names themselves are never
//!    merged. All of the short form's mentions follow, whatever their NER label, when the
//!    person reading is itself dominant: the short form's PER mentions plus the full
//!    name's are at least [`LABEL_SHARE`] of the short form's mentions plus the full
//!    name's ("Xi" tagged ORG 40 and PER 19 times, "Xi Jinping" 141: 80%). Month names
//!    ("May") are never resolved across the corpus: in a document that also names
//!    Theresa May, the document-level linker already links her "May".
//! 2. **One entity, one label.** Mentions of one name under several NER labels count as
//!    one entity with the label of most of them when that label holds at least
//!    [`LABEL_SHARE`] of them ("US": LOC 2,350, MISC 612, ORG 44); otherwise they stay
//!    apart by label. The mention's own label stays in `entities.label`.
//! 3. **Gazetteer.** A place name (LOC, ORG or MISC: "US" as MISC is adjectival, as ORG the
//!    government) found in the built-in gazetteer becomes that place — name, `LOC`, id,
//!    country code, coordinates — so "US", "U.S.", "USA", "America" and "United States" are
//!    one entity. A demonym ("Russian") tagged MISC keeps its name and label and gets the
//!    country's code. Person names never link to the gazetteer ("Jordan", "Chad").
//! 4. The alias table wins over all of these: its names and labels are kept.

use std::collections::{HashMap, HashSet};

use super::alias::AliasSource;
use super::gazetteer::{Gazetteer, Place};
use super::names::{entity_key, name_key};
use super::Linked;

/// A full name is the short form's entity when it holds this share of the mentions of all
/// full names extending the short form. 0.8: "Donald Trump" (94% of the Trumps on the
/// 3,824-article news corpus) and "Barack Obama" pass; two cabinet members sharing a
/// surname in different articles do not.
pub const DOMINANT_SHARE: f64 = 0.8;
/// The share of a name's mentions a label must hold for the others to join it: two in
/// three (the US, 78% LOC, joins; a name split evenly between a person and a place stays
/// two entities).
pub const LABEL_SHARE: f64 = 2.0 / 3.0;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

#[derive(Debug, Default)]
struct KeyInfo {
    label: String,
    forms: HashMap<String, u64>,
    table_name: Option<String>,
    mentions: u64,
}

/// An entity as the corpus resolves it.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Canonical name.
    pub name: String,
    /// The entity's label (its dominant one; the mention keeps its own).
    pub label: String,
    /// Stable id from the gazetteer (`geonames:2017370`), if linked to it.
    pub id: Option<String>,
    /// ISO 3166-1 alpha-2 of a place or a demonym's country.
    pub country_code: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Set when a corpus-level rule renamed the entity (`corpus`, `gazetteer`).
    pub source: Option<AliasSource>,
}

/// Entities seen across the corpus; resolves each to its canonical entity.
#[derive(Debug, Default)]
pub struct CorpusIndex {
    keys: HashMap<String, KeyInfo>,
    resolved: HashMap<String, Resolved>,
    gazetteer: Option<&'static Gazetteer>,
}

impl CorpusIndex {
    /// An index that links places and demonyms to the built-in gazetteer.
    pub fn with_gazetteer() -> Self {
        CorpusIndex {
            gazetteer: Some(Gazetteer::builtin()),
            ..Default::default()
        }
    }

    /// An index with the built-in gazetteer or without it.
    pub fn new(gazetteer: bool) -> Self {
        if gazetteer {
            Self::with_gazetteer()
        } else {
            Self::default()
        }
    }

    /// Record one linked mention.
    pub fn observe(&mut self, l: &Linked) {
        self.observe_n(l, 1);
    }

    /// Record `n` alike linked mentions at once.
    pub fn observe_n(&mut self, l: &Linked, n: u64) {
        let info = self.keys.entry(entity_key(&l.label, &l.name)).or_default();
        info.label.clone_from(&l.label);
        if l.from_table {
            info.table_name = Some(l.name.clone());
        }
        *info.forms.entry(l.name.clone()).or_default() += n;
        info.mentions += n;
    }

    /// Decide every entity (call once all mentions are observed).
    pub fn resolve(&mut self) {
        let display = |info: &KeyInfo| -> String {
            if let Some(t) = &info.table_name {
                return t.clone();
            }
            let mut forms: Vec<(&String, &u64)> = info.forms.iter().collect();
            // Most frequent spelling; ties: capitalised first, then alphabetical.
            forms.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            forms.first().map(|f| f.0.clone()).unwrap_or_default()
        };
        let names: HashMap<&String, String> =
            self.keys.iter().map(|(k, i)| (k, display(i))).collect();

        // Mentions per name (case-insensitive) and label, outside the alias table.
        let mut by_name: HashMap<String, HashMap<&str, u64>> = HashMap::new();
        for (k, info) in &self.keys {
            if info.table_name.is_none() {
                *by_name
                    .entry(name_key(&names[k]))
                    .or_default()
                    .entry(info.label.as_str())
                    .or_default() += info.mentions;
            }
        }
        let total = |name: &str| -> u64 { by_name.get(name).map_or(0, |m| m.values().sum()) };

        // Rule 1: one-word names → the dominant full person name extending them.
        let full: HashMap<String, &str> = self
            .keys
            .iter()
            .filter(|(k, i)| i.label == "PER" && i.table_name.is_none() && names[k].contains(' '))
            .map(|(k, _)| (name_key(&names[k]), names[k].as_str()))
            .collect();
        let mut short_to_full: HashMap<String, String> = HashMap::new();
        for (short, labels) in &by_name {
            let Some(&per) = labels.get("PER") else {
                continue;
            };
            if short.contains(' ') || MONTHS.contains(&short.as_str()) {
                continue;
            }
            let mut cands: Vec<(&str, u64)> = full
                .iter()
                .filter(|(fk, _)| {
                    let words: Vec<&str> = fk.split(' ').collect();
                    words.first() == Some(&short.as_str()) || words.last() == Some(&short.as_str())
                })
                .map(|(fk, display)| (*display, total(fk)))
                .collect();
            cands.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            let sum: u64 = cands.iter().map(|c| c.1).sum();
            let Some(&(best, best_n)) = cands.first() else {
                continue;
            };
            if (best_n as f64) < DOMINANT_SHARE * sum as f64 {
                continue;
            }
            let all: u64 = labels.values().sum();
            // The short form's non-PER mentions follow only when the person reading wins.
            let follow_all = (per + best_n) as f64 >= LABEL_SHARE * (all + best_n) as f64;
            short_to_full.insert(short.clone(), best.to_string());
            if !follow_all {
                short_to_full.insert(format!("PER\u{1f}{short}"), best.to_string());
                short_to_full.remove(short);
            }
        }

        // Rule 2: the dominant label of each name.
        let label_of = |name: &str, own: &str| -> String {
            let Some(labels) = by_name.get(&name_key(name)) else {
                return own.to_string();
            };
            let all: u64 = labels.values().sum();
            let mut ls: Vec<(&&str, &u64)> = labels.iter().collect();
            ls.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            match ls.first() {
                Some((l, n)) if **n as f64 >= LABEL_SHARE * all as f64 => l.to_string(),
                _ => own.to_string(),
            }
        };

        let mut resolved = HashMap::new();
        for (k, info) in &self.keys {
            let name = names[k].clone();
            let mut r = Resolved {
                label: info.label.clone(),
                name,
                id: None,
                country_code: None,
                latitude: None,
                longitude: None,
                source: None,
            };
            if info.table_name.is_none() {
                let key = name_key(&r.name);
                let full_name = short_to_full
                    .get(&key)
                    .or_else(|| short_to_full.get(&format!("{}\u{1f}{key}", info.label)));
                if let Some(f) = full_name {
                    r.name = f.clone();
                    r.label = "PER".into();
                    r.source = Some(AliasSource::Corpus);
                } else {
                    r.label = label_of(&r.name, &info.label);
                    if r.label != "PER" {
                        if let Some(p) = self.gazetteer.and_then(|g| g.lookup(&r.name)) {
                            self.apply_place(&mut r, p);
                        }
                    }
                }
            }
            resolved.insert(k.clone(), r);
        }
        // One entity, one set of place fields: an entity (name and label) that some of its
        // keys reached through the gazetteer and others not (an alias table entry naming
        // "Russia" as a LOC) takes the gazetteer's id, code and coordinates everywhere.
        let mut places: HashMap<(String, String), Resolved> = HashMap::new();
        for r in resolved.values().filter(|r| r.id.is_some()) {
            let slot = places
                .entry((name_key(&r.name), r.label.clone()))
                .or_insert_with(|| r.clone());
            if r.id < slot.id {
                *slot = r.clone();
            }
        }
        for r in resolved.values_mut() {
            if let Some(p) = places.get(&(name_key(&r.name), r.label.clone())) {
                r.id.clone_from(&p.id);
                r.country_code.clone_from(&p.country_code);
                r.latitude = p.latitude;
                r.longitude = p.longitude;
            }
        }
        self.resolved = resolved;
    }

    fn apply_place(&self, r: &mut Resolved, p: &Place) {
        if p.is_demonym() {
            // "Russian" stays a MISC entity of its own, grouped by country through its code.
            if r.label == "MISC" {
                r.id = Some(p.id.clone());
                r.country_code = Some(p.country_code.clone());
            }
            return;
        }
        if r.name != p.name {
            r.source = Some(AliasSource::Gazetteer);
        }
        r.name = p.name.clone();
        r.label = p.label.clone();
        r.id = Some(p.id.clone());
        r.country_code = Some(p.country_code.clone());
        r.latitude = p.latitude;
        r.longitude = p.longitude;
    }

    /// The entity of a linked mention (its name and label as observed).
    pub fn entity(&self, label: &str, name: &str) -> Resolved {
        self.resolved
            .get(&entity_key(label, name))
            .cloned()
            .unwrap_or_else(|| Resolved {
                name: name.to_string(),
                label: label.to_string(),
                id: None,
                country_code: None,
                latitude: None,
                longitude: None,
                source: None,
            })
    }

    /// The canonical name of a linked mention.
    pub fn canonical(&self, label: &str, name: &str) -> String {
        self.resolved
            .get(&entity_key(label, name))
            .map_or_else(|| name.to_string(), |r| r.name.clone())
    }

    /// Distinct entities (canonical name and label).
    pub fn n_entities(&self) -> usize {
        self.resolved
            .values()
            .map(|r| (name_key(&r.name), r.label.as_str()))
            .collect::<HashSet<_>>()
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Linker;

    fn index(mentions: &[(&str, &str, u64)], gazetteer: bool) -> CorpusIndex {
        let mut index = CorpusIndex::new(gazetteer);
        for &(name, label, n) in mentions {
            let l = Linked {
                name: name.into(),
                label: label.into(),
                from_table: false,
            };
            index.observe_n(&l, n);
        }
        index.resolve();
        index
    }

    #[test]
    fn corpus_merges_by_name_and_completes_surnames() {
        let l = Linker::default();
        let mut index = CorpusIndex::default();
        // Document 1 names Putin in full; document 2 only says "Putin" and "KISHIDA".
        let d1 = l.link_doc("", &[("Vladimir Putin", "PER"), ("Kishida", "PER")]);
        let d2 = l.link_doc(
            "",
            &[
                ("Putin", "PER"),
                ("Kishida", "PER"),
                ("Moscow", "LOC"),
                ("Moscow", "ORG"),
            ],
        );
        for m in d1.iter().chain(&d2) {
            index.observe(m);
        }
        index.resolve();
        let putin = index.entity("PER", "Putin");
        assert_eq!(putin.name, "Vladimir Putin");
        assert_eq!(putin.source, Some(AliasSource::Corpus));
        assert_eq!(index.canonical("PER", "kishida"), "Kishida");
        // Split evenly between two labels: two entities.
        assert_eq!(index.entity("ORG", "Moscow").label, "ORG");
        assert_eq!(index.n_entities(), 4);
    }

    #[test]
    fn short_forms_link_to_the_dominant_full_name_only() {
        let ix = index(
            &[
                ("Donald Trump", "PER", 41),
                ("Ivanka Trump", "PER", 2),
                ("Melania Trump", "PER", 1),
                ("Trump", "PER", 17),
                ("Trump", "LOC", 2),
                ("Trump", "ORG", 1),
                ("Xi Jinping", "PER", 14),
                ("Xi", "ORG", 4),
                ("Xi", "PER", 2),
                // Two Abes, neither dominant; a month that is also a surname.
                ("Shinzo Abe", "PER", 3),
                ("Akie Abe", "PER", 2),
                ("Abe", "PER", 5),
                ("Theresa May", "PER", 9),
                ("May", "PER", 3),
            ],
            false,
        );
        for label in ["PER", "LOC", "ORG"] {
            let e = ix.entity(label, "Trump");
            assert_eq!((e.name.as_str(), e.label.as_str()), ("Donald Trump", "PER"));
        }
        assert_eq!(ix.canonical("PER", "Ivanka Trump"), "Ivanka Trump");
        assert_eq!(ix.canonical("PER", "Melania Trump"), "Melania Trump");
        assert_eq!(ix.entity("ORG", "Xi").name, "Xi Jinping");
        assert_eq!(ix.entity("ORG", "Xi").label, "PER");
        assert_eq!(ix.canonical("PER", "Abe"), "Abe");
        assert_eq!(ix.canonical("PER", "May"), "May");
    }

    #[test]
    fn a_minority_label_joins_the_dominant_one_and_a_split_name_stays_apart() {
        let ix = index(
            &[
                ("Kremlin", "ORG", 30),
                ("Kremlin", "LOC", 5),
                ("Jordan", "LOC", 5),
                ("Jordan", "PER", 5),
            ],
            false,
        );
        assert_eq!(ix.entity("LOC", "Kremlin").label, "ORG");
        assert_eq!(ix.entity("LOC", "Jordan").label, "LOC");
        assert_eq!(ix.entity("PER", "Jordan").label, "PER");
    }

    #[test]
    fn places_and_demonyms_come_from_the_gazetteer() {
        let ix = index(
            &[
                ("US", "LOC", 23),
                ("US", "MISC", 6),
                ("US", "ORG", 1),
                ("U.S.", "LOC", 7),
                ("United States", "LOC", 8),
                ("America", "LOC", 4),
                ("USA", "ORG", 1),
                ("Russian", "MISC", 5),
                ("Russia", "LOC", 9),
                ("Jordan", "PER", 3),
            ],
            true,
        );
        for (name, label) in [
            ("US", "LOC"),
            ("US", "MISC"),
            ("US", "ORG"),
            ("U.S.", "LOC"),
            ("America", "LOC"),
            ("USA", "ORG"),
            ("United States", "LOC"),
        ] {
            let e = ix.entity(label, name);
            assert_eq!(e.name, "United States", "{name} {label}");
            assert_eq!(e.label, "LOC");
            assert_eq!(e.id.as_deref(), Some("geonames:6252001"));
            assert_eq!(e.country_code.as_deref(), Some("US"));
            assert!(e.latitude.is_some() && e.longitude.is_some());
        }
        assert_eq!(ix.entity("LOC", "US").source, Some(AliasSource::Gazetteer));
        assert_eq!(ix.entity("LOC", "United States").source, None);
        let russian = ix.entity("MISC", "Russian");
        assert_eq!(
            (russian.name.as_str(), russian.label.as_str()),
            ("Russian", "MISC")
        );
        assert_eq!(russian.country_code.as_deref(), Some("RU"));
        assert_eq!(
            ix.entity("LOC", "Russia").id.as_deref(),
            Some("geonames:2017370")
        );
        // People are never places.
        assert_eq!(ix.entity("PER", "Jordan").id, None);
        // Without the gazetteer, names stay as written.
        let plain = index(&[("US", "LOC", 3), ("U.S.", "LOC", 2)], false);
        assert_eq!(plain.canonical("LOC", "US"), "US");
    }

    #[test]
    fn the_alias_table_wins_over_corpus_rules_and_gazetteer() {
        let mut ix = CorpusIndex::with_gazetteer();
        ix.observe_n(
            &Linked {
                name: "Government of Japan".into(),
                label: "ORG".into(),
                from_table: true,
            },
            3,
        );
        ix.observe_n(
            &Linked {
                name: "Tokyo".into(),
                label: "LOC".into(),
                from_table: false,
            },
            3,
        );
        ix.resolve();
        let g = ix.entity("ORG", "Government of Japan");
        assert_eq!(
            (g.name.as_str(), g.label.as_str(), g.id),
            ("Government of Japan", "ORG", None)
        );
        assert_eq!(
            ix.entity("LOC", "Tokyo").country_code.as_deref(),
            Some("JP")
        );
    }
}
