//! Rule-based sentence segmentation for English news text.
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

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::LazyLock;

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

/// How an abbreviation behaves when it is followed by whitespace and a capitalised word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AbbrKind {
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

/// Longest token (in chars) inspected around a candidate boundary.
const MAX_TOKEN: usize = 64;
/// Longest quotation / parenthesis (in bytes) whose inner punctuation is suppressed.
const MAX_ENCLOSED: usize = 400;

/// Capitalised words that commonly start a sentence; after an ordinary abbreviation they
/// signal a boundary (Pragmatic Segmenter's list, extended for news prose).
fn is_sentence_starter(word: &str) -> bool {
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
struct Fnv1a(u64);

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

type AbbrMap = HashMap<String, AbbrKind, BuildHasherDefault<Fnv1a>>;

/// The built-in English abbreviation table (built once per process) and its longest key.
static BUILTIN: LazyLock<(AbbrMap, usize)> = LazyLock::new(|| {
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
    (map, max_len)
});

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
            max_abbr_len: BUILTIN.1,
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
            if BUILTIN.0.contains_key(&key) {
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

    fn lookup(&self, word: &str) -> Option<AbbrKind> {
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
        match BUILTIN.0.get(key) {
            Some(kind) => Some(*kind),
            None if self.extra.is_empty() => None,
            None => self.extra.get(key).copied(),
        }
    }
}

/// Closing quotes and brackets that stay with the sentence they follow.
fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | ')' | ']' | '}' | '”' | '’' | '»' | '›' | '」' | '』' | '）' | '】' | '〕'
    )
}

/// Opening quotes and brackets that may precede a word.
fn is_opener(c: char) -> bool {
    matches!(
        c,
        '"' | '\''
            | '('
            | '['
            | '{'
            | '“'
            | '‘'
            | '«'
            | '‹'
            | '「'
            | '『'
            | '（'
            | '【'
            | '¿'
            | '¡'
    )
}

fn is_bullet(c: char) -> bool {
    matches!(c, '•' | '‣' | '⁃' | '◦' | '▪' | '●')
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\u{2028}' | '\u{2029}')
}

/// The char starting at byte `i`, if `i` is a char boundary inside `text`.
fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..).and_then(|s| s.chars().next())
}

/// The char ending at byte `i`, if any.
fn char_before(text: &str, i: usize) -> Option<char> {
    text.get(..i).and_then(|s| s.chars().next_back())
}

/// Start of the whitespace-delimited token that ends at byte `end`; `None` when the token is
/// longer than [`MAX_TOKEN`] chars.
fn token_start(text: &str, end: usize) -> Option<usize> {
    let head = text.get(..end)?;
    let mut start = end;
    for (count, (p, c)) in head.char_indices().rev().enumerate() {
        if c.is_whitespace() {
            return Some(start);
        }
        if count >= MAX_TOKEN {
            return None;
        }
        start = p;
    }
    Some(start)
}

/// A token without its leading opening and trailing closing punctuation.
fn trim_word(token: &str) -> &str {
    token
        .trim_start_matches(is_opener)
        .trim_end_matches(is_closer)
}

/// Numbers, amounts and codes: `1,000`, `$100.00`, `1026.253.553`, `20%`.
fn is_numeric(word: &str) -> bool {
    word.bytes().any(|b| b.is_ascii_digit())
        && word.chars().all(|c| {
            c.is_ascii_digit()
                || matches!(
                    c,
                    ',' | '.' | '$' | '€' | '£' | '¥' | '%' | '+' | '-' | '–' | '/' | ':'
                )
        })
}

/// Dotted acronyms such as `U.S`, `e.g`, `a.m`, `Ph.D` (the final period is not included).
fn is_dotted_abbreviation(word: &str) -> bool {
    word.contains('.')
        && word.split('.').all(|seg| {
            let n = seg.chars().count();
            (1..=2).contains(&n) && seg.chars().all(char::is_alphabetic)
        })
}

