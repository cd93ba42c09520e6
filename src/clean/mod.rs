//! Stage 2 — clean: normalise one article's raw text and drop its boilerplate.
//!
//! [`CleanRules::clean`] turns scraped text into the text every later stage (and every
//! offset in the output tables) refers to.  It works line by line, in one pass:
//!
//! 1. **Lines.** The raw text is split on `\n`, `\r\n`, `\r`, and also on vertical tab,
//!    form feed, NEL (U+0085), LINE SEPARATOR (U+2028) and PARAGRAPH SEPARATOR (U+2029).
//! 2. **Characters** (see [`normalize_char`]): every character first goes through this table,
//!    then the line is put in NFKC, then the table is applied once more to what NFKC produced
//!    (NFKC turns, say, `﹘` into `—`):
//!
//!    | input                                                          | output      |
//!    |----------------------------------------------------------------|-------------|
//!    | `‘` `’` `‚` `‛` `′` `‹` `›` (U+2018 U+2019 U+201A U+201B U+2032 U+2039 U+203A) | `'` |
//!    | `“` `”` `„` `‟` `″` `«` `»` (U+201C U+201D U+201E U+201F U+2033 U+00AB U+00BB) | `"` |
//!    | `‐` `‑` `‒` `−` (hyphens, figure dash, minus: U+2010..=U+2012, U+2212) | `-`  |
//!    | `–` `—` `―` (en dash, em dash, horizontal bar: U+2013..=U+2015) | `—`        |
//!    | tab, NBSP, thin/em/en/ideographic spaces, any other Unicode `White_Space` | space |
//!    | zero-width space/non-joiner/joiner (U+200B..=U+200D), BOM (U+FEFF), soft hyphen (U+00AD), word joiner (U+2060), Mongolian vowel separator (U+180E), LRM/RLM (U+200E, U+200F), bidi embeddings and isolates (U+202A..=U+202E, U+2066..=U+2069) | removed |
//!    | other control characters (`Cc`)                                | removed     |
//!
//!    `″` is mapped *before* NFKC (NFKC would turn it into two primes, `''`).
//! 3. **Spaces.** Runs of spaces (after the table: tabs and Unicode spaces too) become one
//!    space and each line is trimmed.
//! 4. **Boilerplate.** A normalised line matching any drop pattern (the built-ins listed by
//!    [`CleanRules::builtin_patterns`], plus user patterns) is dropped.  Patterns are
//!    case-insensitive and matched against the whole normalised line, so the built-ins are
//!    anchored (`^…$`) and most of them cap the line length, so that a paragraph that merely
//!    starts like a prompt is kept.  After a *comment-section starter* ("Leave a Reply",
//!    "Comments are closed.", "Post a comment", "Please enter your comment!") the lines that
//!    follow and look like a comment form (field labels such as `Name*`, `Email*`, `Δ`, or
//!    fragments of at most four words without final punctuation) are dropped too, but only if
//!    *every* line from the starter to the end of the document is such a fragment or
//!    boilerplate: a real line after the starter keeps them all (and ends the comment
//!    section until the next starter).
//! 5. **Duplicates.** A line of at least 40 characters that repeats, exactly, an earlier kept
//!    line of the same document is dropped (scraped pages often hold the article twice);
//!    see [`CleanRules::dedupe_lines`].
//! 6. **Paragraphs.** Kept lines are joined with `\n`, or with `\n\n` when at least one blank
//!    line separated them in the raw text; the output never starts or ends with whitespace.
//!
//! The first kept line is the title candidate ([`Cleaned::title`]); it stays in the text as
//! the first paragraph.  [`CleanRules::clean_mapped`] also returns an [`OffsetMap`], which
//! maps byte offsets in the cleaned text back to the raw text; [`CleanRules::clean`] does not
//! build one (the pipeline never needs it).
//!
//! Dashes stay dashes (`Japan—though`, `Trump–Putin`): a hyphen would glue the words into
//! one news word, and one entity, for the later stages. Known limitations: NFKC also folds
//! `²` → `2`, `ﬁ` → `fi`, `½` → `1⁄2`; removing U+200D splits emoji ZWJ sequences; the rules are English-only;
//! duplicate detection is per line (a repeated article whose paragraphs were re-wrapped
//! differently is not caught).
//!
//! Layout: `normalize` (steps 1-3: lines, the character table, NFKC, spaces), `rules`
//! (step 4: built-in and user drop patterns, [`CleanRules`]), `assemble` (steps 5-6:
//! duplicates, paragraphs, title), `offsets` ([`OffsetMap`]); this file holds the line loop
//! ([`CleanRules::clean`]) and its result, [`Cleaned`].

