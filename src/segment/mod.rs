//! Stage 3 — segment: rule-based sentence segmentation for English news text.
//!
//! [`Segmenter::split`] walks the text once, left to right, and only stops on the few
//! characters that can matter (`.` `?` `!` `…`, line breaks, quotes and brackets, list
//! bullets).  Every decision looks at a small window around the candidate boundary, so the
//! cost is linear in the input size and no regular expressions are involved.
//!
//! The rules follow the spirit of Pragmatic Segmenter's "Golden Rules":
//!
//! * `.` `?` `!` (and runs such as `?!`, `!!!`) end a sentence when followed by whitespace and
//!   a character that is not a lowercase letter; closing quotes and brackets right after the
//!   punctuation belong to the sentence (`"It is over."`).
//! * Titles (`Mr.`, `Dr.`, `Gen.`, …) never end a sentence.  Other known abbreviations
//!   (`Inc.`, `Jan.`, `U.S.`, `e.g.`, …) and dotted acronyms end one only when the next word is a
//!   common sentence starter (`The`, `He`, `It`, `But`, `In`, …): "the U.S. Navy" vs "in the
//!   U.S. The next".  Number abbreviations (`No.`, `p.`, `Vol.`) never end a sentence before a
//!   digit.  Single-letter initials (`Oles M. Smolansky`, `J. R. R. Tolkien`) are not boundaries
//!   (except "… and I. Did …").
//! * A period without following whitespace (`3.14`, `www.example.com/a.b`, `U.S.A`) is not a
//!   boundary, except for glued sentences such as `world.Today` (lowercase/digit before,
//!   capitalised word after, not inside an e-mail address or URL).
//! * Ellipses (`...`, `…`) end a sentence only before a capitalised word; spaced ellipses
//!   (`. . .`) never do, a spaced four-dot ellipsis (`. . . .`) does.
//! * Sentence punctuation inside a short quotation or parenthesis that closes on the same line
//!   (`He said: "Stop. Now." Then …`) does not split the enclosing sentence.
//! * Line breaks: a line break always ends a sentence unless the next line starts with a
//!   lowercase letter (a paragraph broken by web scraping), so headings without a final period
//!   become their own sentences.
//! * Numbered / lettered lists (`1. … 2. …`, `1) … 2) …`, `a. … b. …`) and bullets (`•`, `⁃`)
//!   start new sentences.
//!
//! Layout: this file holds the public API ([`Segmenter`], [`Span`], [`Sentence`]);
//! `scanner` the single pass and line breaks, `terminal` the sentence punctuation rules,
//! `quotes` quotations and parentheses, `lists` list markers and bullets, `abbrev` the
//! abbreviation table and sentence starters, `tokens` the character classes and token
//! shapes they share.

mod abbrev;
mod lists;
mod quotes;
mod scanner;
mod terminal;
mod tokens;

use abbrev::{AbbrKind, AbbrMap, BUILTIN};
use scanner::Scanner;

/// Byte span `[start, end)` of one sentence in the input text (always on char boundaries).
///
/// `&text[span.start..span.end]` is the sentence, without surrounding whitespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of the first byte of the sentence.
    pub start: usize,
    /// Byte offset one past the last byte of the sentence.
    pub end: usize,
}

/// A sentence's place in its text, in bytes and in characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// `&text[bytes]` is the sentence.
    pub bytes: std::ops::Range<usize>,
    /// The same span in characters (Unicode scalar values), as Python indexes strings.
    pub chars: std::ops::Range<usize>,
}

/// A sentence splitter for English news text.
///
/// The built-in abbreviation table is shared by all instances, so `Segmenter::default()` is
/// cheap (no allocation); [`Segmenter::split`] takes `&self`, so one instance can also be
/// shared across threads.
///
/// ```
/// use presslens::segment::Segmenter;
///
/// let text = "Mr. Smith went to Washington. He arrived at 5 p.m. on Monday.";
/// let seg = Segmenter::default();
/// let sentences: Vec<&str> = seg.split(text).iter().map(|s| &text[s.start..s.end]).collect();
/// assert_eq!(sentences, ["Mr. Smith went to Washington.", "He arrived at 5 p.m. on Monday."]);
/// ```
#[derive(Debug, Clone)]
pub struct Segmenter {
    /// User abbreviations (lowercased, without their final period) beyond the built-in table.
    extra: AbbrMap,
    /// Longest key of the built-in and user tables, in bytes (longer words skip the lookup).
    max_abbr_len: usize,
}

