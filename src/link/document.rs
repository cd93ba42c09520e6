//! Linking within one document ([`Linker`]): alias table first, then acronyms the document
//! defines, then a person's short name to the document's one full name.

use std::collections::{HashMap, HashSet};

use super::alias::AliasTable;
use super::names::{acronym_definitions, name_key, normalise, unique_extension};

/// One mention after linking within its document.
#[derive(Debug, Clone, PartialEq)]
pub struct Linked {
    /// The entity's name in this document (before corpus-wide naming).
    pub name: String,
    /// The entity's label (the alias table's when it gives one, else the mention's).
    pub label: String,
    /// From the alias table?
    pub from_table: bool,
}

/// Links mentions within documents; cheap to share across threads.
#[derive(Debug, Clone, Default)]
pub struct Linker {
    aliases: AliasTable,
}

impl Linker {
    pub fn new(aliases: AliasTable) -> Self {
        Linker { aliases }
    }

    /// Link the mentions (`(surface, label)`) of one document whose cleaned text is `text`.
    pub fn link_doc(&self, text: &str, mentions: &[(&str, &str)]) -> Vec<Linked> {
        let acronyms = if text.contains('(') {
            acronym_definitions(text)
        } else {
            HashMap::new()
        };
        let mut out: Vec<Linked> = mentions
            .iter()
            .map(|(surface, label)| {
                let name = normalise(surface, label);
                let name = if name.is_empty() {
                    surface.trim().to_string()
                } else {
                    name
                };
                if let Some(target) = self.aliases.lookup(&name) {
                    return Linked {
                        name: target.canonical.clone(),
                        label: target.label.clone().unwrap_or_else(|| label.to_string()),
                        from_table: true,
                    };
                }
                let name = acronyms.get(&name).cloned().unwrap_or(name);
                Linked {
                    name,
                    label: label.to_string(),
                    from_table: false,
                }
            })
            .collect();
        // People: a shorter name links to the one longer name of the document that ends
        // (surname) or starts (first name) with it.
        let full: Vec<String> = {
            let mut seen = HashSet::new();
            out.iter()
                .filter(|l| !l.from_table && l.label == "PER" && l.name.contains(' '))
                .map(|l| l.name.clone())
                .filter(|n| seen.insert(name_key(n)))
                .collect()
        };
        for l in out.iter_mut() {
            if l.from_table || l.label != "PER" {
                continue;
            }
            if let Some(f) = unique_extension(&l.name, full.iter().map(String::as_str)) {
                l.name = f.to_string();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::tests::link;

    #[test]
    fn people_link_to_the_full_name_of_the_document() {
        let l = Linker::default();
        let names = link(
            &l,
            "",
            &[
                ("Vladimir Putin", "PER"),
                ("President Putin", "PER"),
                ("Putin's", "PER"),
                ("Fumio Kishida", "PER"),
                ("PM Kishida", "PER"),
                ("Fumio", "PER"),
                ("Moscow", "LOC"),
            ],
        );
        assert_eq!(
            names,
            [
                "Vladimir Putin",
                "Vladimir Putin",
                "Vladimir Putin",
                "Fumio Kishida",
                "Fumio Kishida",
                "Fumio Kishida",
                "Moscow"
            ]
        );
        // Two full names share the surname: "Abe" alone stays ambiguous.
        let names = link(
            &l,
            "",
            &[("Shinzo Abe", "PER"), ("Akie Abe", "PER"), ("Abe", "PER")],
        );
        assert_eq!(names, ["Shinzo Abe", "Akie Abe", "Abe"]);
        // Only people link by surname.
        let names = link(&l, "", &[("New York", "LOC"), ("York", "LOC")]);
        assert_eq!(names, ["New York", "York"]);
    }

    #[test]
    fn acronyms_link_to_the_long_form_the_document_defines() {
        let text = "Seoul deployed the Terminal High-Altitude Area Defense (THAAD) system. \
                    The North Atlantic Treaty Organization (NATO) met. THAAD angered Beijing. \
                    He said (OK) nothing.";
        let defs = acronym_definitions(text);
        assert_eq!(defs["THAAD"], "Terminal High-Altitude Area Defense");
        assert_eq!(defs["NATO"], "North Atlantic Treaty Organization");
        assert!(!defs.contains_key("OK"));
        let names = link(
            &Linker::default(),
            text,
            &[("THAAD", "MISC"), ("NATO", "ORG"), ("Beijing", "LOC")],
        );
        assert_eq!(
            names,
            [
                "Terminal High-Altitude Area Defense",
                "North Atlantic Treaty Organization",
                "Beijing"
            ]
        );
    }
}