mod assemble;
mod normalize;
mod offsets;
mod rules;

use std::sync::LazyLock;

pub use normalize::normalize_char;
pub use offsets::OffsetMap;
pub use rules::{CleanError, CleanRules, DEDUPE_MIN_CHARS};

use assemble::{Assembler, PendingLine};
use normalize::{normalize_line, LineBuf};
use rules::{is_comment_form, DEFAULT_RULES, STARTERS};

impl CleanRules {
    /// Cleans one article (see the module documentation for the steps). Never panics.
    pub fn clean(&self, raw: &str) -> Cleaned {
        self.run(raw, false).0
    }

    /// Like [`CleanRules::clean`], and also maps the cleaned text's byte offsets back to
    /// `raw`. Building the map costs time and memory (an anchor wherever normalisation
    /// rewrote something), so [`CleanRules::clean`] skips it.
    pub fn clean_mapped(&self, raw: &str) -> (Cleaned, OffsetMap) {
        let (cleaned, map) = self.run(raw, true);
        (cleaned, map.unwrap_or_default())
    }

    /// The line loop; `track`: build the offset map too.
    fn run(&self, raw: &str, track: bool) -> (Cleaned, Option<OffsetMap>) {
        let mut st = Assembler::new(raw.len(), self.dedupe, track);
        let mut line = LineBuf::new(track);
        let mut seg_buf = String::new();
        // Blank lines seen since the last kept or pending line.
        let mut blank_acc = false;
        let mut in_comment_tail = false;
        let mut pending: Vec<PendingLine> = Vec::new();
        let mut pos = 0;
        while pos < raw.len() {
            line.reset();
            pos = normalize_line(raw, pos, &mut line, &mut seg_buf);
            if line.text.is_empty() {
                blank_acc = true;
                continue;
            }
            if self.is_boilerplate(&line.text) {
                st.dropped += 1;
                if !in_comment_tail && STARTERS.is_match(&line.text) {
                    in_comment_tail = true;
                }
                continue;
            }
            if in_comment_tail && is_comment_form(&line.text) {
                pending.push(PendingLine {
                    text: line.text.clone(),
                    anchors: line.anchors.clone(),
                    raw_end: line.raw_end,
                    blank_before: blank_acc,
                });
                blank_acc = false;
                continue;
            }
            // A real line: what was held back since the starter was real too, and the comment
            // section (if any) is over until the next starter.
            in_comment_tail = false;
            let mut carry = false;
            for p in pending.drain(..) {
                carry |= p.blank_before;
                if st.emit(&p.text, &p.anchors, p.raw_end, carry) {
                    carry = false;
                }
            }
            carry |= blank_acc;
            blank_acc = !st.emit(&line.text, &line.anchors, line.raw_end, carry) && carry;
        }
        st.dropped += pending.len();
        st.finish(raw.len())
    }
}

/// Cleans `raw` with the default rules.
pub fn clean(raw: &str) -> Cleaned {
    DEFAULT_RULES.clean(raw)
}

/// Normalises `raw` (characters, spaces, blank lines) without dropping any line.
pub fn normalize_text(raw: &str) -> String {
    static NONE: LazyLock<CleanRules> = LazyLock::new(CleanRules::empty);
    NONE.clean(raw).text
}

