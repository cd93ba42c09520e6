//! Drop rules (steps 4 and 5 of the [module documentation](super)): the built-in
//! boilerplate patterns, user patterns, and [`CleanRules`], which compiles them into one
//! regex set.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::{RegexBuilder, RegexSet, RegexSetBuilder};

/// Lines at least this many characters long take part in duplicate detection.
pub const DEDUPE_MIN_CHARS: usize = 40;

/// Errors raised while building [`CleanRules`]. Cleaning itself never fails.
#[derive(Debug, thiserror::Error)]
pub enum CleanError {
    /// A user drop pattern is not a valid regular expression.
    #[error("invalid drop pattern `{pattern}`: {source}")]
    Pattern {
        /// The pattern as given.
        pattern: String,
        /// The regex compiler's message.
        #[source]
        source: regex::Error,
    },
    /// A pattern of a rules file is not a valid regular expression.
    #[error("{}:{line}: invalid drop pattern `{pattern}`: {source}", path.display())]
    RulesFilePattern {
        /// The rules file.
        path: PathBuf,
        /// 1-based line number in the rules file.
        line: usize,
        /// The pattern as written in the file (trimmed).
        pattern: String,
        /// The regex compiler's message.
        #[source]
        source: regex::Error,
    },
    /// The rules file cannot be read.
    #[error("cannot read cleaning rules file {}: {source}", path.display())]
    Io {
        /// The rules file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Every pattern is valid on its own but together they exceed the regex size limits.
    #[error("drop patterns too large to compile together: {0}")]
    RuleSet(#[source] regex::Error),
}

/// One built-in drop rule.
struct Rule {
    /// Family, for documentation and the rule listing.
    family: &'static str,
    /// Case-insensitive regex matched against the whole normalised line (`\b` is ASCII).
    pattern: &'static str,
    /// A line the rule must drop (checked by the unit tests).
    example: &'static str,
}

/// Social networks and share words that make up "share bar" lines.
macro_rules! share_words {
    () => {
        "facebook|twitter|x|linkedin|whatsapp|reddit|pinterest|telegram|e-?mail|print|pocket|tumblr|flipboard"
    };
}

/// The built-in drop rules (see the module documentation).
const BUILTIN_RULES: &[Rule] = &[
    // --- Comment prompts -------------------------------------------------------------------
    Rule {
        family: "comment",
        pattern: r"^leave a (?:reply|comment)(?: cancel reply)?[.:!]*$",
        example: "LEAVE A REPLY",
    },
    Rule {
        family: "comment",
        pattern: r"^(?:post|add|write|submit) (?:a |your )?(?:comment|reply)[.:!]*$",
        example: "Post a comment",
    },
    Rule {
        family: "comment",
        pattern: r"^comments? (?:are|is) (?:now )?closed[.!]*$",
        example: "Comments are closed.",
    },
    Rule {
        family: "comment",
        pattern: r"^please enter (?:your|a valid) (?:comment|name|e-?mail(?: address)?)(?: here)?[.!]*$",
        example: "Please enter your name here",
    },
    Rule {
        family: "comment",
        pattern: r"^you have entered an incorrect e-?mail address[.!]*$",
        example: "You have entered an incorrect email address!",
    },
    Rule {
        family: "comment",
        pattern: r"^your e-?mail address will not be published\b.{0,120}$",
        example: "Your email address will not be published. Required fields are marked *",
    },
    Rule {
        family: "comment",
        pattern: r"^required fields are marked\b.{0,20}$",
        example: "Required fields are marked *",
    },
    Rule {
        family: "comment",
        pattern: r"^save my name,? e-?mail,? and website in this browser\b.{0,80}$",
        example: "Save my name, email, and website in this browser for the next time I comment.",
    },
    Rule {
        family: "comment",
        pattern: r"^notify me of (?:follow-up comments|new posts|new comments)\b.{0,80}$",
        example: "Notify me of follow-up comments by email.",
    },
    Rule {
        family: "comment",
        pattern: r"^this site uses akismet to reduce spam\b.{0,120}$",
        example: "This site uses Akismet to reduce spam. Learn how your comment data is processed.",
    },
    Rule {
        family: "comment",
        pattern: r"^you must be (?:logged|signed) in to (?:post|leave) a comment[.!]*$",
        example: "You must be logged in to post a comment.",
    },
    Rule {
        family: "comment",
        pattern: r"^(?:log|sign) in to (?:reply|comment|leave a comment)[.!]*$",
        example: "Log in to Reply",
    },
    Rule {
        family: "comment",
        pattern: r"^cancel reply$",
        example: "Cancel reply",
    },
    // --- Newsletter / share / follow prompts -----------------------------------------------
    Rule {
        family: "share",
        pattern: r"^subscribe to (?:our|the)\b.{0,60}\bnewsletters?\b.{0,100}$",
        example: "Subscribe to our newsletter",
    },
    Rule {
        family: "share",
        pattern: r"^sign up (?:for|to)\b.{0,60}\bnewsletters?\b.{0,100}$",
        example: "Sign up for our daily newsletter to get the top stories.",
    },
    Rule {
        family: "share",
        pattern: r"^(?:get|receive) (?:our|the)\b.{0,40}\bnewsletters?\b.{0,80}$",
        example: "Get our free weekly newsletter",
    },
    Rule {
        family: "share",
        pattern: r"^to receive\b.{0,80}\bnewsletter\b.{0,80}\bclick here[.!]*$",
        example: "To receive Global Research's Daily Newsletter (selected articles), click here.",
    },
    Rule {
        family: "share",
        pattern: r"^share (?:this(?: article| story| post| page)?|on [\w.]+|via [\w.]+)[:.!]*$",
        example: "Share on Facebook",
    },
    Rule {
        family: "share",
        pattern: concat!(
            r"^(?:(?:",
            share_words!(),
            r")[\s,|/]+)*(?:share|tweet)(?:[\s,|/:]+(?:share|tweet|this|on|via|",
            share_words!(),
            r"))*[\s:!.]*$"
        ),
        example: "Share this:",
    },
    Rule {
        family: "share",
        pattern: r"^click (?:here )?to (?:share|print|e-?mail|tweet)\b.{0,100}$",
        example: "Click to share on Twitter (Opens in new window)",
    },
    Rule {
        family: "share",
        pattern: r"^note to readers: please click the share buttons\b.*$",
        example: "Note to readers: Please click the share buttons above or below.",
    },
    Rule {
        family: "share",
        pattern: r"^(?:please )?(?:visit and )?follow us on\b.{0,60}(?:\bx\b|instagram|twitter|facebook|linkedin|telegram|youtube|tiktok|social media|google news|threads|bluesky|mastodon).{0,200}$",
        example: "Visit and follow us on Instagram, Twitter and Facebook.",
    },
    Rule {
        family: "share",
        pattern: r"^feel free to repost and share widely\b.{0,100}$",
        example: "Feel free to repost and share widely Global Research articles.",
    },
    Rule {
        family: "share",
        pattern: r"^.{0,80}\bcan be read in \d+ languages by activating\b.{0,200}$",
        example: "All Global Research articles can be read in 51 languages by activating the \"Translate Website\" drop down menu.",
    },
    // --- Copyright / disclaimer footers ----------------------------------------------------
    Rule {
        family: "footer",
        pattern: r"^copyright\s*(?:©|\(c\)|(?:19|20)\d\d\b).{0,200}$",
        example: "Copyright © 2023 Example Media. All rights reserved.",
    },
    Rule {
        family: "footer",
        pattern: r"^©.{0,200}$",
        example: "© 2023 Example Media",
    },
    Rule {
        family: "footer",
        pattern: r"^\(c\) ?(?:19|20)\d\d\b.{0,200}$",
        example: "(c) 2021 Example Media",
    },
    Rule {
        family: "footer",
        pattern: r"^(?:.{0,150}[.,;:|—-] ?)?all rights reserved[.!]*$",
        example: "All rights reserved.",
    },
    Rule {
        family: "footer",
        pattern: r"^disclaimer\s*:.*$",
        example: "Disclaimer: The contents of this article are of sole responsibility of the author(s).",
    },
    Rule {
        family: "footer",
        pattern: r"^.{0,150}\bcontains copyrighted material the use of which\b.*$",
        example: "www.example.org contains copyrighted material the use of which has not always been authorized.",
    },
    Rule {
        family: "footer",
        pattern: r"^(?:for )?(?:media|press) (?:inquiries|enquiries|contacts?)\s*:.{0,200}$",
        example: "For media inquiries: [email protected]",
    },
    // --- Byline / metadata leftovers -------------------------------------------------------
    Rule {
        family: "meta",
        pattern: r"^by\s*:?$",
        example: "By:",
    },
    Rule {
        family: "meta",
        pattern: r"^theme\s*:[^.!?]{0,100}$",
        example: "Theme: Intelligence, Law and Justice",
    },
    Rule {
        family: "meta",
        pattern: r"^articles? by\s*:.{0,100}$",
        example: "Articles by: Uriel Araujo",
    },
    Rule {
        family: "meta",
        pattern: r"^(?:featured |header |lead )?(?:photo|image|picture|photograph)s?(?: credits?| source)?\s*:.{0,200}$",
        example: "Photo: Russian International Affairs Council",
    },
    Rule {
        family: "meta",
        pattern: r"^(?:tags|filed under|posted in|categories)\s*:.{0,200}$",
        example: "Tags: Japan, Russia, Kuril Islands",
    },
    Rule {
        family: "meta",
        pattern: r"^(?:advertisement|sponsored(?: content)?|story continues below(?: advertisement)?|read more|read also|also read|see also|related(?: (?:articles|posts|stories|news|content|coverage))?|you may also like|recommended(?: for you)?|most popular|most read|trending now)[:.]?$",
        example: "Advertisement",
    },
    // --- Counters and symbol lines ---------------------------------------------------------
    Rule {
        family: "counter",
        // Digits only, except a plausible year (1800-2099): timelines put years on their own line.
        pattern: r"^(?:\d{1,3}|\d{5,}|[03-9]\d{3}|1[0-7]\d\d|2[1-9]\d\d)$",
        example: "0",
    },
    Rule {
        family: "counter",
        pattern: r"^\d+ (?:comments?|responses?|replies|shares?|views?)$",
        example: "12 Comments",
    },
    Rule {
        family: "symbols",
        pattern: r"^[\p{P}\p{S}\s]+$",
        example: "***",
    },
];

/// Dropped lines that open a comment section (prefixes; only tested on dropped lines).
const COMMENT_STARTERS: &[&str] = &[
    r"^leave a (?:reply|comment)",
    r"^(?:post|add|write|submit) (?:a |your )?(?:comment|reply)",
    r"^comments? (?:are|is) (?:now )?closed",
    r"^please enter your comment",
];

/// Comment-form leftovers, dropped only after a comment-section starter (see module docs).
const COMMENT_FORM: &[&str] = &[
    r"^(?:your )?(?:name|e-?mail|e-?mail address|website|url|comment|message)\s*[*:]*\s*[*:]*$",
    r"^(?:post|submit|send)(?: comment| reply)?$",
    r"^(?:reply|report|like|loading\.*|δ)$",
];

/// Regex size limits: generous, the built-ins need a few MiB with Unicode case folding.
const SIZE_LIMIT: usize = 64 << 20;
const DFA_SIZE_LIMIT: usize = 32 << 20;

/// Built-in patterns use ASCII word boundaries: Unicode `\b` stops the fast lazy DFA on any
/// non-ASCII input.
fn builtin_source(p: &str) -> String {
    p.replace(r"\b", r"(?-u:\b)")
}

fn build_set<I, S>(patterns: I) -> Result<RegexSet, regex::Error>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    RegexSetBuilder::new(patterns)
        .case_insensitive(true)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(DFA_SIZE_LIMIT)
        .build()
}

/// Validates one user pattern on its own, so that an error names the culprit.
fn check_pattern(p: &str) -> Result<(), regex::Error> {
    RegexBuilder::new(p)
        .case_insensitive(true)
        .size_limit(SIZE_LIMIT)
        .build()
        .map(drop)
}

pub(super) static STARTERS: LazyLock<RegexSet> = LazyLock::new(|| {
    build_set(COMMENT_STARTERS.iter().map(|p| builtin_source(p)))
        .expect("built-in comment starters compile")
});

static FORM: LazyLock<RegexSet> = LazyLock::new(|| {
    build_set(COMMENT_FORM.iter().map(|p| builtin_source(p))).expect("built-in form rules compile")
});

pub(super) static DEFAULT_RULES: LazyLock<CleanRules> = LazyLock::new(|| {
    let sources: Vec<String> = BUILTIN_RULES
        .iter()
        .map(|r| builtin_source(r.pattern))
        .collect();
    CleanRules {
        builtin: true,
        user: Vec::new(),
        set: build_set(&sources).expect("built-in drop rules compile"),
        dedupe: true,
    }
});

/// The cleaning rules: built-in and user drop patterns, plus the duplicate-line toggle.
///
/// Build once and reuse: the patterns are compiled into a single [`RegexSet`].  Cloning is
/// cheap.  [`Default`] gives the built-in rules with duplicate detection on.
///
/// ```
/// use presslens::clean::CleanRules;
///
/// let rules = CleanRules::default()
///     .with_drop_patterns(&["^SPONSORED$".to_string()])?
///     .dedupe_lines(true);
/// let cleaned = rules.clean("Title\n\nBody.\nSPONSORED\nLeave a Reply");
/// assert_eq!(cleaned.text, "Title\n\nBody.");
///
/// // With the offset map (on request): cleaned byte offsets back to raw ones.
/// let raw = "  He said \u{201C}no\u{201D}.";
/// let (cleaned, map) = rules.clean_mapped(raw);
/// assert_eq!(cleaned.text, "He said \"no\".");
/// assert_eq!(&raw[map.to_raw_range(0..7)], "He said");
/// # Ok::<(), presslens::clean::CleanError>(())
/// ```
#[derive(Clone)]
pub struct CleanRules {
    /// Whether the built-in rules are part of `set`.
    builtin: bool,
    /// User patterns, as given.
    user: Vec<String>,
    /// Built-ins (if `builtin`) followed by the user patterns.
    set: RegexSet,
    /// Drop repeated lines.
    pub(super) dedupe: bool,
}

impl Default for CleanRules {
    fn default() -> Self {
        DEFAULT_RULES.clone()
    }
}

impl fmt::Debug for CleanRules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CleanRules")
            .field(
                "builtin_patterns",
                &if self.builtin { BUILTIN_RULES.len() } else { 0 },
            )
            .field("user_patterns", &self.user)
            .field("dedupe_lines", &self.dedupe)
            .finish()
    }
}

