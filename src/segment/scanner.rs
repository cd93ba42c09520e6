//! The [`Scanner`]: one left-to-right pass over the text that stops only on the bytes that
//! can matter and hands them to the rules (`terminal`, `quotes`, `lists`); line breaks are
//! handled here.

use super::lists::ListState;
use super::quotes::{Finder, Opener};
use super::tokens::{char_at, is_bullet, is_closer, is_line_break};
use super::{Segmenter, Span};

/// Bytes the scanner has to look at: sentence punctuation, line feed, opening quote and
/// parenthesis, and the UTF-8 lead bytes of `«` (C2), `…` `“` `•` U+2028 (E2), `。` (E3) and
/// the full-width `！` `？` (EF).
const INTERESTING: [bool; 256] = interesting_table(false);
/// [`INTERESTING`] plus space and tab, used while a numbered list is open.
const LIST_INTERESTING: [bool; 256] = interesting_table(true);

const fn interesting_table(with_gaps: bool) -> [bool; 256] {
    let mut t = [false; 256];
    t[b'.' as usize] = true;
    t[b'?' as usize] = true;
    t[b'!' as usize] = true;
    t[b'\n' as usize] = true;
    t[b'"' as usize] = true;
    t[b'(' as usize] = true;
    t[0xC2] = true;
    t[0xE2] = true;
    t[0xE3] = true;
    t[0xEF] = true;
    if with_gaps {
        t[b' ' as usize] = true;
        t[b'\t' as usize] = true;
    }
    t
}

/// State of one `split` call.
pub(super) struct Scanner<'a> {
    pub(super) seg: &'a Segmenter,
    pub(super) text: &'a str,
    pub(super) bytes: &'a [u8],
    pub(super) out: Vec<Span>,
    /// Start of the current sentence: a non-whitespace char, or `text.len()`.
    pub(super) sent_start: usize,
    /// Byte index of the closing quote/bracket of the enclosing short quotation, if the
    /// scanner is inside one (sentence punctuation before it is ignored).
    pub(super) suppress_until: usize,
    pub(super) list: Option<ListState>,
    pub(super) straight_close: Finder,
    pub(super) curly_close: Finder,
    pub(super) paren_close: Finder,
    pub(super) guillemet_close: Finder,
    pub(super) newline: Finder,
}

impl<'a> Scanner<'a> {
    pub(super) fn new(seg: &'a Segmenter, text: &'a str) -> Self {
        Scanner {
            seg,
            text,
            bytes: text.as_bytes(),
            out: Vec::with_capacity(text.len() / 100 + 1),
            sent_start: 0,
            suppress_until: 0,
            list: None,
            straight_close: Finder::new(b"\""),
            curly_close: Finder::new("”".as_bytes()),
            paren_close: Finder::new(b")"),
            guillemet_close: Finder::new("»".as_bytes()),
            newline: Finder::new(b"\n"),
        }
    }

    pub(super) fn run(mut self) -> Vec<Span> {
        let n = self.bytes.len();
        let (first, _) = self.skip_ws(0);
        let mut i = self.begin(first);
        while i < n {
            // Fast skip over bytes that can never matter.
            let table = if self.list.is_some() {
                &LIST_INTERESTING
            } else {
                &INTERESTING
            };
            match self.bytes[i..].iter().position(|&c| table[usize::from(c)]) {
                Some(off) => i += off,
                None => break,
            }
            let b = self.bytes[i];
            let next = if b < 0x80 {
                match b {
                    b'.' | b'?' | b'!' => self.on_terminal(i),
                    b'\n' => self.on_newline(i),
                    b'"' => {
                        self.on_opener(i, Opener::Straight, 1);
                        i + 1
                    }
                    b'(' => {
                        self.on_opener(i, Opener::Paren, 1);
                        i + 1
                    }
                    b' ' | b'\t' if self.list.is_some() => self.on_list_gap(i),
                    _ => i + 1,
                }
            } else if matches!(b, 0xC2 | 0xE2 | 0xE3 | 0xEF) {
                // Lead bytes of the few non-ASCII characters that matter.
                match char_at(self.text, i) {
                    Some(c) => {
                        let len = c.len_utf8();
                        match c {
                            '…' | '‽' | '。' | '！' | '？' | '｡' => self.on_terminal(i),
                            '\u{2028}' | '\u{2029}' => self.on_newline(i),
                            '“' => {
                                self.on_opener(i, Opener::Curly, len);
                                i + len
                            }
                            '«' => {
                                self.on_opener(i, Opener::Guillemet, len);
                                i + len
                            }
                            c if is_bullet(c) => self.on_bullet(i, len),
                            _ => i + len,
                        }
                    }
                    None => i + 1,
                }
            } else {
                i + 1
            };
            // Always make progress (a stray continuation byte is skipped one at a time).
            i = next.max(i + 1);
        }
        self.push(self.sent_start, n);
        self.out
    }

