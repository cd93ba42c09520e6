//! The user alias table ([`AliasTable`], CSV or TOML) and where a name comes from
//! ([`AliasSource`]).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::names::{name_key, normalise};
use crate::error::{Error, Result};

/// Where an entity name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasSource {
    /// The user's alias table.
    Table,
    /// A linking rule inside the document (title/possessive stripped, surname, acronym).
    Rule,
    /// A corpus-level rule: a short form resolved to the full name that dominates it.
    Corpus,
    /// The built-in gazetteer ("U.S." → "United States").
    Gazetteer,
    /// The mention's own text.
    None,
}

impl AliasSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AliasSource::Table => "table",
            AliasSource::Rule => "rule",
            AliasSource::Corpus => "corpus",
            AliasSource::Gazetteer => "gazetteer",
            AliasSource::None => "none",
        }
    }
}

/// A user alias table: alias → canonical name, optionally with the entity's label.
#[derive(Debug, Clone, Default)]
pub struct AliasTable {
    map: HashMap<String, AliasTarget>,
}

/// What an alias maps to.
#[derive(Debug, Clone)]
pub(super) struct AliasTarget {
    /// The canonical name (trimmed).
    pub(super) canonical: String,
    /// The entity's label (upper case), when the table gives one.
    pub(super) label: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TomlAlias {
    Name(String),
    Full {
        canonical: String,
        label: Option<String>,
    },
}

#[derive(Deserialize)]
struct TomlFile {
    aliases: BTreeMap<String, TomlAlias>,
}

impl AliasTable {
    /// Build from (alias, canonical, label) triples.
    pub fn from_entries<I, S>(entries: I) -> Self
    where
        I: IntoIterator<Item = (S, S, Option<S>)>,
        S: Into<String>,
    {
        let mut map = HashMap::new();
        for (alias, canonical, label) in entries {
            let alias: String = alias.into();
            let canonical: String = canonical.into();
            map.insert(
                name_key(&normalise(&alias, "")),
                AliasTarget {
                    canonical: canonical.trim().to_string(),
                    label: label.map(|l| l.into().to_uppercase()),
                },
            );
        }
        AliasTable { map }
    }

    /// Read a table: CSV with a header `alias,canonical[,label]`, or TOML with an
    /// `[aliases]` table (`"Northern Territories" = "Kuril Islands"` or
    /// `"Tokyo" = { canonical = "Government of Japan", label = "ORG" }`).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?;
        let bad = |reason: String| Error::Input {
            path: path.to_path_buf(),
            reason,
        };
        let is_toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        let mut entries = Vec::new();
        if is_toml {
            let f: TomlFile =
                toml::from_str(&text).map_err(|e| bad(format!("invalid alias table: {e}")))?;
            for (alias, v) in f.aliases {
                match v {
                    TomlAlias::Name(c) => entries.push((alias, c, None)),
                    TomlAlias::Full { canonical, label } => entries.push((alias, canonical, label)),
                }
            }
        } else {
            let mut rdr = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .flexible(true)
                .comment(Some(b'#'))
                .from_reader(text.as_bytes());
            let headers = rdr
                .headers()
                .map_err(|e| bad(format!("invalid alias table: {e}")))?
                .clone();
            let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
            let (Some(a), Some(c)) = (col("alias"), col("canonical")) else {
                return Err(bad(
                    "alias table CSV needs a header with 'alias' and 'canonical' (and optionally 'label')"
                        .into(),
                ));
            };
            let l = col("label");
            for (i, rec) in rdr.records().enumerate() {
                let rec = rec.map_err(|e| bad(format!("line {}: {e}", i + 2)))?;
                let alias = rec.get(a).unwrap_or("").to_string();
                let canonical = rec.get(c).unwrap_or("").to_string();
                if alias.is_empty() || canonical.is_empty() {
                    return Err(bad(format!(
                        "line {}: empty alias or canonical name",
                        i + 2
                    )));
                }
                let label = l
                    .and_then(|l| rec.get(l))
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
                entries.push((alias, canonical, label));
            }
        }
        Ok(Self::from_entries(entries))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub(super) fn lookup(&self, name: &str) -> Option<&AliasTarget> {
        self.map.get(&name_key(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::Linker;

    #[test]
    fn alias_table_applies_first_and_may_set_the_label() {
        let dir = tempfile::tempdir().expect("tmp");
        let csv = dir.path().join("aliases.csv");
        std::fs::write(
            &csv,
            "alias,canonical,label\n# islands\nNorthern Territories,Kuril Islands,\nSouthern Kurils,Kuril Islands,\nTokyo,Government of Japan,ORG\n",
        )
        .expect("w");
        let toml = dir.path().join("aliases.toml");
        std::fs::write(
            &toml,
            "[aliases]\n\"Northern Territories\" = \"Kuril Islands\"\n\"Southern Kurils\" = \"Kuril Islands\"\n\"Tokyo\" = { canonical = \"Government of Japan\", label = \"org\" }\n",
        )
        .expect("w");
        for path in [csv, toml] {
            let table = AliasTable::from_file(&path).expect("table");
            assert_eq!(table.len(), 3);
            let out = Linker::new(table).link_doc(
                "",
                &[
                    ("the Northern Territories", "LOC"),
                    ("southern Kurils", "MISC"),
                    ("Tokyo", "LOC"),
                    ("Moscow", "LOC"),
                ],
            );
            let got: Vec<(&str, &str, bool)> = out
                .iter()
                .map(|l| (l.name.as_str(), l.label.as_str(), l.from_table))
                .collect();
            assert_eq!(
                got,
                [
                    ("Kuril Islands", "LOC", true),
                    ("Kuril Islands", "MISC", true),
                    ("Government of Japan", "ORG", true),
                    ("Moscow", "LOC", false)
                ]
            );
        }
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "name,target\na,b\n").expect("w");
        let err = AliasTable::from_file(&bad).expect_err("bad header");
        assert!(err.to_string().contains("'alias' and 'canonical'"), "{err}");
    }
}
