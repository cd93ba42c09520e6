//! Sentence punctuation (`.` `?` `!` `…` and CJK stops): whether a run of it ends a
//! sentence, from a small window around it (abbreviations, initials, numbers, URLs, glued
//! sentences, ellipses).

use super::abbrev::{is_sentence_starter, AbbrKind};
use super::scanner::Scanner;
use super::tokens::{
    char_at, char_before, is_dotted_abbreviation, is_numeric, is_opener, token_start, trim_word,
    MAX_TOKEN,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Terminal {
    /// A single `.`
    Period,
    /// Runs containing `?` or `!`.
    Strong,
    /// `...`, `....`, `…`.
    Ellipsis,
    /// `. . .` with single spaces between the dots.
    Spaced,
    /// `。` `！` `？`: unambiguous, no whitespace needed.
    Cjk,
}

impl Scanner<'_> {
    pub(super) fn on_terminal(&mut self, i: usize) -> usize {
        let text = self.text;
        let b = self.bytes;
        let n = b.len();

        // 1. The punctuation run.
        let mut j = i;
        let mut dots = 0usize;
        let (mut strong, mut ellipsis, mut spaced, mut cjk) = (false, false, false, false);
        while j < n {
            match b[j] {
                b'.' => {
                    dots += 1;
                    j += 1;
                    if j + 1 < n && b[j] == b' ' && b[j + 1] == b'.' {
                        spaced = true;
                        j += 1;
                    }
                }
                b'?' | b'!' => {
                    strong = true;
                    j += 1;
                }
                c if c >= 0x80 => match char_at(text, j) {
                    Some('…') => {
                        ellipsis = true;
                        j += '…'.len_utf8();
                    }
                    Some('‽') => {
                        strong = true;
                        j += '‽'.len_utf8();
                    }
                    Some(c @ ('。' | '！' | '？' | '｡')) => {
                        cjk = true;
                        j += c.len_utf8();
                    }
                    _ => break,
                },
                _ => break,
            }
        }
        if j == i {
            return i + 1;
        }
        let class = if cjk {
            Terminal::Cjk
        } else if strong {
            Terminal::Strong
        } else if spaced {
            Terminal::Spaced
        } else if dots >= 2 || ellipsis {
            Terminal::Ellipsis
        } else {
            Terminal::Period
        };

        // 2. Closing quotes/brackets belong to the sentence.
        let k1 = self.skip_closers(j);
        if i < self.suppress_until && k1 <= self.suppress_until {
            return k1;
        }

        // 3. What follows.
        let (k, newline) = self.skip_ws(k1);
        if k >= n {
            return n;
        }
        if k == k1 {
            // No whitespace after the punctuation.
            return match class {
                Terminal::Cjk => self.boundary(k1, k1),
                Terminal::Period if self.glued_boundary(i, k1) => self.boundary(k1, k1),
                _ => k1,
            };
        }
        let next = char_at(text, k).unwrap_or(' ');
        if !newline && class != Terminal::Cjk && self.is_citation(k) {
            return k1;
        }
        let split = match class {
            Terminal::Cjk => true,
            Terminal::Strong => !next.is_lowercase() || newline,
            Terminal::Ellipsis => {
                let bracketed = matches!(char_before(text, i), Some('[' | '('))
                    && matches!(char_at(text, j), Some(']' | ')'));
                !bracketed && (newline || self.next_is_upper(k))
            }
            Terminal::Spaced => {
                if dots < 4 || !(newline || self.next_is_upper(k)) {
                    false
                } else if !newline
                    && b[i] == b'.'
                    && b.get(i + 1) == Some(&b' ')
                    && matches!(char_before(text, i), Some(c) if !c.is_whitespace())
                {
                    // "compounds. . . . The": the attached period ends the sentence and the
                    // three-dot ellipsis opens the next one.
                    self.push(self.sent_start, i + 1);
                    self.sent_start = i + 2;
                    self.list = None;
                    return k;
                } else {
                    true
                }
            }
            Terminal::Period => self.period_decision(i, k, next, newline),
        };
        if split {
            self.boundary(k1, k)
        } else {
            k1
        }
    }

    /// A single period followed by whitespace and `next` (at byte `k`).
    fn period_decision(&self, i: usize, k: usize, next: char, newline: bool) -> bool {
        let text = self.text;
        let regular = !next.is_lowercase() || newline;
        let Some(ts) = token_start(text, i) else {
            return regular;
        };
        let ts = ts.max(self.sent_start.min(i));
        let word = trim_word(text.get(ts..i).unwrap_or(""));
        if word.is_empty() || is_numeric(word) {
            return regular;
        }
        if let Some(kind) = self.seg.lookup(word) {
            return match kind {
                AbbrKind::Title => false,
                AbbrKind::Regular => self.starter_at(k),
                AbbrKind::Number => {
                    if next.is_ascii_digit() || next == '#' {
                        false
                    } else {
                        regular
                    }
                }
                AbbrKind::Terminal => regular,
            };
        }
        let mut chars = word.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            // A single letter: an initial ("Oles M. Smolansky"), "p. 55", or the pronoun I.
            if c.is_uppercase() {
                if c == 'I' && self.prev_word_lowercase(ts) {
                    return regular;
                }
                return self.starter_at(k);
            }
            if c.is_lowercase() {
                return false;
            }
            return regular;
        }
        if is_dotted_abbreviation(word) {
            return self.starter_at(k);
        }
        regular
    }

    /// "world.Today", "1,000.That": a period glued to a capitalised word.
    fn glued_boundary(&self, i: usize, k1: usize) -> bool {
        let text = self.text;
        let mut after = text.get(k1..).unwrap_or("").chars();
        match (after.next(), after.next()) {
            (Some(c1), Some(c2)) if c1.is_uppercase() && c2.is_lowercase() => {}
            _ => return false,
        }
        match char_before(text, i) {
            Some(p) if p.is_lowercase() || p.is_ascii_digit() => {}
            _ => return false,
        }
        let Some(ts) = token_start(text, i) else {
            return false;
        };
        let ts = ts.max(self.sent_start.min(i));
        let before = text.get(ts..i).unwrap_or("");
        let lower_start = before.get(..3).map(str::to_ascii_lowercase);
        if before.contains(['@', '/', ':']) || lower_start.as_deref() == Some("www") {
            return false;
        }
        let word = trim_word(before);
        if word.chars().nth(1).is_none()
            || self.seg.lookup(word).is_some()
            || is_dotted_abbreviation(word)
        {
            return false;
        }
        // The rest of the token must not be part of an address either.
        let rest = text.get(k1..).unwrap_or("");
        !rest
            .chars()
            .take(MAX_TOKEN)
            .take_while(|c| !c.is_whitespace())
            .any(|c| c == '@' || c == '/')
    }

    /// The first letter of the word before the token starting at `ts` is lowercase.
    fn prev_word_lowercase(&self, ts: usize) -> bool {
        let head = self.text.get(..ts).unwrap_or("").trim_end();
        let Some(ps) = token_start(self.text, head.len()) else {
            return false;
        };
        let prev = self.text.get(ps..head.len()).unwrap_or("");
        matches!(prev.trim_start_matches(is_opener).chars().next(), Some(c) if c.is_lowercase())
    }

    /// The word at `k` (after any opening quotes) is a common sentence starter.
    fn starter_at(&self, k: usize) -> bool {
        let rest = self
            .text
            .get(k..)
            .unwrap_or("")
            .trim_start_matches(is_opener);
        let bytes = rest.as_bytes();
        let mut e = 0;
        while e < bytes.len() && e <= 16 && bytes[e].is_ascii_alphabetic() {
            e += 1;
        }
        if e == 0 || e > 16 {
            return false;
        }
        if matches!(char_at(rest, e), Some(c) if c.is_alphanumeric()) {
            return false;
        }
        rest.get(..e).is_some_and(is_sentence_starter)
    }

    /// The char at `k` (after any opening quotes) is an uppercase letter.
    fn next_is_upper(&self, k: usize) -> bool {
        let rest = self
            .text
            .get(k..)
            .unwrap_or("")
            .trim_start_matches(is_opener);
        matches!(rest.chars().next(), Some(c) if c.is_uppercase())
    }
}

