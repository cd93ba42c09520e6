//! Numbered and lettered lists (`1. … 2. …`, `a) … b) …`) and bullets: list markers
//! start new sentences.

use super::scanner::Scanner;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListKind {
    Number,
    Letter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListStyle {
    /// `1.`
    Dot,
    /// `1.)`
    DotParen,
    /// `1)`
    Paren,
}

/// A list marker such as `2.`, `3)` or `b.` ending at byte `end`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Marker {
    pub(super) kind: ListKind,
    pub(super) value: u32,
    pub(super) style: ListStyle,
    pub(super) end: usize,
}

/// The next list marker expected inside the current list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct ListState {
    pub(super) kind: ListKind,
    pub(super) next: u32,
    pub(super) style: ListStyle,
}

impl Scanner<'_> {
    /// Parses a list marker (`1.`, `12)`, `3.)`, `a.`, `b)`) at `p`, which must be followed by
    /// whitespace and more text.
    pub(super) fn parse_marker(&self, p: usize) -> Option<Marker> {
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
    pub(super) fn on_list_gap(&mut self, i: usize) -> usize {
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

    pub(super) fn on_bullet(&mut self, i: usize, len: usize) -> usize {
        if i < self.suppress_until || self.sent_start >= i {
            return i + len;
        }
        self.boundary(i, i)
    }
}

#[cfg(test)]
mod tests {
    use crate::segment::tests::sents;

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
}
