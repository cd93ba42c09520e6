//! Character classes (closers, openers, bullets, line breaks) and token shapes (numbers,
//! dotted abbreviations) that the scanner looks at around a candidate boundary.

/// Longest token (in chars) inspected around a candidate boundary.
pub(super) const MAX_TOKEN: usize = 64;

/// Closing quotes and brackets that stay with the sentence they follow.
pub(super) fn is_closer(c: char) -> bool {
    matches!(
        c,
        '"' | '\'' | ')' | ']' | '}' | '”' | '’' | '»' | '›' | '」' | '』' | '）' | '】' | '〕'
    )
}

/// Opening quotes and brackets that may precede a word.
pub(super) fn is_opener(c: char) -> bool {
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

pub(super) fn is_bullet(c: char) -> bool {
    matches!(c, '•' | '‣' | '⁃' | '◦' | '▪' | '●')
}

pub(super) fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\u{2028}' | '\u{2029}')
}

/// The char starting at byte `i`, if `i` is a char boundary inside `text`.
pub(super) fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..).and_then(|s| s.chars().next())
}

/// The char ending at byte `i`, if any.
pub(super) fn char_before(text: &str, i: usize) -> Option<char> {
    text.get(..i).and_then(|s| s.chars().next_back())
}

/// Start of the whitespace-delimited token that ends at byte `end`; `None` when the token is
/// longer than [`MAX_TOKEN`] chars.
pub(super) fn token_start(text: &str, end: usize) -> Option<usize> {
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
pub(super) fn trim_word(token: &str) -> &str {
    token
        .trim_start_matches(is_opener)
        .trim_end_matches(is_closer)
}

/// Numbers, amounts and codes: `1,000`, `$100.00`, `1026.253.553`, `20%`.
pub(super) fn is_numeric(word: &str) -> bool {
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
pub(super) fn is_dotted_abbreviation(word: &str) -> bool {
    word.contains('.')
        && word.split('.').all(|seg| {
            let n = seg.chars().count();
            (1..=2).contains(&n) && seg.chars().all(char::is_alphabetic)
        })
}