impl CleanRules {
    /// Rules without any drop pattern and with duplicate detection off: [`CleanRules::clean`]
    /// then only normalises.  Add your own patterns with [`CleanRules::with_drop_patterns`].
    pub fn empty() -> Self {
        CleanRules {
            builtin: false,
            user: Vec::new(),
            set: RegexSet::empty(),
            dedupe: false,
        }
    }

    /// The built-in drop patterns as `(family, regex, example of a dropped line)` triples, in
    /// the order they are tried.
    ///
    /// Families: `comment` (comment-form prompts), `share` (newsletter, share and follow
    /// prompts), `footer` (copyright, disclaimer, media contact), `meta` (byline and photo
    /// leftovers, tags, "Advertisement"), `counter` (a line of digits, except a year 1800-2099;
    /// "12 Comments"), `symbols`
    /// (lines of punctuation and symbols only, such as `*`).  Every pattern is matched
    /// case-insensitively against the whole normalised line; `\b` is an ASCII word boundary.
    pub fn builtin_patterns() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
        BUILTIN_RULES
            .iter()
            .map(|r| (r.family, r.pattern, r.example))
    }

    /// The user patterns added so far, in order.
    pub fn user_patterns(&self) -> &[String] {
        &self.user
    }

    /// Adds user drop patterns: a normalised line matching any of them is dropped.
    ///
    /// Patterns use the [`regex`] syntax and are compiled case-insensitively (write `(?-i)`
    /// to opt out).  A pattern may match anywhere in the line: anchor it with `^…$` to match
    /// whole lines only (`"^SPONSORED$"`).  Lines are matched after normalisation, so write
    /// straight quotes rather than `’`, `-` for hyphens and `—` for dashes (en and em
    /// dashes become `—`).
    ///
    /// # Errors
    /// [`CleanError::Pattern`] naming the first invalid pattern.
    pub fn with_drop_patterns(self, pats: &[String]) -> Result<Self, CleanError> {
        for p in pats {
            check_pattern(p).map_err(|source| CleanError::Pattern {
                pattern: p.clone(),
                source,
            })?;
        }
        self.extend(pats.iter().cloned())
    }

    /// The default rules plus the patterns of a rules file: one regex per line (see
    /// [`CleanRules::with_drop_patterns`]); lines are trimmed, blank lines and lines starting
    /// with `#` are ignored (write `\#` for a pattern that starts with a literal `#`).
    ///
    /// # Errors
    /// [`CleanError::Io`] if the file cannot be read (or is not UTF-8),
    /// [`CleanError::RulesFilePattern`] with the line number of an invalid pattern.
    pub fn from_file(path: &Path) -> Result<Self, CleanError> {
        let text = std::fs::read_to_string(path).map_err(|source| CleanError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        let mut pats = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let p = line.trim();
            if p.is_empty() || p.starts_with('#') {
                continue;
            }
            check_pattern(p).map_err(|source| CleanError::RulesFilePattern {
                path: path.to_path_buf(),
                line: i + 1,
                pattern: p.to_string(),
                source,
            })?;
            pats.push(p.to_string());
        }
        Self::default().extend(pats)
    }

    /// Turns duplicate-line removal on or off (on by default): when on, a line of at least
    /// [`DEDUPE_MIN_CHARS`] characters that equals an earlier kept line of the same document
    /// (after normalisation) is dropped.
    pub fn dedupe_lines(mut self, on: bool) -> Self {
        self.dedupe = on;
        self
    }

    /// Recompiles the set with more (already validated) user patterns.
    fn extend(mut self, pats: impl IntoIterator<Item = String>) -> Result<Self, CleanError> {
        let before = self.user.len();
        self.user.extend(pats);
        if self.user.len() == before {
            return Ok(self);
        }
        let builtins = BUILTIN_RULES
            .iter()
            .filter(|_| self.builtin)
            .map(|r| builtin_source(r.pattern));
        let all: Vec<String> = builtins.chain(self.user.iter().cloned()).collect();
        self.set = build_set(&all).map_err(CleanError::RuleSet)?;
        Ok(self)
    }

    /// Whether a normalised, non-empty line is boilerplate.
    pub(super) fn is_boilerplate(&self, line: &str) -> bool {
        self.set.is_match(line)
    }
}