impl Default for Segmenter {
    /// English news defaults: titles, company suffixes, months, days, US states, Latin
    /// abbreviations and dotted acronyms such as `U.S.`.
    fn default() -> Self {
        Segmenter {
            extra: AbbrMap::default(),
            max_abbr_len: BUILTIN.max_len,
        }
    }
}

impl Segmenter {
    /// Creates a segmenter with the English news defaults (same as [`Segmenter::default`]).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds abbreviations to the table and returns the segmenter.
    ///
    /// Entries are matched case-insensitively and are given without their final period
    /// (`"approx"`, `"Ph.D"`; a trailing `.` is tolerated and stripped).  A user abbreviation
    /// does not end a sentence unless it is followed by a common sentence starter such as
    /// `The` or `He`.  Entries that are already built in keep their built-in behaviour.
    pub fn with_abbreviations<I, S>(mut self, extra: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        for entry in extra {
            let entry = entry.as_ref().trim();
            let entry = entry.strip_suffix('.').unwrap_or(entry);
            if entry.is_empty() {
                continue;
            }
            let key = entry.to_lowercase();
            if BUILTIN.map.contains_key(&key) {
                continue;
            }
            self.max_abbr_len = self.max_abbr_len.max(key.len()).max(entry.len());
            self.extra.insert(key, AbbrKind::Regular);
        }
        self
    }

    /// Splits `text` into sentences.
    ///
    /// The returned spans are in order, non-overlapping, non-empty, lie on char boundaries
    /// and are trimmed of surrounding whitespace; `&text[s.start..s.end]` is a sentence.
    /// Never panics, whatever the input.
    pub fn split(&self, text: &str) -> Vec<Span> {
        Scanner::new(self, text).run()
    }