    /// Records `[start, end)` (trimmed) as a sentence if it has any content.
    pub(super) fn push(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        let Some(s) = self.text.get(start..end) else {
            return;
        };
        let trimmed = s.trim();
        if trimmed.is_empty() {
            return;
        }
        let a = start + (s.len() - s.trim_start().len());
        self.out.push(Span {
            start: a,
            end: a + trimmed.len(),
        });
    }

    /// Starts a new sentence at `p` (a non-whitespace position); returns where to resume
    /// scanning (after a leading list marker, if any).
    pub(super) fn begin(&mut self, p: usize) -> usize {
        self.sent_start = p;
        self.list = None;
        let mut q = p;
        if let Some(c) = char_at(self.text, q) {
            if is_bullet(c) {
                q = self.skip_ws(q + c.len_utf8()).0;
            }
        }
        if let Some(m) = self.parse_marker(q) {
            self.list = Some(ListState {
                kind: m.kind,
                next: m.value.saturating_add(1),
                style: m.style,
            });
            return m.end;
        }
        p
    }

    /// Ends the current sentence at `end` and starts the next one at `next`.
    pub(super) fn boundary(&mut self, end: usize, next: usize) -> usize {
        self.push(self.sent_start, end);
        self.begin(next)
    }

    /// Skips whitespace from `p`; returns the next non-whitespace position and whether a
    /// line break was crossed.
    pub(super) fn skip_ws(&self, p: usize) -> (usize, bool) {
        let b = self.bytes;
        let mut k = p;
        let mut newline = false;
        while k < b.len() {
            let c = b[k];
            if c < 0x80 {
                match c {
                    b'\n' => newline = true,
                    b' ' | b'\t' | b'\r' | 0x0B | 0x0C => {}
                    _ => break,
                }
                k += 1;
            } else {
                match char_at(self.text, k) {
                    Some(ch) if ch.is_whitespace() => {
                        newline |= is_line_break(ch);
                        k += ch.len_utf8();
                    }
                    _ => break,
                }
            }
        }
        (k, newline)
    }

    pub(super) fn skip_closers(&self, p: usize) -> usize {
        let mut k = p;
        while let Some(c) = char_at(self.text, k) {
            if !is_closer(c) {
                break;
            }
            k += c.len_utf8();
        }
        k
    }

    pub(super) fn on_newline(&mut self, i: usize) -> usize {
        let n = self.bytes.len();
        let (k, _) = self.skip_ws(i);
        if k >= n {
            return n;
        }
        if self.sent_start >= i {
            return self.begin(k);
        }
        if self.lowercase_continuation(k) {
            return k;
        }
        self.boundary(i, k)
    }

    /// The next line starts with a lowercase letter that is not a list marker: the paragraph
    /// was broken in the middle of a sentence.
    pub(super) fn lowercase_continuation(&self, k: usize) -> bool {
        let rest = self.text.get(k..).unwrap_or("");
        matches!(rest.chars().next(), Some(c) if c.is_lowercase())
            && !rest.starts_with("www.")
            && !rest.starts_with("http://")
            && !rest.starts_with("https://")
            && self.parse_marker(k).is_none()
    }
}

#[cfg(test)]
mod tests {
    use crate::segment::tests::sents;

    #[test]
    fn url_on_next_line_is_not_a_continuation() {
        assert_eq!(
            sents("Contact: press@example.org\n\nwww.example.org contains material."),
            [
                "Contact: press@example.org",
                "www.example.org contains material."
            ]
        );
    }

    #[test]
    fn headings_and_line_breaks() {
        assert_eq!(
            sents("Title line\n\nBody text."),
            ["Title line", "Body text."]
        );
        assert_eq!(
            sents("Title line\nBy John Smith\nBody text here. More text."),
            [
                "Title line",
                "By John Smith",
                "Body text here.",
                "More text."
            ]
        );
        assert_eq!(
            sents("Kishida has personally\n\nadvised his counterpart."),
            ["Kishida has personally\n\nadvised his counterpart."]
        );
        assert_eq!(
            sents("It was a cold \nnight in the city."),
            ["It was a cold \nnight in the city."]
        );
        assert_eq!(
            sents("First sentence.\nsecond one starts lowercase."),
            ["First sentence.", "second one starts lowercase."]
        );
        assert_eq!(
            sents("He lives in the U.S.\nand works there."),
            ["He lives in the U.S.\nand works there."]
        );
        assert_eq!(
            sents("Para one ends here.\r\n\r\nPara two starts here."),
            ["Para one ends here.", "Para two starts here."]
        );
        assert_eq!(
            sents("Theme:\nPhoto: Reuters\n\n***\n\nText."),
            ["Theme:", "Photo: Reuters", "***", "Text."]
        );
        assert_eq!(sents("Line one\u{2029}Line two"), ["Line one", "Line two"]);
    }
}