#[cfg(test)]
mod tests {
    use crate::segment::tests::sents;

    #[test]
    fn decimals_and_money() {
        for text in [
            "The deal is worth $3.5 billion today.",
            "Pi is about 3.14 and e is 2.718.",
            "Prices rose 1.5% in May.",
            "Install version 2.0.1 of the tool.",
        ] {
            assert_eq!(sents(text), [text], "{text}");
        }
        assert_eq!(
            sents("She has $100.00. It is in her bag."),
            ["She has $100.00.", "It is in her bag."]
        );
        assert_eq!(
            sents("Growth was 3.5. The bank expects more in 2024. 2025 looks worse."),
            [
                "Growth was 3.5.",
                "The bank expects more in 2024.",
                "2025 looks worse."
            ]
        );
    }

    #[test]
    fn urls_and_emails() {
        assert_eq!(
            sents("See www.example.com/a.b for more. Then call."),
            ["See www.example.com/a.b for more.", "Then call."]
        );
        assert_eq!(
            sents("Write to press@example.org. Then wait."),
            ["Write to press@example.org.", "Then wait."]
        );
        assert_eq!(
            sents("Her email is Jane.Doe@example.com. I sent her an email."),
            ["Her email is Jane.Doe@example.com.", "I sent her an email."]
        );
        assert_eq!(
            sents("Visit https://example.com/News.Today/x.html today."),
            ["Visit https://example.com/News.Today/x.html today."]
        );
    }

