//! Names: a mention cleaned into a name (titles, possessives, hyphenated compounds), name
//! and entity keys, acronym definitions, and the one fuller name a short name extends.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

static TITLES: &[&str] = &[
    "president",
    "vice president",
    "prime minister",
    "pm",
    "premier",
    "foreign minister",
    "defense minister",
    "defence minister",
    "finance minister",
    "minister",
    "chancellor",
    "secretary of state",
    "secretary-general",
    "secretary general",
    "secretary",
    "chief cabinet secretary",
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "sir",
    "general",
    "gen",
    "senator",
    "sen",
    "rep",
    "ambassador",
    "governor",
    "mayor",
    "king",
    "queen",
    "prince",
    "pope",
    "chairman",
    "spokesman",
    "spokeswoman",
    "emperor",
    "leader",
    "former",
    "late",
];

/// Clean a mention into a name: quotes and edge punctuation, a possessive, a leading
/// "the", and (for people) leading titles are removed; whitespace is collapsed.
pub fn normalise(surface: &str, label: &str) -> String {
    let mut s: String = surface.split_whitespace().collect::<Vec<_>>().join(" ");
    let edge = |c: char| !c.is_alphanumeric() && c != '.' && c != ')' && c != '(';
    s = s
        .trim_matches(|c: char| edge(c) || c == '(' || c == ')')
        .to_string();
    for suffix in ["'s", "’s", "'", "’"] {
        if let Some(stripped) = s.strip_suffix(suffix) {
            s = stripped.trim_end().to_string();
            break;
        }
    }
    loop {
        let low = s.to_lowercase();
        let mut changed = false;
        if let Some(rest) = low.strip_prefix("the ") {
            if !rest.is_empty() {
                s = s[4..].to_string();
                changed = true;
            }
        }
        if label == "PER" && !changed {
            for t in TITLES {
                if let Some(rest) = low.strip_prefix(t) {
                    let rest = rest.strip_prefix('.').unwrap_or(rest);
                    if rest.starts_with(' ') && rest.trim().len() > 1 {
                        let cut = s.len() - rest.len();
                        s = s[cut..].trim_start().to_string();
                        changed = true;
                        break;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
    strip_compound_affixes(&mut s);
    // A sentence's final period goes; an acronym's dots ("U.S.") stay.
    match s.strip_suffix('.') {
        Some(head) if !head.contains('.') => head.trim().to_string(),
        _ => s.trim().to_string(),
    }
}

/// Prefixes that make an adjective of a name ("pro-NATO", "post-Soviet", "then-U.S.").
const NAME_PREFIXES: [&str; 12] = [
    "pro", "anti", "post", "pre", "non", "neo", "ex", "mid", "trans", "then", "former", "self",
];
/// Suffix words that do the same ("Soviet-born", "American-style", "Obama-era"), and
/// function words a hyphen used as a dash glues to a name ("Japan-though").
const NAME_SUFFIXES: [&str; 22] = [
    "led", "held", "born", "style", "made", "run", "bound", "wide", "though", "his", "her", "its",
    "their", "which", "who", "and", "era", "majority", "minority", "friendly", "linked", "free",
];

/// Where a name ends inside a hyphenated compound whose last part is an affix, not part of
/// the name: "US-led" → 2, "Obama-era" → 5, "Muslim-majority" → 6, "London-based" → 6;
/// `None` for names ("Kim Jong-un", "Jean-Claude", "al-Qaeda", "Euro-sceptic"). The affix
/// is a lower-case word from [`NAME_SUFFIXES`], or one of more than four letters ending in
/// "ed" or "ing"; what precedes it must start with a capital. Byte offset into `s`.
pub(crate) fn compound_affix_start(s: &str) -> Option<usize> {
    let last_start = s.rfind(' ').map_or(0, |i| i + 1);
    let h = s[last_start..].rfind('-')?;
    let (head, suffix) = (&s[last_start..last_start + h], &s[last_start + h + 1..]);
    let is_affix = !suffix.is_empty()
        && suffix.chars().all(|c| c.is_lowercase())
        && (suffix.len() > 4 && (suffix.ends_with("ed") || suffix.ends_with("ing"))
            || NAME_SUFFIXES.contains(&suffix));
    (is_affix && head.starts_with(|c: char| c.is_uppercase())).then_some(last_start + h)
}

/// The name inside a hyphenated compound: "pro-NATO" → "NATO", "Soviet-led" → "Soviet",
/// "Japan-including" → "Japan". CoNLL tags such compounds as one entity; the analysis
/// counts the name. Lower-case parts that belong to names stay ("Kim Yoon-man", "al-Qaeda").
fn strip_compound_affixes(s: &mut String) {
    if let Some((head, rest)) = s.split_once('-') {
        let prefix = !head.contains(' ') && NAME_PREFIXES.contains(&head.to_lowercase().as_str());
        if prefix && rest.starts_with(|c: char| c.is_uppercase()) {
            *s = rest.to_string();
        }
    }
    if let Some(end) = compound_affix_start(s) {
        s.truncate(end);
    }
}

/// Case-insensitive key of a name.
pub(super) fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// Key of an entity: label and normalised name.
pub(super) fn entity_key(label: &str, name: &str) -> String {
    format!("{label}\u{1f}{}", name_key(name))
}

static ACRONYM_DEF: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"\b([A-Z][\w’'-]*(?:\s+(?:(?:of|the|and|for|on|in|de|du|des|la|le)\s+)*[A-Z][\w’'-]*)+)\s*\(\s*([A-Z][A-Za-z]*[A-Z]s?)\s*\)",
    )
    .expect("ACRONYM_DEF is a valid regex")
});

/// Acronyms a document defines, "Long Form Words (LFW)" → (acronym, long form); the
/// acronym's letters must be, in order, initials of the long form's words or word parts.
pub fn acronym_definitions(text: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for c in ACRONYM_DEF.captures_iter(text) {
        let (Some(long), Some(acro)) = (c.get(1), c.get(2)) else {
            continue;
        };
        let acro = acro.as_str().trim_end_matches('s');
        let words: Vec<&str> = long.as_str().split_whitespace().collect();
        // Try the shortest tail of the long form whose initials spell the acronym.
        for start in (0..words.len()).rev() {
            let tail = &words[start..];
            let initials: String = tail
                .iter()
                .flat_map(|w| w.split('-'))
                .filter_map(|p| p.chars().next())
                .filter(|c| c.is_uppercase())
                .collect();
            if !tail[0].starts_with(|ch: char| acro.starts_with(ch)) {
                continue;
            }
            if is_subsequence(acro, &initials) && initials.len() <= acro.len() + 2 {
                out.insert(acro.to_string(), tail.join(" "));
                break;
            }
        }
    }
    out
}

fn is_subsequence(needle: &str, hay: &str) -> bool {
    let mut it = hay.chars();
    needle.chars().all(|c| it.any(|h| h == c))
}

/// The one name among `candidates` that is a strict word-wise extension of `short`
/// (ending or starting with all its words), if exactly one is.
pub(super) fn unique_extension<'a>(
    short: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let sw: Vec<String> = short.split_whitespace().map(str::to_lowercase).collect();
    if sw.is_empty() {
        return None;
    }
    let mut found: Option<&str> = None;
    for c in candidates {
        let cw: Vec<String> = c.split_whitespace().map(str::to_lowercase).collect();
        if cw.len() <= sw.len() {
            continue;
        }
        if cw.ends_with(&sw) || cw.starts_with(&sw) {
            match found {
                Some(f) if name_key(f) != name_key(c) => return None,
                _ => found = Some(c),
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_possessives_and_quotes_are_stripped() {
        assert_eq!(normalise("President Putin", "PER"), "Putin");
        assert_eq!(
            normalise("Prime Minister Fumio Kishida", "PER"),
            "Fumio Kishida"
        );
        assert_eq!(normalise("PM Kishida's", "PER"), "Kishida");
        assert_eq!(normalise("Mr. Abe", "PER"), "Abe");
        assert_eq!(normalise("“Kishida’s", "PER"), "Kishida");
        assert_eq!(normalise("the Kremlin", "ORG"), "Kremlin");
        assert_eq!(normalise("U.S.", "LOC"), "U.S.");
        assert_eq!(normalise("Moscow.", "LOC"), "Moscow");
        // A title alone, or a title word in an organisation, stays.
        assert_eq!(normalise("President", "PER"), "President");
        assert_eq!(normalise("General Motors", "ORG"), "General Motors");
    }

    #[test]
    fn names_come_out_of_hyphenated_compounds() {
        for (mention, name) in [
            ("pro-NATO", "NATO"),
            ("post-World War II", "World War II"),
            ("then-U.S.", "U.S."),
            ("Soviet-led", "Soviet"),
            ("Washington-based", "Washington"),
            ("U.S.-brokered", "U.S."),
            ("Japan-though", "Japan"),
            ("Japan-including", "Japan"),
            ("American-style", "American"),
            ("Obama-era", "Obama"),
            ("Muslim-majority", "Muslim"),
            ("Donald Trump-complained", "Donald Trump"),
            ("Kim Jong-un", "Kim Jong-un"),
            ("Jean-Claude Juncker", "Jean-Claude Juncker"),
            // Not affixes: parts of names, or compounds of names.
            ("Kim Yoon-man", "Kim Yoon-man"),
            ("al-Qaeda", "al-Qaeda"),
            ("Asia-Pacific", "Asia-Pacific"),
            ("Euro-sceptic", "Euro-sceptic"),
            ("post-war", "post-war"),
        ] {
            assert_eq!(normalise(mention, "MISC"), name, "{mention}");
        }
    }
}
