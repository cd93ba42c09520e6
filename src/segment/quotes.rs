//! Quotations and parentheses: sentence punctuation inside a short quotation or
//! parenthesis that closes on the same line does not split the enclosing sentence, and a
//! citation in parentheses stays with the sentence before it.

use super::scanner::Scanner;
use super::tokens::{char_at, char_before, is_opener};

/// Longest quotation / parenthesis (in bytes) whose inner punctuation is suppressed.
const MAX_ENCLOSED: usize = 400;

/// Finds successive occurrences of a fixed needle for monotonically increasing queries,
/// remembering the last answer so that the whole text is scanned at most once per needle.
pub(super) struct Finder {
    needle: &'static [u8],
    pos: usize,
    valid: bool,
}

impl Finder {
    pub(super) fn new(needle: &'static [u8]) -> Self {
        Finder {
            needle,
            pos: 0,
            valid: false,
        }
    }

    /// Position of the first occurrence starting after byte `i` (or `hay.len()` if none).
    /// Queries must come with non-decreasing `i`.
    pub(super) fn after(&mut self, hay: &[u8], i: usize) -> usize {
        if self.valid && self.pos > i {
            return self.pos;
        }
        self.pos = find_from(hay, i.saturating_add(1), self.needle);
        self.valid = true;
        self.pos
    }
}

pub(super) fn find_from(hay: &[u8], from: usize, needle: &[u8]) -> usize {
    let Some(&first) = needle.first() else {
        return hay.len();
    };
    let mut p = from;
    while p < hay.len() {
        match hay[p..].iter().position(|&x| x == first) {
            None => break,
            Some(off) => {
                let q = p + off;
                if hay[q..].starts_with(needle) {
                    return q;
                }
                p = q + 1;
            }
        }
    }
    hay.len()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opener {
    Straight,
    Curly,
    Paren,
    Guillemet,
}

impl Scanner<'_> {
    /// An opening quote or bracket: if it closes on the same line within [`MAX_ENCLOSED`]
    /// bytes, sentence punctuation inside it is ignored.
    pub(super) fn on_opener(&mut self, i: usize, kind: Opener, len: usize) {
        if i < self.suppress_until {
            return;
        }
        match char_at(self.text, i + len) {
            Some(c) if !c.is_whitespace() => {}
            _ => return,
        }
        if kind == Opener::Straight {
            if let Some(prev) = char_before(self.text, i) {
                let opening = prev.is_whitespace()
                    || is_opener(prev)
                    || matches!(prev, '—' | '–' | '-' | '/' | ':');
                if !opening {
                    return;
                }
            }
        }
        let b = self.bytes;
        let close = match kind {
            Opener::Straight => self.straight_close.after(b, i),
            Opener::Curly => self.curly_close.after(b, i),
            Opener::Paren => self.paren_close.after(b, i),
            Opener::Guillemet => self.guillemet_close.after(b, i),
        };
        if close >= b.len() || close - i > MAX_ENCLOSED {
            return;
        }
        if self.newline.after(b, i) < close {
            return;
        }
        self.suppress_until = close;
    }

    /// A parenthesis at `k` that closes on the same line and is directly followed by a
    /// period, as in `… [with Japan].” (Mid.ru, February 24, 2019).`: a citation that belongs
    /// to the preceding sentence.
    pub(super) fn is_citation(&self, k: usize) -> bool {
        let b = self.bytes;
        if b.get(k) != Some(&b'(') {
            return false;
        }
        let end = b.len().min(k + MAX_ENCLOSED);
        let Some(off) = b[k + 1..end]
            .iter()
            .position(|&c| matches!(c, b')' | b'(' | b'\n'))
        else {
            return false;
        };
        let close = k + 1 + off;
        b[close] == b')'
            && b.get(close + 1) == Some(&b'.')
            && b.get(close + 2).is_none_or(|c| c.is_ascii_whitespace())
    }
}

#[cfg(test)]
mod tests {
    use crate::segment::tests::sents;

    #[test]
    fn quotes_and_brackets() {
        assert_eq!(
            sents(r#"He said: "Stop. Now." Then he left."#),
            [r#"He said: "Stop. Now.""#, "Then he left."]
        );
        assert_eq!(sents(r#""It is over.""#), [r#""It is over.""#]);
        assert_eq!(
            sents(r#"He shouted "It is over." Then silence."#),
            [r#"He shouted "It is over.""#, "Then silence."]
        );
        assert_eq!(
            sents("(This is aside.) Next."),
            ["(This is aside.)", "Next."]
        );
        assert_eq!(
            sents("“We are ready. We will win,” Putin said. Nobody clapped."),
            [
                "“We are ready. We will win,” Putin said.",
                "Nobody clapped."
            ]
        );
        assert_eq!(
            sents("She turned to him, 'This is great.' she said."),
            ["She turned to him, 'This is great.' she said."]
        );
        assert_eq!(
            sents("He teaches (He worked as an engineer.) at the University."),
            ["He teaches (He worked as an engineer.) at the University."]
        );
        assert_eq!(
            sents("“Why?” he asked. “Because.”"),
            ["“Why?” he asked.", "“Because.”"]
        );
        assert_eq!(
            sents("That is JFK Jr.'s book."),
            ["That is JFK Jr.'s book."]
        );
    }

    #[test]
    fn citation_parenthesis_stays_with_its_sentence() {
        assert_eq!(
            sents("He said “it is bad [for us].” (Mid.ru, February 24, 2019). Then he left."),
            [
                "He said “it is bad [for us].” (Mid.ru, February 24, 2019).",
                "Then he left."
            ]
        );
        assert_eq!(
            sents("He left. (He came back later.) Then he slept."),
            ["He left.", "(He came back later.)", "Then he slept."]
        );
    }

    #[test]
    fn unclosed_quote_does_not_swallow_sentences() {
        assert_eq!(
            sents("He said \"we will go. Nobody stops us.\nThe end."),
            ["He said \"we will go.", "Nobody stops us.", "The end."]
        );
    }
}