    #[test]
    fn glued_sentences() {
        assert_eq!(
            sents("Hello world.Today is Tuesday.Mr. Smith bought 1,000.That is a lot."),
            [
                "Hello world.",
                "Today is Tuesday.",
                "Mr. Smith bought 1,000.",
                "That is a lot."
            ]
        );
        assert_eq!(
            sents("He lives in St.Petersburg now."),
            ["He lives in St.Petersburg now."]
        );
    }

    #[test]
    fn ellipses() {
        assert_eq!(sents("Wait... what?"), ["Wait... what?"]);
        assert_eq!(sents("Wait… what?"), ["Wait… what?"]);
        assert_eq!(
            sents("He paused... Then he spoke."),
            ["He paused...", "Then he spoke."]
        );
        assert_eq!(
            sents("He paused… Then he spoke."),
            ["He paused…", "Then he spoke."]
        );
        assert_eq!(
            sents("I never meant that.... She left the store."),
            ["I never meant that....", "She left the store."]
        );
        assert_eq!(
            sents("the thing is . . . I didn’t mean it."),
            ["the thing is . . . I didn’t mean it."]
        );
        assert_eq!(
            sents("It was done. . . . The rest was not."),
            ["It was done.", ". . . The rest was not."]
        );
        assert_eq!(
            sents("\"Bohr [...] used it [...]\" (Smith 55)."),
            ["\"Bohr [...] used it [...]\" (Smith 55)."]
        );
    }

    #[test]
    fn question_and_exclamation_runs() {
        assert_eq!(sents("Really?! Yes!!! OK."), ["Really?!", "Yes!!!", "OK."]);
        assert_eq!(sents("Hello?? Who is there?"), ["Hello??", "Who is there?"]);
        assert_eq!(
            sents("She works at Yahoo! in the accounting department."),
            ["She works at Yahoo! in the accounting department."]
        );
    }

    #[test]
    fn cjk_punctuation() {
        assert_eq!(
            sents("これはペンです。それはマーカーです。"),
            ["これはペンです。", "それはマーカーです。"]
        );
        assert_eq!(
            sents("それは何ですか？ペンですか？"),
            ["それは何ですか？", "ペンですか？"]
        );
    }
}