    /// Splits `text` into sentences located both ways: byte offsets (to slice `text` in
    /// Rust) and character offsets (Python string indices, the tables' `start`/`end`).
    pub fn sentences(&self, text: &str) -> Vec<Sentence> {
        let (mut chars, mut last) = (0, 0);
        self.split(text)
            .into_iter()
            .map(|s| {
                chars += text[last..s.start].chars().count();
                let start = chars;
                chars += text[s.start..s.end].chars().count();
                last = s.end;
                Sentence {
                    bytes: s.start..s.end,
                    chars: start..chars,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn check_invariants(text: &str, spans: &[Span]) {
        let mut prev_end = 0;
        for s in spans {
            assert!(s.start < s.end, "empty span {s:?} in {text:?}");
            assert!(
                s.start >= prev_end,
                "overlap/out of order {s:?} in {text:?}"
            );
            assert!(text.is_char_boundary(s.start) && text.is_char_boundary(s.end));
            let sent = &text[s.start..s.end];
            assert_eq!(sent, sent.trim(), "untrimmed span {s:?} in {text:?}");
            prev_end = s.end;
        }
    }

    pub(super) fn split_with<'t>(seg: &Segmenter, text: &'t str) -> Vec<&'t str> {
        let spans = seg.split(text);
        check_invariants(text, &spans);
        spans.iter().map(|s| &text[s.start..s.end]).collect()
    }

    pub(super) fn sents(text: &str) -> Vec<&str> {
        split_with(&Segmenter::new(), text)
    }

    #[test]
    fn segmenter_is_shareable_and_new_equals_default() {
        fn assert_traits<T: Send + Sync + Clone + std::fmt::Debug + Default>() {}
        assert_traits::<Segmenter>();
        let text = "Gen. Smith left. The U.S. Army stayed. It rained.";
        assert_eq!(
            Segmenter::new().split(text),
            Segmenter::default().split(text)
        );
        assert_eq!(Segmenter::new().split(text).len(), 3);
    }

    #[test]
    fn empty_and_whitespace() {
        assert!(sents("").is_empty());
        assert!(sents("   \n\t \r\n  ").is_empty());
        assert!(sents("\u{a0}\u{2028}\u{2029}\u{3000}").is_empty());
        assert_eq!(sents("  Hello world  "), ["Hello world"]);
    }

    #[test]
    fn simple_sentences() {
        assert_eq!(
            sents("Hello World. My name is Jonas. What is yours? Tell me!"),
            [
                "Hello World.",
                "My name is Jonas.",
                "What is yours?",
                "Tell me!"
            ]
        );
    }

    #[test]
    fn spans_are_byte_offsets() {
        let text = "  Café au lait. Ça va? ";
        let spans = Segmenter::new().split(text);
        assert_eq!(spans[0], Span { start: 2, end: 16 });
        assert_eq!(&text[spans[1].start..spans[1].end], "Ça va?");
    }

    #[test]
    fn weird_input_never_panics() {
        let seg = Segmenter::new();
        let long: String = "word ".repeat(20_000);
        let samples: Vec<String> = vec![
            "😀. 😀! 🇺🇦? 👩‍👩‍👧‍👦... ok.".into(),
            "e\u{301}. A\u{308}\u{308}. ̈́. \u{301}".into(),
            "中文句子。日本語！한국어? 中文".into(),
            "\u{0}\u{1}\u{7}.\u{8}\u{1b}[0m. \u{7f}?\u{85}\u{feff}!".into(),
            ".".into(),
            "...".into(),
            ". . . .".into(),
            "?!?!".into(),
            "\"".into(),
            "(".into(),
            "“".into(),
            "•".into(),
            "1.".into(),
            "a)".into(),
            "1. ".into(),
            "U.S.".into(),
            "\n\n.\n\n".into(),
            " . ".into(),
            "Mr.".into(),
            "'.'.'.".into(),
            ".".repeat(10_000),
            "(\"".repeat(5_000),
            "a.".repeat(10_000),
            "x".repeat(100_000),
            long.clone(),
            format!("{long}."),
            "\n".repeat(50_000),
            "é".repeat(50_000),
            "\u{1F600}".repeat(30_000),
        ];
        for s in &samples {
            let spans = seg.split(s);
            check_invariants(s, &spans);
        }
        // No punctuation at all: one sentence covering the whole text.
        let spans = seg.split(&long);
        assert_eq!(
            spans,
            [Span {
                start: 0,
                end: long.len() - 1
            }]
        );
        let text = "x".repeat(100_000);
        assert_eq!(
            seg.split(&text),
            [Span {
                start: 0,
                end: 100_000
            }]
        );
    }

    #[test]
    fn pseudo_random_fuzz() {
        const PALETTE: &[&str] = &[
            "a", "B", "c", "Mr", "U", "S", "The", "I", "1", "23", "$", "%", ".", ". ", "?", "!",
            "…", "...", ". . .", " ", "  ", "\n", "\n\n", "\r\n", "\t", "\"", "'", "(", ")", "[",
            "]", "“", "”", "‘", "’", "«", "»", "•", "⁃", "@", "/", ":", "www", "。", "！", "？",
            "é", "\u{301}", "😀", "中", "\u{0}", "\u{2028}", "\u{2029}", "\u{a0}", "a)", "1.",
            "b.", "e.g.", "No", "etc", "Inc",
        ];
        let seg = Segmenter::new().with_abbreviations(["x.y", "ÄBC"]);
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..3_000 {
            let mut s = String::new();
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1);
            let len = (state >> 58) as usize + 1;
            for _ in 0..len * 3 {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                let idx = ((state >> 33) as usize) % PALETTE.len();
                s.push_str(PALETTE[idx]);
            }
            let spans = seg.split(&s);
            check_invariants(&s, &spans);
            // Every non-whitespace char is covered by some sentence.
            let covered: usize = spans
                .iter()
                .map(|sp| {
                    s[sp.start..sp.end]
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .count()
                })
                .sum();
            assert_eq!(
                covered,
                s.chars().filter(|c| !c.is_whitespace()).count(),
                "{s:?}"
            );
        }
    }
}
