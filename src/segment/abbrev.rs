//! The abbreviation table: built-in English news abbreviations by kind (titles, ordinary,
//! number and terminal abbreviations), user additions, and the capitalised words that
//! commonly start a sentence.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

use super::Segmenter;

/// How an abbreviation behaves when it is followed by whitespace and a capitalised word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AbbrKind {
    /// Prepositive titles (`Mr.`, `Dr.`, `Gen.`): never end a sentence.
    Title,
    /// Ordinary abbreviations (`Inc.`, `Jan.`, `U.S.`): end a sentence only before a common
    /// sentence starter.
    Regular,
    /// Abbreviations normally followed by a number (`No. 5`, `pp. 12`): no boundary before a
    /// digit, otherwise treated like an ordinary word.
    Number,
    /// Abbreviations that usually close a clause (`etc.`): treated like an ordinary word.
    Terminal,
}

/// Titles that precede a name and therefore never end a sentence.
const TITLES: &[&str] = &[
    "mr", "mrs", "ms", "messrs", "mme", "mlle", "dr", "prof", "gen", "gens", "col", "lt", "sgt",
    "gov", "sen", "sens", "rep", "reps", "rev", "capt", "cmdr", "cdr", "maj", "adm", "brig",
    "pres", "hon", "supt", "det", "insp", "cpl", "pvt", "mt", "fr", "rt", "atty", "amb", "msgr",
    "lt.col", "lt.gen", "maj.gen", "brig.gen",
];

/// Ordinary abbreviations: a boundary only before a common sentence starter.
const REGULAR: &[&str] = &[
    "jr", "sr", "st", "co", "cos", "corp", "inc", "ltd", "llc", "plc", "bros", "assn", "dept",
    "univ", "intl", "natl", "govt", "est", "approx", "vs", "al", "cf", "ca", "viz", "esq", "ret",
    "ave", "blvd", "rd", "hwy", "ft", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "mon", "tue", "tues", "thu", "thur", "thurs", "fri", "e.g", "i.e",
    "a.m", "p.m", "u.s", "u.k", "e.u", "u.n", "u.s.a", "d.c", "ph.d", "ala", "ariz", "calif",
    "colo", "conn", "fla", "kan", "ky", "mich", "minn", "mont", "neb", "nev", "okla", "tenn", "vt",
    "va", "wis", "wyo",
];

/// Abbreviations that are usually followed by a number.
const NUMBER: &[&str] = &[
    "no", "nos", "nr", "n°", "nº", "pp", "vol", "vols", "ch", "art", "sec", "fig", "figs", "para",
    "tel", "ext", "ref", "op",
];

/// Abbreviations that behave like ordinary sentence-final words.
const TERMINAL: &[&str] = &["etc"];

/// Capitalised words that commonly start a sentence; after an ordinary abbreviation they
/// signal a boundary (Pragmatic Segmenter's list, extended for news prose).
pub(super) fn is_sentence_starter(word: &str) -> bool {
    matches!(
        word,
        "A" | "After"
            | "Also"
            | "An"
            | "And"
            | "As"
            | "At"
            | "Being"
            | "But"
            | "By"
            | "Despite"
            | "Did"
            | "During"
            | "For"
            | "He"
            | "Her"
            | "His"
            | "How"
            | "However"
            | "I"
            | "If"
            | "In"
            | "Indeed"
            | "It"
            | "Its"
            | "Meanwhile"
            | "Millions"
            | "More"
            | "Moreover"
            | "Most"
            | "Nevertheless"
            | "Now"
            | "On"
            | "Our"
            | "She"
            | "Since"
            | "So"
            | "Some"
            | "Still"
            | "That"
            | "The"
            | "Their"
            | "There"
            | "These"
            | "They"
            | "This"
            | "Those"
            | "Thus"
            | "To"
            | "We"
            | "What"
            | "When"
            | "Where"
            | "While"
            | "Who"
            | "Why"
            | "Yet"
            | "You"
    )
}

/// FNV-1a: abbreviation keys are tiny, so this beats SipHash comfortably.
#[derive(Debug, Clone, Copy)]
pub(super) struct Fnv1a(u64);

