//! Casing classes: the uncased encoders lower-case their input, so the capitals of news
//! names never reach them. A model trained with casing classes (`"presslens_casing"` in its
//! `config.json`) gets each word piece's class, read from the original text, as its
//! token-type id. The classes are defined once here and once in Python
//! (`presslens.training.common.casing_class`); `tests/data/casing_vectors.json` holds test
//! vectors both test suites check.

use serde::Deserialize;

/// Version of the classes below, as written in `config.json`.
pub(super) const CASING_VERSION: u32 = 1;
/// Class names in id order. Special tokens and padding get id 0.
pub(super) const CASING_CLASSES: [&str; 5] = ["lower", "title", "upper", "mixed", "none"];
const LOWER: i64 = 0;
const TITLE: i64 = 1;
const UPPER: i64 = 2;
const MIXED: i64 = 3;
const NONE: i64 = 4;

/// `"presslens_casing"` of a `config.json`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub(super) struct CasingSpec {
    pub(super) version: u32,
    pub(super) classes: Vec<String>,
}

impl CasingSpec {
    /// Is this the scheme [`casing_class`] computes?
    pub(super) fn is_supported(&self) -> bool {
        self.version == CASING_VERSION && self.classes.iter().eq(CASING_CLASSES.iter())
    }
}

/// The casing class of a word piece's original text (before lower-casing).
///
/// Only cased letters count (Unicode upper- or lower-case characters; digits, punctuation
/// and uncased scripts do not): none of them → `none`; all lower-case → `lower`; the first
/// upper-case and the others lower-case → `title` (a single capital too, "A"); two or more,
/// all upper-case → `upper`; anything else → `mixed`.
pub(super) fn casing_class(piece: &str) -> i64 {
    let mut first: Option<bool> = None;
    let (mut n, mut n_upper, mut rest_upper) = (0usize, 0usize, false);
    for ch in piece.chars() {
        let (up, low) = (ch.is_uppercase(), ch.is_lowercase());
        if !(up || low) {
            continue;
        }
        match first {
            None => first = Some(up),
            Some(_) if up => rest_upper = true,
            Some(_) => {}
        }
        n += 1;
        n_upper += usize::from(up);
    }
    if n == 0 {
        NONE
    } else if n_upper == 0 {
        LOWER
    } else if n_upper == n {
        if n >= 2 {
            UPPER
        } else {
            TITLE
        }
    } else if first == Some(true) && !rest_upper {
        TITLE
    } else {
        MIXED
    }
}

/// The casing class of each token of `sentence`, from the tokens' character offsets
/// (tokens without characters get 0).
pub(super) fn casing_ids(sentence: &str, offsets: &[(usize, usize)]) -> Vec<i64> {
    // Byte position of every character (and of the end), to slice by character offsets.
    let bytes: Vec<usize> = sentence
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(sentence.len()))
        .collect();
    offsets
        .iter()
        .map(|&(s, e)| match (bytes.get(s), bytes.get(e)) {
            (Some(&a), Some(&b)) if b > a => casing_class(&sentence[a..b]),
            _ => 0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct Case {
        text: String,
        class: String,
    }

    #[derive(Deserialize)]
    struct Vectors {
        classes: Vec<String>,
        cases: Vec<Case>,
    }

    #[test]
    fn casing_classes_match_the_shared_test_vectors() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/casing_vectors.json"
        );
        let text = std::fs::read_to_string(path).expect("read casing_vectors.json");
        let v: Vectors = serde_json::from_str(&text).expect("parse casing_vectors.json");
        assert!(v.classes.iter().eq(CASING_CLASSES.iter()));
        assert!(v.cases.len() > 20);
        for c in &v.cases {
            let got = CASING_CLASSES[casing_class(&c.text) as usize];
            assert_eq!(got, c.class, "casing class of {:?}", c.text);
        }
    }

    #[test]
    fn casing_classes() {
        let names = |ws: &[&str]| -> Vec<&str> {
            ws.iter()
                .map(|w| CASING_CLASSES[casing_class(w) as usize])
                .collect()
        };
        assert_eq!(
            names(&[
                "the",
                "The",
                "NATO",
                "McDonald",
                "A",
                "3",
                "U.S.",
                "Москва",
                "北京"
            ]),
            ["lower", "title", "upper", "mixed", "title", "none", "upper", "title", "none"]
        );
        // Offsets are in characters, not bytes; special tokens have empty offsets.
        let s = "Élysée: NATO éco";
        let offsets = [(0, 0), (0, 6), (6, 7), (8, 12), (13, 16), (0, 0), (40, 41)];
        assert_eq!(
            casing_ids(s, &offsets),
            [0, TITLE, NONE, UPPER, LOWER, 0, 0]
        );
        let spec = CasingSpec {
            version: 1,
            classes: CASING_CLASSES.iter().map(|s| s.to_string()).collect(),
        };
        assert!(spec.is_supported());
        assert!(!CasingSpec {
            version: 2,
            ..spec.clone()
        }
        .is_supported());
    }
}