/// Finds successive occurrences of a fixed needle for monotonically increasing queries,
/// remembering the last answer so that the whole text is scanned at most once per needle.
struct Finder {
    needle: &'static [u8],
    pos: usize,
    valid: bool,
}

impl Finder {
    fn new(needle: &'static [u8]) -> Self {
        Finder {
            needle,
            pos: 0,
            valid: false,
        }
    }

    /// Position of the first occurrence starting after byte `i` (or `hay.len()` if none).
    /// Queries must come with non-decreasing `i`.
    fn after(&mut self, hay: &[u8], i: usize) -> usize {
        if self.valid && self.pos > i {
            return self.pos;
        }
        self.pos = find_from(hay, i.saturating_add(1), self.needle);
        self.valid = true;
        self.pos
    }
}

fn find_from(hay: &[u8], from: usize, needle: &[u8]) -> usize {
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
enum ListKind {
    Number,
    Letter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListStyle {
    /// `1.`
    Dot,
    /// `1.)`
    DotParen,
    /// `1)`
    Paren,
}

/// A list marker such as `2.`, `3)` or `b.` ending at byte `end`.
#[derive(Debug, Clone, Copy)]
struct Marker {
    kind: ListKind,
    value: u32,
    style: ListStyle,
    end: usize,
}

/// The next list marker expected inside the current list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ListState {
    kind: ListKind,
    next: u32,
    style: ListStyle,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opener {
    Straight,
    Curly,
    Paren,
    Guillemet,
}

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
struct Scanner<'a> {
    seg: &'a Segmenter,
    text: &'a str,
    bytes: &'a [u8],
    out: Vec<Span>,
    /// Start of the current sentence: a non-whitespace char, or `text.len()`.
    sent_start: usize,
    /// Byte index of the closing quote/bracket of the enclosing short quotation, if the
    /// scanner is inside one (sentence punctuation before it is ignored).
    suppress_until: usize,
    list: Option<ListState>,
    straight_close: Finder,
    curly_close: Finder,
    paren_close: Finder,
    guillemet_close: Finder,
    newline: Finder,
}

impl<'a> Scanner<'a> {
    fn new(seg: &'a Segmenter, text: &'a str) -> Self {
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

    fn run(mut self) -> Vec<Span> {
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
    fn push(&mut self, start: usize, end: usize) {
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
    fn begin(&mut self, p: usize) -> usize {
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
    fn boundary(&mut self, end: usize, next: usize) -> usize {
        self.push(self.sent_start, end);
        self.begin(next)
    }

    /// Skips whitespace from `p`; returns the next non-whitespace position and whether a
    /// line break was crossed.
    fn skip_ws(&self, p: usize) -> (usize, bool) {
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

    fn skip_closers(&self, p: usize) -> usize {
        let mut k = p;
        while let Some(c) = char_at(self.text, k) {
            if !is_closer(c) {
                break;
            }
            k += c.len_utf8();
        }
        k
    }

    /// Parses a list marker (`1.`, `12)`, `3.)`, `a.`, `b)`) at `p`, which must be followed by
    /// whitespace and more text.
    fn parse_marker(&self, p: usize) -> Option<Marker> {
        let b = self.bytes;
        let n = b.len();
        let first = *b.get(p)?;
        let (kind, value, mut q) = if first.is_ascii_digit() {
            let mut q = p;
            let mut v = 0u32;
            while q < n && b[q].is_ascii_digit() {
                if q - p >= 2 {
                    return None;
                }
                v = v * 10 + u32::from(b[q] - b'0');
                q += 1;
            }
            (ListKind::Number, v, q)
        } else if first.is_ascii_lowercase() {
            (ListKind::Letter, u32::from(first - b'a') + 1, p + 1)
        } else {
            return None;
        };
        let style = match (b.get(q), b.get(q + 1)) {
            (Some(b'.'), Some(b')')) => {
                q += 2;
                ListStyle::DotParen
            }
            (Some(b'.'), _) => {
                q += 1;
                ListStyle::Dot
            }
            (Some(b')'), _) => {
                q += 1;
                ListStyle::Paren
            }
            _ => return None,
        };
        let (k, _) = self.skip_ws(q);
        if k == q || k >= n {
            return None;
        }
        Some(Marker {
            kind,
            value,
            style,
            end: q,
        })
    }

    /// A space or tab while a list is open: split before the next expected marker.
    fn on_list_gap(&mut self, i: usize) -> usize {
        let p = i + 1;
        if i >= self.suppress_until {
            if let (Some(m), Some(list)) = (self.parse_marker(p), self.list) {
                if m.kind == list.kind && m.value == list.next && m.style == list.style {
                    return self.boundary(p, p);
                }
            }
        }
        i + 1
    }

    fn on_bullet(&mut self, i: usize, len: usize) -> usize {
        if i < self.suppress_until || self.sent_start >= i {
            return i + len;
        }
        self.boundary(i, i)
    }

    /// An opening quote or bracket: if it closes on the same line within [`MAX_ENCLOSED`]
    /// bytes, sentence punctuation inside it is ignored.
    fn on_opener(&mut self, i: usize, kind: Opener, len: usize) {
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

    fn on_newline(&mut self, i: usize) -> usize {
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
    fn lowercase_continuation(&self, k: usize) -> bool {
        let rest = self.text.get(k..).unwrap_or("");
        matches!(rest.chars().next(), Some(c) if c.is_lowercase())
            && !rest.starts_with("www.")
            && !rest.starts_with("http://")
            && !rest.starts_with("https://")
            && self.parse_marker(k).is_none()
    }

    /// A parenthesis at `k` that closes on the same line and is directly followed by a
    /// period, as in `… [with Japan].” (Mid.ru, February 24, 2019).`: a citation that belongs
    /// to the preceding sentence.
    fn is_citation(&self, k: usize) -> bool {
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

    fn on_terminal(&mut self, i: usize) -> usize {
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
    use super::*;

    fn check_invariants(text: &str, spans: &[Span]) {
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

    fn split_with<'t>(seg: &Segmenter, text: &'t str) -> Vec<&'t str> {
        let spans = seg.split(text);
        check_invariants(text, &spans);
        spans.iter().map(|s| &text[s.start..s.end]).collect()
    }

    fn sents(text: &str) -> Vec<&str> {
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
    fn unclosed_quote_does_not_swallow_sentences() {
        assert_eq!(
            sents("He said \"we will go. Nobody stops us.\nThe end."),
            ["He said \"we will go.", "Nobody stops us.", "The end."]
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
    fn numbered_lists() {
        assert_eq!(
            sents("1. First item 2. Second item 3. Third item"),
            ["1. First item", "2. Second item", "3. Third item"]
        );
        assert_eq!(
            sents("1) The first item. 2) The second item."),
            ["1) The first item.", "2) The second item."]
        );
        assert_eq!(
            sents("1.) The first item 2.) The second item"),
            ["1.) The first item", "2.) The second item"]
        );
        assert_eq!(
            sents("a. The first item b. The second item c. The third"),
            ["a. The first item", "b. The second item", "c. The third"]
        );
        assert_eq!(
            sents("Steps:\n1. Open the box\n2. Take it out\na) red\nb) blue"),
            [
                "Steps:",
                "1. Open the box",
                "2. Take it out",
                "a) red",
                "b) blue"
            ]
        );
        assert_eq!(
            sents("• 9. The first item • 10. The second item"),
            ["• 9. The first item", "• 10. The second item"]
        );
        assert_eq!(
            sents("No. 5 is the best. He agreed."),
            ["No. 5 is the best.", "He agreed."]
        );
        assert_eq!(
            sents("He scored 2. Then he scored 3. Nobody expected 4 goals."),
            [
                "He scored 2.",
                "Then he scored 3.",
                "Nobody expected 4 goals."
            ]
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