/// The result of [`CleanRules::clean`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cleaned {
    /// The cleaned text: paragraphs separated by `\n` or `\n\n`, no surrounding whitespace.
    pub text: String,
    /// The first line of `text` (the title candidate; it is kept in `text`).
    pub title: Option<String>,
    /// Boilerplate lines dropped (rule matches and comment-form leftovers).
    pub dropped_lines: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn seed(name: &str) -> String {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds");
        let mut hits: Vec<_> = std::fs::read_dir(dir)
            .expect("seeds dir")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(name) && n.ends_with(".txt"))
            })
            .collect();
        hits.sort();
        std::fs::read_to_string(hits.first().expect("seed file")).expect("read seed")
    }

    pub(super) fn all_seeds() -> Vec<(String, String)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/seeds");
        let mut v: Vec<_> = std::fs::read_dir(dir)
            .expect("seeds dir")
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "txt"))
            .collect();
        v.sort();
        v.into_iter()
            .map(|p| {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
                (
                    name.unwrap_or_default(),
                    std::fs::read_to_string(&p).expect("read"),
                )
            })
            .collect()
    }

    pub(super) fn txt(raw: &str) -> String {
        clean(raw).text
    }

    pub(super) fn kept(line: &str) -> bool {
        let c = clean(&format!("Title line\n\n{line}"));
        c.text == format!("Title line\n\n{}", normalize_text(line))
    }

    /// Cleans `raw` with the default rules and its offset map, checks the map's invariants
    /// and that the cleaned text is what [`clean`] (no map) gives.
    pub(super) fn check_map(raw: &str) -> (Cleaned, OffsetMap) {
        let (c, m) = CleanRules::default().clean_mapped(raw);
        assert_eq!(c, clean(raw), "clean and clean_mapped differ on {raw:?}");
        let mut prev = 0;
        for (i, _) in c.text.char_indices().chain([(c.text.len(), ' ')]) {
            let r = m.to_raw(i);
            assert!(r >= prev, "to_raw not monotonic at {i}");
            assert!(
                raw.is_char_boundary(r),
                "to_raw({i}) = {r} not a char boundary"
            );
            prev = r;
        }
        assert!(m.to_raw(usize::MAX) <= raw.len());
        // Every kept line: its raw slice normalises to it.
        let mut a = 0;
        for line in c.text.split('\n') {
            let b = a + line.len();
            if !line.is_empty() {
                let r = m.to_raw_range(a..b);
                let back = raw.get(r.clone()).expect("raw slice");
                assert_eq!(normalize_text(back), line, "raw {r:?} = {back:?}");
            }
            a = b + 1;
        }
        (c, m)
    }

    // ---------------------------------------------------------------- document

    #[test]
    fn line_breaks_and_paragraphs() {
        assert_eq!(txt("a\r\nb\rc\nd"), "a\nb\nc\nd");
        assert_eq!(txt("a\r\n\r\n\r\nb"), "a\n\nb");
        assert_eq!(txt("a\n\n\n\n\nb\n \n\t\nc"), "a\n\nb\n\nc");
        assert_eq!(txt("a\u{2028}b\u{2029}c\u{85}d\u{C}e"), "a\nb\nc\nd\ne");
        assert_eq!(txt("\n\n  \n title \n\n"), "title");
        assert_eq!(txt(""), "");
        assert_eq!(txt(" \n\t\r\n "), "");
    }

    #[test]
    fn comment_tail_is_conservative() {
        // Every line after the starter is form-ish: all dropped.
        let c = clean(
            "Title\n\nBody sentence.\n\nLeave a Reply\n\nName*\nEmail*\nWebsite\nΔ\nPost Comment",
        );
        assert_eq!(c.text, "Title\n\nBody sentence.");
        assert_eq!(c.dropped_lines, 6);
        // A real sentence after the starter: the fragments before it are kept.
        let c = clean("Title\n\nLeave a Reply\n\nJohn Smith\n\nGreat analysis, thank you.");
        assert_eq!(c.text, "Title\n\nJohn Smith\n\nGreat analysis, thank you.");
        assert_eq!(c.dropped_lines, 1);
        // Short lines before any starter are never touched.
        assert_eq!(
            txt("Title\nKuril Islands\nText."),
            "Title\nKuril Islands\nText."
        );
        // A real line after the starter ends the comment section: later fragments are kept.
        assert_eq!(
            txt("Title\nLeave a comment\nBody sentence one.\nJohn Doe"),
            "Title\nBody sentence one.\nJohn Doe"
        );
        // ... until the next starter.
        assert_eq!(
            txt("Title\nLeave a comment\nBody.\nJohn Doe\nComments are closed.\nName *"),
            "Title\nBody.\nJohn Doe"
        );
    }

    #[test]
    fn only_boilerplate() {
        let raw = "LEAVE A REPLY\n\nPlease enter your comment!\nPlease enter your name here\n0\n*";
        let c = clean(raw);
        assert_eq!(c.text, "");
        assert_eq!(c.title, None);
        assert_eq!(c.dropped_lines, 5);
        let (_, m) = check_map(raw);
        assert_eq!(m.to_raw(0), 0);
        assert_eq!(m.to_raw(10), 0);
    }

    #[test]
    fn dropped_lines_keep_paragraph_structure() {
        assert_eq!(txt("A.\nShare this:\nB."), "A.\nB.");
        assert_eq!(txt("A.\n\nShare this:\nB."), "A.\n\nB.");
        assert_eq!(txt("A.\nShare this:\n\nB."), "A.\n\nB.");
    }

    // ---------------------------------------------------------------- title

    #[test]
    fn title() {
        let c = clean("\n\n  Japan’s   new stance \n\nBody.");
        assert_eq!(c.title.as_deref(), Some("Japan's new stance"));
        assert!(c.text.starts_with("Japan's new stance\n\nBody."));
        // Boilerplate before the title is skipped.
        let c = clean("Share this:\n0\nReal title\nBody.");
        assert_eq!(c.title.as_deref(), Some("Real title"));
        assert_eq!(clean("").title, None);
    }

    // ---------------------------------------------------------------- robustness

    /// xorshift64*: a tiny deterministic generator for the fuzz-ish test.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn random_text(rng: &mut Rng, len: usize) -> String {
        const POOL: &[&str] = &[
            "a",
            "e",
            "Z",
            " ",
            "  ",
            "\t",
            "\n",
            "\n\n",
            "\r\n",
            "\r",
            ".",
            "*",
            "0",
            "7",
            "\u{301}",
            "\u{316}",
            "\u{338}",
            "\u{200B}",
            "\u{200D}",
            "\u{FEFF}",
            "\u{AD}",
            "\u{0}",
            "\u{7}",
            "\u{85}",
            "\u{2028}",
            "\u{A0}",
            "\u{2009}",
            "\u{3000}",
            "’",
            "“",
            "″",
            "—",
            "−",
            "ﬁ",
            "…",
            "²",
            "é",
            "\u{1100}",
            "\u{1161}",
            "\u{11A8}",
            "가",
            "東",
            "😀",
            "\u{1F3FB}",
            "\u{FF21}",
            "\u{F900}",
            "\u{0F73}",
            "\u{FF9E}",
            "\u{B4}",
            "\u{A8}",
            "\u{FFFD}",
            "\u{10FFFF}",
            "\u{E000}",
            "Leave a Reply",
            "By:",
            "Share this:",
            "=",
            "<",
            "\u{2160}",
            "\u{3300}",
            "\u{FDFA}",
        ];
        let mut s = String::new();
        for _ in 0..len {
            if rng.below(8) == 0 {
                // A random scalar value.
                let c = char::from_u32((rng.next() % 0x11_0000) as u32).unwrap_or('?');
                s.push(c);
            } else {
                s.push_str(POOL[rng.below(POOL.len())]);
            }
        }
        s
    }

    fn check_invariants(raw: &str) {
        let c = clean(raw);
        let t = &c.text;
        assert_eq!(t.trim(), t, "{raw:?}");
        assert!(
            !t.contains("\n\n\n") && !t.contains('\r') && !t.contains('\t'),
            "{raw:?}"
        );
        assert!(
            !t.contains("  ") && !t.contains(" \n") && !t.contains("\n "),
            "{raw:?}"
        );
        assert!(
            !t.chars()
                .any(|ch| ch != '\n' && normalize_char(ch) != Some(ch)),
            "{raw:?}"
        );
        assert!(
            unicode_normalization::is_nfkc(t),
            "not NFKC: {raw:?} -> {t:?}"
        );
        assert_eq!(c.title.as_deref(), t.lines().next());
        // Idempotent.
        assert_eq!(&clean(t).text, t, "{raw:?}");
        check_map(raw);
    }

    #[test]
    fn fuzz_never_panics_and_keeps_invariants() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for i in 0..3000 {
            let len = 1 + rng.below(if i % 10 == 0 { 400 } else { 40 });
            let raw = random_text(&mut rng, len);
            check_invariants(&raw);
        }
        for raw in [
            "",
            " ",
            "\n",
            "\u{301}",
            "\u{200B}",
            "\r",
            "\r\n\r\n",
            "\u{2028}",
            "\u{85}\u{301}",
        ] {
            check_invariants(raw);
        }
    }

    #[test]
    fn large_inputs() {
        let mut rng = Rng(42);
        let mut big = String::new();
        while big.len() < 1_000_000 {
            big.push_str(&random_text(&mut rng, 10_000));
        }
        check_invariants(&big);
        // One 1 MB line, and 1 MB of combining marks.
        let line = "word ’quoted’ — ".repeat(60_000);
        let c = clean(&line);
        assert!(c.text.len() > 500_000);
        let marks = format!("a{}", "\u{301}".repeat(500_000));
        let c = clean(&marks);
        assert!(c.text.starts_with('á'));
        check_map(&marks);
    }

    // ---------------------------------------------------------------- seeds

    #[test]
    fn seeds_boilerplate_gone_content_kept() {
        let seeds = all_seeds();
        assert_eq!(seeds.len(), 5);
        for (name, raw) in &seeds {
            let c = clean(raw);
            for boiler in [
                "Please enter your comment!",
                "LEAVE A REPLY",
                "Leave a Reply",
                "Note to readers",
                "Disclaimer:",
                "Comments are closed.",
                "Your email address will not be published",
                "contains copyrighted material",
                "For media inquiries",
                "Articles by:",
            ] {
                assert!(!c.text.contains(boiler), "{name}: {boiler}");
            }
            assert!(!c.text.lines().any(|l| l == "0"
                || l == "*"
                || l == "***"
                || l == "By"
                || l == "By:"));
            // Every raw sentence-like line (ends with a period, long) survives somewhere.
            for l in raw.lines().map(normalize_text) {
                let boiler = [
                    "Note to readers",
                    "Disclaimer",
                    "Visit and follow",
                    "All Global Research",
                ];
                if l.len() > 80
                    && !boiler.iter().any(|b| l.starts_with(b))
                    && !l.contains("copyrighted material")
                {
                    assert!(c.text.contains(&l), "{name}: lost {l:?}");
                }
            }
        }
        let c = clean(&seed("000"));
        assert_eq!(
            c.title.as_deref(),
            Some("Japanese pro-NATO stance harms Tokyo-Moscow dialogue")
        );
        assert!(c
            .text
            .starts_with("Japanese pro-NATO stance harms Tokyo-Moscow dialogue\n\nTokyo appears"));
        assert!(c.text.ends_with("geopolitical consultant."));
        assert!(c
            .text
            .contains("has personally\n\nadvised his Indian counterpart"));
        assert_eq!(c.dropped_lines, 4);

        let c = clean(&seed("001"));
        assert_eq!(
            c.title.as_deref(),
            Some("Japan's New Stance on Russia, under Pressure from Washington. PM Kishida Will Attend NATO Summit")
        );
        assert!(c
            .text
            .contains("\n\nJapanese-Russian relations might be at their worst."));
        assert!(c.text.ends_with(
            "Uriel Araujo is a researcher with a focus on international and ethnic conflicts."
        ));
        assert!(c
            .text
            .contains("Tokyo — under intense American pressure — condemned Moscow"));
        assert!(
            !c.text.contains("Translate Website")
                && !c.text.contains("Theme:")
                && !c.text.contains("Photo:")
        );
        assert_eq!(c.dropped_lines, 12);

        let c = clean(&seed("002"));
        assert_eq!(
            c.title.as_deref(),
            Some("Japan Represents Another Russian Failure in Asia")
        );
        assert!(c.text.starts_with(
            "Japan Represents Another Russian Failure in Asia\nPublication: Eurasia Daily Monitor Volume: 16 Issue: 38\nAlthough analysts"
        ));
        assert_eq!(
            c.text
                .matches("In fact, Russia needs Japanese economic assistance")
                .count(),
            1
        );
        assert_eq!(c.dropped_lines, 1);

        let c = clean(&seed("003"));
        assert_eq!(
            c.title.as_deref(),
            Some("Vitalizing Russia-Japan Relations — OpEd")
        );
        assert!(c.text.contains("\n\nKuril Islands\n\n"));
        assert!(c.text.contains("\n\nDr. Abdul Ruff\n\n"));
        assert!(c.text.ends_with("Palestine Times."));
        assert_eq!(c.dropped_lines, 3);

        let c = clean(&seed("004"));
        assert!(c
            .title
            .as_deref()
            .is_some_and(|t| t.starts_with("Where is Japan's Russian policy headed?")));
        assert!(c.text.ends_with("© AFP/Jiji.)"));
        assert!(c.text.contains("Abe Shinzō and President Putin"));
        assert_eq!(c.dropped_lines, 1);
    }
}
