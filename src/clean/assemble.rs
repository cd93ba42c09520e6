//! Assembling the cleaned text (steps 5 and 6 of the [module documentation](super)): kept
//! lines are joined into paragraphs, repeated lines dropped, and the offset map recorded.

use std::collections::HashMap;

use super::{Cleaned, OffsetMap, DEDUPE_MIN_CHARS};

/// A line held back after a comment-section starter.
pub(super) struct PendingLine {
    pub(super) text: String,
    pub(super) anchors: Vec<(usize, usize)>,
    pub(super) raw_end: usize,
    pub(super) blank_before: bool,
}

/// A fast non-cryptographic hash of a line (FxHash-style over 8-byte words). Collisions only
/// cost a missed duplicate: a hit is confirmed by comparing the text.
fn line_hash(s: &str) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let mut chunks = s.as_bytes().chunks_exact(8);
    let mut h = s.len() as u64;
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = mix(h, u64::from_le_bytes(w));
    }
    chunks
        .remainder()
        .iter()
        .fold(h, |h, &b| mix(h, u64::from(b)))
}

/// Builds the output text, the offset map (when asked for) and the statistics.
pub(super) struct Assembler {
    out: String,
    map: Option<OffsetMap>,
    title: Option<String>,
    dedupe: bool,
    /// Line hash → byte range in `out` of the first line with that hash.
    seen: HashMap<u64, (usize, usize)>,
    /// Raw end of the last kept line.
    last_raw_end: usize,
    pub(super) dropped: usize,
}

impl Assembler {
    /// `track`: also build the [`OffsetMap`] (from the anchors given to [`Assembler::emit`]).
    pub(super) fn new(raw_len: usize, dedupe: bool, track: bool) -> Self {
        Assembler {
            out: String::with_capacity(raw_len),
            map: track.then(OffsetMap::default),
            title: None,
            dedupe,
            seen: HashMap::new(),
            last_raw_end: 0,
            dropped: 0,
        }
    }

    /// Appends a kept line (unless it is a duplicate: then returns false).
    pub(super) fn emit(
        &mut self,
        text: &str,
        anchors: &[(usize, usize)],
        raw_end: usize,
        blank: bool,
    ) -> bool {
        let long = text.len() >= 4 * DEDUPE_MIN_CHARS
            || (text.len() >= DEDUPE_MIN_CHARS && text.chars().count() >= DEDUPE_MIN_CHARS);
        let key = (self.dedupe && long).then(|| line_hash(text));
        if let Some(k) = key {
            if let Some(&(a, b)) = self.seen.get(&k) {
                if self.out.get(a..b) == Some(text) {
                    return false;
                }
            }
        }
        if !self.out.is_empty() {
            for _ in 0..if blank { 2 } else { 1 } {
                if let Some(map) = &mut self.map {
                    map.push(self.out.len(), self.last_raw_end);
                }
                self.out.push('\n');
            }
        }
        let base = self.out.len();
        if let Some(map) = &mut self.map {
            for &(c, r) in anchors {
                map.push(base + c, r);
            }
        }
        self.out.push_str(text);
        if let Some(k) = key {
            self.seen.entry(k).or_insert((base, self.out.len()));
        }
        self.last_raw_end = raw_end;
        if self.title.is_none() {
            self.title = Some(text.to_string());
        }
        true
    }

    /// The cleaned document, and the offset map if it was tracked.
    pub(super) fn finish(mut self, raw_len: usize) -> (Cleaned, Option<OffsetMap>) {
        if let Some(map) = &mut self.map {
            if !self.out.is_empty() {
                map.push(self.out.len(), self.last_raw_end);
            }
            map.clean_len = self.out.len();
            map.raw_len = raw_len;
        }
        let cleaned = Cleaned {
            text: self.out,
            title: self.title,
            dropped_lines: self.dropped,
        };
        (cleaned, self.map)
    }
}

#[cfg(test)]
mod tests {
    use crate::clean::tests::{check_map, seed};
    use crate::clean::{clean, CleanRules, DEDUPE_MIN_CHARS};

    // ---------------------------------------------------------------- dedupe

    #[test]
    fn dedupe() {
        let p1 = "Japan and Russia never signed a peace treaty after the war.";
        let p2 = "Talks stalled again in 2019 over the islands.";
        let raw =
            format!("Title\n\n{p1}\n\n{p2}\n\nShort line\n\nTitle\n\n{p1}\n\n{p2}\n\nShort line");
        let c = clean(&raw);
        assert_eq!(
            c.text,
            format!("Title\n\n{p1}\n\n{p2}\n\nShort line\n\nTitle\n\nShort line")
        );
        // Normalisation happens before comparison.
        let c = clean(&format!("{p1}\n“{p1}”\n{}", p1.replace(' ', "  ")));
        assert_eq!(c.text, format!("{p1}\n\"{p1}\""));
        // Off.
        let c = CleanRules::default().dedupe_lines(false).clean(&raw);
        assert_eq!(c.text.matches(p1).count(), 2);
        assert_eq!(c.text.matches(p2).count(), 2);
        // A whole article twice (seed 002 concatenated with itself).
        let s = seed("002");
        let once = clean(&s);
        let twice = clean(&format!("{s}\n{s}"));
        assert!(twice.text.starts_with(&once.text));
        // Of the second copy, only the lines too short for duplicate detection are left.
        let short: Vec<&str> = once
            .text
            .lines()
            .filter(|l| !l.is_empty() && l.chars().count() < DEDUPE_MIN_CHARS)
            .collect();
        let rest: Vec<&str> = twice.text[once.text.len()..]
            .lines()
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(rest, short);
        assert_eq!(
            twice
                .text
                .matches("In fact, Russia needs Japanese economic assistance")
                .count(),
            1
        );
        check_map(&format!("{s}\n{s}"));
    }
}
