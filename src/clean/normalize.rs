//! Character and line normalisation (steps 1 to 3 of the [module documentation](super)):
//! line splitting, the character table, NFKC and space folding, recording where the
//! copy stops being verbatim.

use unicode_normalization::char::canonical_combining_class;
use unicode_normalization::{is_nfkc_quick, IsNormalized, UnicodeNormalization};

/// Line separators other than `\n` / `\r` / VT / FF (those are ASCII).
fn is_unicode_break(c: char) -> bool {
    matches!(c, '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// The character table of the module documentation: `None` removes the character.
///
/// Applied to every raw character before NFKC and to every character NFKC produces.
/// Line breaks never reach it (lines are split first).
pub fn normalize_char(c: char) -> Option<char> {
    match c {
        ' ' | '\t' => Some(' '),
        c if c.is_ascii() => (!c.is_ascii_control()).then_some(c),
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{2039}'
        | '\u{203A}' => Some('\''),
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{00AB}'
        | '\u{00BB}' => Some('"'),
        // Hyphens and the minus sign become `-`; dashes (en, em, horizontal bar) one dash,
        // `—`, so that a dash between words ("Trump—complained") never glues them into
        // one hyphenated word for the later stages.
        '\u{2010}'..='\u{2012}' | '\u{2212}' => Some('-'),
        '\u{2013}'..='\u{2015}' => Some('\u{2014}'),
        '\u{200B}'..='\u{200F}'
        | '\u{FEFF}'
        | '\u{00AD}'
        | '\u{2060}'
        | '\u{180E}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => None,
        c if c.is_whitespace() => Some(' '),
        c if c.is_control() => None,
        c => Some(c),
    }
}

/// How a character takes part in NFKC segmentation.
#[derive(PartialEq, Eq)]
enum Class {
    /// Removed by the table: joins the current segment (so that a removed zero-width char
    /// between a letter and a combining mark does not block their composition).
    Removed,
    /// A segment may start here: NFKC of the text equals the concatenation of NFKC of the
    /// text before and after this character (a starter that never composes with what
    /// precedes it, or a character the table maps to ASCII).
    Boundary,
    /// Must stay with the preceding character (combining marks, compatibility characters).
    Joiner,
}

fn class(c: char) -> Class {
    match normalize_char(c) {
        None => Class::Removed,
        Some(m) if m != c || c.is_ascii() => Class::Boundary,
        Some(_) if is_stable(c) => Class::Boundary,
        Some(_) => Class::Joiner,
    }
}

/// A non-ASCII character NFKC leaves alone whatever surrounds it.
fn is_stable(c: char) -> bool {
    canonical_combining_class(c) == 0 && is_nfkc_quick(std::iter::once(c)) == IsNormalized::Yes
}

/// One normalised line under construction, with its anchors (when tracked).
#[derive(Default)]
pub(super) struct LineBuf {
    pub(super) text: String,
    /// Record `anchors` (only needed for an [`OffsetMap`](super::OffsetMap)).
    pub(super) track: bool,
    /// `(byte in text, raw byte)` wherever the copy stops being verbatim (empty unless
    /// `track`).
    pub(super) anchors: Vec<(usize, usize)>,
    /// Raw offset the next character has if copying goes on verbatim (`usize::MAX`: none).
    expect: usize,
    /// Raw offset of the first space of a pending run (emitted before the next non-space).
    pending_space: Option<usize>,
    /// Raw end of the last non-space character.
    pub(super) raw_end: usize,
}

impl LineBuf {
    /// An empty line buffer; `track`: record anchors.
    pub(super) fn new(track: bool) -> Self {
        LineBuf {
            track,
            ..LineBuf::default()
        }
    }

    pub(super) fn reset(&mut self) {
        self.text.clear();
        self.anchors.clear();
        self.expect = usize::MAX;
        self.pending_space = None;
        self.raw_end = 0;
    }

    #[inline]
    fn emit(&mut self, c: char, raw: usize) {
        if self.track && raw != self.expect {
            self.anchors.push((self.text.len(), raw));
        }
        self.text.push(c);
        self.expect = raw + c.len_utf8();
    }

    #[inline]
    fn flush_space(&mut self) {
        if let Some(sp) = self.pending_space.take() {
            self.emit(' ', sp);
        }
    }

    /// Adds one normalised character from raw bytes `raw..raw_end`.
    #[inline]
    fn push(&mut self, c: char, raw: usize, raw_end: usize) {
        if c == ' ' {
            if !self.text.is_empty() && self.pending_space.is_none() {
                self.pending_space = Some(raw);
            }
            return;
        }
        self.flush_space();
        self.emit(c, raw);
        self.raw_end = raw_end;
    }

    /// Adds a verbatim run of printable, non-space ASCII starting at raw offset `raw`.
    #[inline]
    fn push_ascii(&mut self, run: &str, raw: usize) {
        self.flush_space();
        if self.track && raw != self.expect {
            self.anchors.push((self.text.len(), raw));
        }
        self.text.push_str(run);
        self.expect = raw + run.len();
        self.raw_end = self.expect;
    }
}

#[inline]
fn is_printable_ascii(b: u8) -> bool {
    (0x21..=0x7E).contains(&b)
}

/// Normalises the raw line starting at byte `from` into `out`; returns where the next line
/// starts (`raw.len()` at the end of the input).
pub(super) fn normalize_line(
    raw: &str,
    from: usize,
    out: &mut LineBuf,
    seg_buf: &mut String,
) -> usize {
    let b = raw.as_bytes();
    let mut i = from;
    while let Some(&c) = b.get(i) {
        match c {
            b'\n' | 0x0B | 0x0C => return i + 1,
            b'\r' => {
                return if b.get(i + 1) == Some(&b'\n') {
                    i + 2
                } else {
                    i + 1
                }
            }
            b' ' | b'\t' => {
                out.push(' ', i, i + 1);
                i += 1;
                continue;
            }
            _ => {}
        }
        if is_printable_ascii(c) {
            // A verbatim run: printable ASCII and single spaces between printable bytes.
            let mut k = i + 1;
            loop {
                match b.get(k) {
                    Some(&x) if is_printable_ascii(x) => k += 1,
                    Some(&b' ') if b.get(k + 1).is_some_and(|&y| is_printable_ascii(y)) => k += 2,
                    _ => break,
                }
            }
            // The last character of the run may combine with what follows (`e` + U+0301, also
            // across a removed control character).
            let joins =
                |x: u8| x >= 0x80 || (x.is_ascii_control() && !b"\t\n\r\x0B\x0C".contains(&x));
            let stop = if b.get(k).is_some_and(|&x| joins(x)) {
                k - 1
            } else {
                k
            };
            if stop > i {
                out.push_ascii(raw.get(i..stop).unwrap_or(""), i);
            }
            i = stop;
            if i == k {
                continue;
            }
        }
        // General path: one NFKC segment starting at `i`.
        let Some(rest) = raw.get(i..) else { break };
        let mut chars = rest.chars();
        let Some(first) = chars.next() else { break };
        if is_unicode_break(first) {
            return i + first.len_utf8();
        }
        let mut j = i + first.len_utf8();
        for d in chars {
            if matches!(d, '\n' | '\r' | '\u{B}' | '\u{C}')
                || is_unicode_break(d)
                || class(d) == Class::Boundary
            {
                break;
            }
            j += d.len_utf8();
        }
        normalize_segment(raw.get(i..j).unwrap_or(""), i, out, seg_buf);
        i = j;
    }
    b.len()
}

/// Normalises one segment (a boundary character and the characters that join it).
fn normalize_segment(seg: &str, start: usize, out: &mut LineBuf, seg_buf: &mut String) {
    let end = start + seg.len();
    let mut it = seg.chars();
    if let (Some(c), None) = (it.next(), it.next()) {
        // Single character: no NFKC needed unless it is a compatibility/combining char.
        match normalize_char(c) {
            None => return,
            Some(m) if m != c || c.is_ascii() || is_stable(c) => {
                out.push(m, start, end);
                return;
            }
            Some(_) => {}
        }
    }
    seg_buf.clear();
    seg_buf.extend(
        seg.chars()
            .filter_map(normalize_char)
            .nfkc()
            .filter_map(normalize_char),
    );
    if seg_buf == seg {
        for (k, c) in seg.char_indices() {
            out.push(c, start + k, start + k + c.len_utf8());
        }
    } else {
        for c in seg_buf.chars() {
            out.push(c, start, end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::tests::txt;

    // ---------------------------------------------------------------- normalisation

    #[test]
    fn quotes() {
        assert_eq!(txt("‘a’ ‚b‛ 5′"), "'a' 'b' 5'");
        assert_eq!(txt("“a” „b‟ 5″ «c» ‹d›"), "\"a\" \"b\" 5\" \"c\" 'd'");
        assert_eq!(txt("＂full＂ ＇w＇"), "\"full\" 'w'");
    }

    #[test]
    fn dashes() {
        assert_eq!(txt("a‐b‑c‒d–e—f―g−h"), "a-b-c-d—e—f—g-h");
        assert_eq!(txt("x﹘y －z"), "x—y -z");
    }

    #[test]
    fn nfkc() {
        assert_eq!(txt("ﬁne café …"), "fine café ...");
        assert_eq!(txt("cafe\u{301}"), "café");
        assert_eq!(txt("ＡＢＣ １２３"), "ABC 123");
        assert_eq!(txt("x²"), "x2");
        // The removed zero-width char does not block composition.
        assert_eq!(txt("e\u{200B}\u{301}"), "é");
        assert_eq!(txt("e\u{7}\u{301}"), "é");
        assert_eq!(txt("\u{1100}\u{1161}\u{11A8}"), "각");
    }

    #[test]
    fn spaces() {
        assert_eq!(
            txt("a\u{A0}b\u{2009}c\u{202F}d\u{3000}e\u{2003}f"),
            "a b c d e f"
        );
        assert_eq!(txt("  a \t\t b   c  "), "a b c");
        assert_eq!(txt("a\u{A0}\u{A0} \tb"), "a b");
    }

    #[test]
    fn zero_width_and_controls() {
        assert_eq!(
            txt("\u{FEFF}zero\u{200B}width\u{200C}\u{200D}soft\u{AD}hy"),
            "zerowidthsofthy"
        );
        assert_eq!(txt("a\u{0}b\u{7}c\u{1B}d\u{7F}e\u{9F}f"), "abcdef");
        assert_eq!(txt("\u{200E}rtl\u{202E}x\u{2066}y"), "rtlxy");
    }

    #[test]
    fn normalize_char_table() {
        assert_eq!(normalize_char('’'), Some('\''));
        assert_eq!(normalize_char('—'), Some('—'));
        assert_eq!(normalize_char('–'), Some('—'));
        assert_eq!(normalize_char('‑'), Some('-'));
        assert_eq!(normalize_char('\u{A0}'), Some(' '));
        assert_eq!(normalize_char('\u{AD}'), None);
        assert_eq!(normalize_char('é'), Some('é'));
    }
}
