//! Linking across the corpus ([`CorpusIndex`]): entities merged by normalised name and
//! label, surnames completed from the corpus, each entity named by its best form.

use std::collections::{HashMap, HashSet};

use super::names::{entity_key, unique_extension};
use super::Linked;

#[derive(Debug, Default)]
struct KeyInfo {
    label: String,
    forms: HashMap<String, u64>,
    table_name: Option<String>,
}

/// Entities seen across the corpus; resolves each to its canonical name.
#[derive(Debug, Default)]
pub struct CorpusIndex {
    keys: HashMap<String, KeyInfo>,
    resolved: HashMap<String, String>,
}

impl CorpusIndex {
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
    }

    /// Decide every entity's canonical name (call once all mentions are observed).
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
        // A person's name that is a strict part of exactly one fuller name in the corpus
        // links to it ("Putin" alone in one article → "Vladimir Putin" from the others).
        let full: Vec<&str> = self
            .keys
            .iter()
            .filter(|(_, i)| i.label == "PER" && i.table_name.is_none())
            .map(|(k, _)| names[k].as_str())
            .filter(|n| n.contains(' '))
            .collect();
        let mut resolved = HashMap::new();
        for (k, info) in &self.keys {
            let mut name = names[k].clone();
            if info.label == "PER" && info.table_name.is_none() {
                if let Some(f) = unique_extension(&name, full.iter().copied()) {
                    name = f.to_string();
                }
            }
            resolved.insert(k.clone(), name);
        }
        self.resolved = resolved;
    }

    /// The canonical name of a linked mention.
    pub fn canonical(&self, label: &str, name: &str) -> String {
        self.resolved
            .get(&entity_key(label, name))
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    pub fn n_entities(&self) -> usize {
        self.resolved.values().collect::<HashSet<_>>().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Linker;

    #[test]
    fn corpus_merges_by_name_and_completes_surnames() {
        let l = Linker::default();
        let mut index = CorpusIndex::default();
        // Document 1 names Putin in full; document 2 only says "Putin" and "KISHIDA".
        let d1 = l.link_doc("", &[("Vladimir Putin", "PER"), ("Kishida", "PER")]);
        let d2 = l.link_doc(
            "",
            &[("Putin", "PER"), ("Kishida", "PER"), ("Putin", "LOC")],
        );
        for m in d1.iter().chain(&d2) {
            index.observe(m);
        }
        index.resolve();
        assert_eq!(index.canonical("PER", "Putin"), "Vladimir Putin");
        assert_eq!(index.canonical("PER", "kishida"), "Kishida");
        // A different label is a different entity.
        assert_eq!(index.canonical("LOC", "Putin"), "Putin");
        assert_eq!(index.n_entities(), 3);
    }
}