/// A comment-form fragment: a form label, or at most four words without final punctuation.
pub(super) fn is_comment_form(line: &str) -> bool {
    if FORM.is_match(line) {
        return true;
    }
    let short = line.split(' ').count() <= 4;
    short && !line.ends_with(['.', '!', '?', '"', '\'', ')'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clean::clean;
    use crate::clean::tests::kept;

    // ---------------------------------------------------------------- boilerplate

    #[test]
    fn every_builtin_rule_drops_its_example() {
        for r in BUILTIN_RULES {
            let single = RegexBuilder::new(&builtin_source(r.pattern))
                .case_insensitive(true)
                .build()
                .expect("builtin compiles");
            assert!(
                single.is_match(r.example),
                "{} !~ {:?}",
                r.pattern,
                r.example
            );
            let c = clean(&format!(
                "Title of the story\n\n{}\n\nBody text here.",
                r.example
            ));
            assert_eq!(
                c.text, "Title of the story\n\nBody text here.",
                "{}",
                r.example
            );
            assert_eq!(c.dropped_lines, 1, "{}", r.example);
        }
        assert!(CleanRules::builtin_patterns().count() == BUILTIN_RULES.len());
    }

    #[test]
    fn comment_prompts() {
        for l in [
            "Leave a Reply",
            "LEAVE A REPLY",
            "Leave a Reply Cancel reply",
            "Please enter your comment!",
            "Please enter your name here",
            "You have entered an incorrect email address!",
            "Your email address will not be published. Required fields are marked *",
            "Comments are closed.",
            "Post a comment",
            "0 Comments",
        ] {
            assert!(!kept(l), "{l}");
        }
        for l in [
            "He wants to leave a reply to the letter by Friday.",
            "Leave a reply, the minister told reporters, was all they could do.",
            "Comments are closed to the public, the ministry said on Monday.",
            "Please enter your comment in the form, the official instructions said.",
            "Post a comment and you will be fined, the new law warns users.",
            "The 12 comments published by the ministry were dismissed.",
        ] {
            assert!(kept(l), "{l}");
        }
    }

    #[test]
    fn share_and_newsletter_prompts() {
        for l in [
            "Subscribe to our newsletter",
            "Sign up for our free Daily Briefing newsletter",
            "Share this:",
            "Share on Facebook",
            "Share via Email",
            "Facebook Twitter Share",
            "Tweet",
            "Click to share on Twitter (Opens in new window)",
            "Note to readers: Please click the share buttons above or below. Follow us on Instagram, Twitter and Facebook.",
            "Visit and follow us on InstagramTwitter and Facebook. Feel free to repost and share widely Global Research articles.",
            "Follow us on X",
            "To receive Global Research’s Daily Newsletter (selected articles), click here.",
        ] {
            assert!(!kept(l), "{l}");
        }
        for l in [
            "Share prices fell 3% in Tokyo on Monday.",
            "Share this view, many diplomats in Moscow do.",
            "Subscribers to the newsletter complained about the price.",
            "Sign up for the army was voluntary until 1940, the historian noted.",
            "Note to readers of our earlier story: the figures have been corrected.",
            "Follow us on this journey through the Kuril Islands, the guide said.",
            "The newsletter asked readers to click here and there.",
        ] {
            assert!(kept(l), "{l}");
        }
    }

    #[test]
    fn footers() {
        for l in [
            "Copyright © 2023 Example Media",
            "Copyright (c) 2021 Foo Inc.",
            "Copyright 2019 The Associated Press. All rights reserved.",
            "© 2023 Example Media Inc.",
            "© AFP",
            "(c) 2022 Foo",
            "All rights reserved.",
            "Foo News Ltd. All Rights Reserved",
            "Disclaimer: The contents of this article are of sole responsibility of the author(s).",
            "www.globalresearch.ca contains copyrighted material the use of which has not always been specifically authorized by the copyright owner.",
            "For media inquiries: [email protected]",
            "Press contact: Jane Doe",
        ] {
            assert!(!kept(l), "{l}");
        }
        for l in [
            "Copyright law in Japan was reformed in 2018.",
            "Copyrighted songs were played at the rally.",
            "(c) the minister shall report annually to the Diet.",
            "The company said it had kept all rights reserved for itself.",
            "The lawsuit alleges the dataset contains copyrighted material.",
            "The disclaimer: was printed in small type, critics said.",
            "For media inquiries the ministry set up a hotline: 03-1234.",
        ] {
            assert!(kept(l), "{l}");
        }
    }

    #[test]
    fn byline_and_meta_leftovers() {
        for l in [
            "By",
            "By:",
            "BY :",
            "Theme:",
            "Theme: Global Economy, Intelligence",
            "Articles by: Uriel Araujo",
            "Photo: Russian International Affairs Council",
            "Image credit: Reuters",
            "Tags: Japan, Russia",
            "Advertisement",
            "Read more",
        ] {
            assert!(!kept(l), "{l}");
        }
        for l in [
            "By 2020, Japan had become Russia's most cautious partner.",
            "By-elections were held in three districts.",
            "By: the sea, the islands lay quiet.", // kept: not a lone "By:"
            "Theme parks reopened in Tokyo.",
            "Photographers gathered outside the Kremlin.",
            "Photo opportunities were limited, officials said: only two.",
            "Related talks will follow in May.",
            "Advertisement revenue fell by half.",
        ] {
            assert!(kept(l), "{l}");
        }
    }

    #[test]
    fn counters_and_symbols() {
        for l in [
            "0",
            "42",
            "317",
            "1024",
            "12345",
            "*",
            "***",
            "• • •",
            "|",
            "--",
            "→",
        ] {
            assert!(!kept(l), "{l}");
        }
        for l in [
            "The 0 tolerance policy",
            "2,000",
            "2014",
            "1945",
            "1945.",
            "* Lavrov arrived on Friday.",
            "— Reuters",
            "A",
        ] {
            assert!(kept(l), "{l}");
        }
    }

    // ---------------------------------------------------------------- user rules

    #[test]
    fn user_patterns() {
        let rules = CleanRules::default()
            .with_drop_patterns(&["^SPONSORED$".to_string(), r"^read the full story\b".into()])
            .expect("valid");
        assert_eq!(rules.user_patterns().len(), 2);
        // The example of the `CleanRules` docs.
        let c = rules.clean("Title\n\nBody.\nSPONSORED\nLeave a Reply");
        assert_eq!(c.text, "Title\n\nBody.");
        let c =
            rules.clean("Keep me.\nsponsored\nRead the full story at example.com\nLeave a Reply");
        assert_eq!(c.text, "Keep me.");
        assert_eq!(c.dropped_lines, 3);
        // Case-sensitive opt-out.
        let rules = CleanRules::default()
            .with_drop_patterns(&["(?-i)^PROMOTED$".to_string()])
            .expect("valid");
        assert_eq!(
            rules.clean("Keep me.\npromoted\nPROMOTED").text,
            "Keep me.\npromoted"
        );
        // Without built-ins.
        let rules = CleanRules::empty()
            .with_drop_patterns(&["^x$".to_string()])
            .expect("valid");
        assert_eq!(
            rules.clean("a\nx\n0\nLeave a Reply").text,
            "a\n0\nLeave a Reply"
        );
    }

    #[test]
    fn invalid_pattern_error_names_it() {
        let err = CleanRules::default()
            .with_drop_patterns(&["ok".to_string(), "(".to_string()])
            .expect_err("invalid");
        let msg = err.to_string();
        assert!(matches!(&err, CleanError::Pattern { pattern, .. } if pattern == "("));
        assert!(
            msg.contains("pattern `(`") && msg.contains("unclosed"),
            "{msg}"
        );
    }

    #[test]
    fn rules_file() {
        let dir = std::env::temp_dir().join(format!("presslens-clean-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("tmp dir");
        let good = dir.join("rules.txt");
        std::fs::write(&good, "# site footers\n\n  ^SPONSORED$  \n\\#hashtag\n").expect("write");
        let rules = CleanRules::from_file(&good).expect("valid file");
        assert_eq!(rules.user_patterns(), ["^SPONSORED$", "\\#hashtag"]);
        assert_eq!(
            rules
                .clean("Keep.\nSPONSORED\n#hashtag\nLeave a Reply")
                .text,
            "Keep."
        );
        let bad = dir.join("bad.txt");
        std::fs::write(&bad, "# c\nok\n[unclosed\n").expect("write");
        let err = CleanRules::from_file(&bad).expect_err("invalid");
        assert!(
            matches!(&err, CleanError::RulesFilePattern { line: 3, pattern, .. } if pattern == "[unclosed")
        );
        assert!(err
            .to_string()
            .contains(":3: invalid drop pattern `[unclosed`"));
        let err = CleanRules::from_file(&dir.join("missing.txt")).expect_err("missing");
        assert!(matches!(err, CleanError::Io { .. }));
        std::fs::remove_dir_all(&dir).ok();
    }
}
