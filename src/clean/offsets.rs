//! [`OffsetMap`]: byte offsets of the cleaned text back to the raw text.

/// Maps byte offsets of the cleaned text back to byte offsets of the raw text (built only
/// on request, by [`CleanRules::clean_mapped`](super::CleanRules::clean_mapped)).
///
/// Stored as sorted `(clean_byte, raw_byte)` anchors, one wherever the difference between the
/// two changes; between anchors the text was copied unchanged.  Characters that normalisation
/// rewrote map to the start of their raw source (a `’` → `'`; an `ﬁ` → `fi`, both letters),
/// the `\n` separators map to the end of the previous kept line, and `text.len()` maps to the
/// end of the last kept line.  `to_raw` is non-decreasing and maps char boundaries of the
/// cleaned text to char boundaries of the raw text, so `raw[map.to_raw(a)..map.to_raw(b)]` is
/// always a valid slice; when `a..b` lies within one line and covers whole rewritten
/// characters, that slice normalises to `text[a..b]` (across lines it also holds the dropped
/// lines in between).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OffsetMap {
    pub(super) anchors: Vec<(usize, usize)>,
    pub(super) clean_len: usize,
    pub(super) raw_len: usize,
}

impl OffsetMap {
    /// The raw byte offset of a cleaned byte offset (binary search over the anchors).
    /// Non-decreasing in `clean_byte`; offsets past the end map like `text.len()`.
    pub fn to_raw(&self, clean_byte: usize) -> usize {
        let c = clean_byte.min(self.clean_len);
        let i = self.anchors.partition_point(|&(a, _)| a <= c);
        let Some(&(a, r)) = i.checked_sub(1).and_then(|k| self.anchors.get(k)) else {
            return 0;
        };
        let mut raw = r + (c - a);
        if let Some(&(_, next_raw)) = self.anchors.get(i) {
            raw = raw.min(next_raw);
        }
        raw.min(self.raw_len)
    }

    /// The raw byte range of a cleaned byte range.
    pub fn to_raw_range(&self, clean: std::ops::Range<usize>) -> std::ops::Range<usize> {
        self.to_raw(clean.start)..self.to_raw(clean.end)
    }

    /// The `(clean_byte, raw_byte)` anchors, sorted by both.
    pub fn anchors(&self) -> &[(usize, usize)] {
        &self.anchors
    }

    pub(super) fn push(&mut self, clean: usize, raw: usize) {
        if let Some(last) = self.anchors.last_mut() {
            if last.0 == clean {
                *last = (clean, raw);
                return;
            }
            if clean > last.0 && raw >= last.1 && clean - last.0 == raw - last.1 {
                return; // same delta: the previous anchor already covers it
            }
        }
        self.anchors.push((clean, raw));
    }
}

#[cfg(test)]
mod tests {
    use crate::clean::tests::{all_seeds, check_map};

    // ---------------------------------------------------------------- offset map

    #[test]
    fn offset_map_simple() {
        let raw =
            "  Title \r\n\r\n\r\nHe said \u{201C}no\u{201D}\u{A0}\u{A0}– twice.\n0\nEnd  here.\n";
        let (c, m) = check_map(raw);
        assert_eq!(c.text, "Title\n\nHe said \"no\" — twice.\nEnd here.");
        // Untouched substrings map exactly.
        for sub in ["Title", "He said", "twice.", "End", "here."] {
            let a = c.text.find(sub).expect("sub");
            let r = m.to_raw_range(a..a + sub.len());
            assert_eq!(&raw[r], sub);
        }
        // A rewritten char maps to its whole raw source.
        let q = c.text.find('"').expect("quote");
        assert_eq!(&raw[m.to_raw_range(q..q + 1)], "\u{201C}");
        // An en dash becomes the em dash.
        let d = c.text.find('—').expect("dash");
        assert_eq!(&raw[m.to_raw_range(d..d + '—'.len_utf8())], "–");
        assert_eq!(m.to_raw(c.text.len()), raw.find("here.").expect("x") + 5);
        // Anchors are sorted and only where the delta changes.
        let a = m.anchors();
        assert!(a.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
        assert!(a.windows(2).all(|w| w[1].0 - w[0].0 != w[1].1 - w[0].1));
    }

    #[test]
    fn offset_map_expansions() {
        let raw = "ﬁne\u{200B}cafe\u{301} x…y";
        let (c, m) = check_map(raw);
        assert_eq!(c.text, "finecafé x...y");
        // Both letters of "fi" map into the ligature, "café" to its raw span.
        assert_eq!(m.to_raw(0), 0);
        assert_eq!(m.to_raw(1), 0);
        assert_eq!(m.to_raw(2), 3);
        let a = c.text.find("café").expect("cafe");
        assert_eq!(&raw[m.to_raw_range(a..a + "café".len())], "cafe\u{301}");
    }

    #[test]
    fn offset_map_on_seeds() {
        for (name, raw) in all_seeds() {
            let (c, m) = check_map(&raw);
            // Substrings without in-line changes (the first, middle and last plain words of
            // every line) map back verbatim.
            let mut checked = 0;
            for line in c.text.lines().filter(|l| !l.is_empty()) {
                let base = line.as_ptr() as usize - c.text.as_ptr() as usize;
                let words: Vec<(usize, &str)> = line
                    .split(' ')
                    .scan(0, |pos, w| {
                        let at = *pos;
                        *pos += w.len() + 1;
                        Some((at, w))
                    })
                    .filter(|(_, w)| !w.is_empty() && w.bytes().all(|b| b.is_ascii_alphanumeric()))
                    .collect();
                for &(at, w) in [words.first(), words.get(words.len() / 2), words.last()]
                    .into_iter()
                    .flatten()
                {
                    let r = m.to_raw_range(base + at..base + at + w.len());
                    assert_eq!(&raw[r], w, "{name}: {line}");
                    checked += 1;
                }
            }
            assert!(checked > 20, "{name}");
        }
    }
}