impl Default for Fnv1a {
    fn default() -> Self {
        Fnv1a(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv1a {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

pub(super) type AbbrMap = HashMap<String, AbbrKind, BuildHasherDefault<Fnv1a>>;

/// The built-in English abbreviation table.
pub(super) struct BuiltinTable {
    pub(super) map: AbbrMap,
    /// Its longest key, in bytes.
    pub(super) max_len: usize,
}

/// The built-in table, built once per process.
pub(super) static BUILTIN: LazyLock<BuiltinTable> = LazyLock::new(|| {
    let mut map = AbbrMap::default();
    let groups: [(&[&str], AbbrKind); 4] = [
        (REGULAR, AbbrKind::Regular),
        (NUMBER, AbbrKind::Number),
        (TERMINAL, AbbrKind::Terminal),
        (TITLES, AbbrKind::Title),
    ];
    for (words, kind) in groups {
        for w in words {
            map.insert((*w).to_string(), kind);
        }
    }
    let max_len = map.keys().map(String::len).max().unwrap_or(0);
    BuiltinTable { map, max_len }
});

impl Segmenter {
    pub(super) fn lookup(&self, word: &str) -> Option<AbbrKind> {
        if word.is_empty() || word.len() > self.max_abbr_len {
            return None;
        }
        let mut buf = [0u8; 32];
        if word.is_ascii() && word.len() <= buf.len() {
            let dst = &mut buf[..word.len()];
            dst.copy_from_slice(word.as_bytes());
            dst.make_ascii_lowercase();
            let key = std::str::from_utf8(dst).ok()?;
            self.lookup_key(key)
        } else {
            self.lookup_key(&word.to_lowercase())
        }
    }

    fn lookup_key(&self, key: &str) -> Option<AbbrKind> {
        match BUILTIN.map.get(key) {
            Some(kind) => Some(*kind),
            None if self.extra.is_empty() => None,
            None => self.extra.get(key).copied(),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::segment::tests::{sents, split_with};
    use crate::segment::Segmenter;

    #[test]
    fn titles_never_end_a_sentence() {
        for t in [
            "Mr.", "Mrs.", "Ms.", "Dr.", "Prof.", "Gen.", "Col.", "Lt.", "Sgt.", "Gov.", "Sen.",
            "Rep.", "Rev.", "Mt.",
        ] {
            let text = format!("Yesterday {t} The Smith spoke. Then he left.");
            assert_eq!(
                sents(&text),
                [
                    format!("Yesterday {t} The Smith spoke."),
                    "Then he left.".to_string()
                ],
                "{t}"
            );
        }
        assert_eq!(
            sents("Dr. Smith met Gov. Cuomo and Prof. Jones at Mt. Fuji."),
            ["Dr. Smith met Gov. Cuomo and Prof. Jones at Mt. Fuji."]
        );
    }

    #[test]
    fn abbreviations_mid_sentence() {
        for text in [
            "Martin Luther King Jr. said it first.",
            "They met at St. Paul's Cathedral.",
            "Acme Co. Ltd. and Foo Corp. Holdings signed a deal.",
            "Apple Inc. reported results.",
            "Item No. 5 is missing.",
            "It was Brazil vs. Argentina in the final.",
            "Apples, pears, etc. were on sale.",
            "Fruit, e.g. apples, and vegetables, i.e. carrots.",
            "The meeting starts at 9 a.m. and ends at 5 p.m. on Friday.",
            "On Jan. 5 and Feb. 6 and Sept. 7 it rained.",
            "The U.S. Navy and the U.K. Parliament and the E.U. Commission and the U.N. Security Council met.",
            "The vote is on Aug. 12 in Calif. and Fla. too.",
        ] {
            assert_eq!(sents(text), [text], "{text}");
        }
    }

    #[test]
    fn abbreviations_at_sentence_end() {
        assert_eq!(
            sents("He moved to the U.S. The next year he left."),
            ["He moved to the U.S.", "The next year he left."]
        );
        assert_eq!(
            sents("They sold Foo Corp. It closed yesterday."),
            ["They sold Foo Corp.", "It closed yesterday."]
        );
        assert_eq!(
            sents("Bring apples, pears, etc. Russia will pay."),
            ["Bring apples, pears, etc.", "Russia will pay."]
        );
        assert_eq!(
            sents("The answer was no. Russia refused."),
            ["The answer was no.", "Russia refused."]
        );
        assert_eq!(
            sents("It starts at 5 p.m. But nobody comes."),
            ["It starts at 5 p.m.", "But nobody comes."]
        );
    }

    #[test]
    fn initials() {
        assert_eq!(
            sents("Oles M. Smolansky argued the point."),
            ["Oles M. Smolansky argued the point."]
        );
        assert_eq!(
            sents("J. R. R. Tolkien wrote it. George W. Bush read it."),
            ["J. R. R. Tolkien wrote it.", "George W. Bush read it."]
        );
        assert_eq!(
            sents("We make a good team, you and I. Did you see Albert I. Jones?"),
            [
                "We make a good team, you and I.",
                "Did you see Albert I. Jones?"
            ]
        );
        assert_eq!(
            sents("Please turn to p. 55 now."),
            ["Please turn to p. 55 now."]
        );
    }

    #[test]
    fn user_abbreviations() {
        let text = "The cost is approx. Five dollars. Really.";
        assert_eq!(
            sents(text),
            ["The cost is approx. Five dollars.", "Really."]
        );
        let seg = Segmenter::new().with_abbreviations(["Approx", "Dipl.", "ing", ""]);
        assert_eq!(
            split_with(&seg, "It weighs approx. Ten tons. Dipl. Ing. Meyer agrees."),
            ["It weighs approx. Ten tons.", "Dipl. Ing. Meyer agrees."]
        );
        let owned: Vec<String> = vec![String::from("Bzw")];
        let seg = Segmenter::new().with_abbreviations(&owned);
        assert_eq!(split_with(&seg, "A bzw. B ist gut."), ["A bzw. B ist gut."]);
        assert_eq!(
            split_with(&seg, "Wait bzw. The end."),
            ["Wait bzw.", "The end."]
        );
    }
}
