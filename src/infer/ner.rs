//! Named entities: news-word tokenisation (CoNLL style), IOB decoding of token labels
//! into entities, and the clean-up of entity spans (punctuation, direction words).

use std::sync::LazyLock;

use super::encode::Tokens;
use super::Entity;

/// Words as CoNLL-2003 newswire tokenises them (what the NER heads are trained on):
/// acronyms with dots ("U.S."), initials ("B. Young"), common abbreviations ("Dr.", "Inc."), words with inner hyphens, dots or apostrophes
/// ("Stoltenberg-led", "3.5", "O'Neill") stay whole; a possessive "'s" and other
/// punctuation are words of their own. BERT's pre-tokenizer splits on every punctuation
/// mark, which would make "S" of "U.S." or "led" of "Stoltenberg-led" words with a label
/// of their own; the first sub-token of a news word decides its label instead.
static NEWS_WORD: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?:\pL\.){2,}|\p{Lu}\.|\b(?:Mr|Mrs|Ms|Dr|Prof|Gen|Lt|Col|Sgt|Capt|Adm|Gov|Sen|Rep|Rev|Jr|Sr|St|Mt|Inc|Corp|Co|Ltd|Bros|No|vs)\.|\w+(?:[-.]\w+)*(?:['’](?:[\pL\pN--sS]\w*|[sS]\w+))*|['’][sS]\b|[^\w\s]",
    )
    .expect("NEWS_WORD is a valid regex")
});

/// The news word (see [`NEWS_WORD`]) of each token, from the tokens' character offsets.
pub(super) fn news_word_ids(sentence: &str, offsets: &[(usize, usize)]) -> Vec<Option<u32>> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    // Matches come in order: convert byte to char offsets incrementally.
    let (mut last_b, mut last_c) = (0usize, 0usize);
    for m in NEWS_WORD.find_iter(sentence) {
        let s = last_c + sentence[last_b..m.start()].chars().count();
        let e = s + m.as_str().chars().count();
        last_b = m.end();
        last_c = e;
        spans.push((s, e));
    }
    let mut w = 0usize;
    offsets
        .iter()
        .map(|&(s, _)| {
            while w < spans.len() && spans[w].1 <= s {
                w += 1;
            }
            (w < spans.len() && spans[w].0 <= s).then_some(w as u32)
        })
        .collect()
}

/// Capitalised direction words that open place names ("Northern Territories", "South
/// Kuriles"). The uncased model often drops them, as "northern" is a common word; when one
/// directly precedes a place, organisation or MISC entity, it joins the entity.
const DIRECTIONAL: [&str; 12] = [
    "Northern", "Southern", "Eastern", "Western", "North", "South", "East", "West", "Central",
    "Upper", "Lower", "Greater",
];

pub(super) fn extend_directional(sentence: &str, entities: &mut [Entity]) {
    let chars: Vec<char> = sentence.chars().collect();
    let mut prev_end = 0;
    for e in entities.iter_mut() {
        if e.label != "PER" && e.start >= 2 && chars.get(e.start - 1) == Some(&' ') {
            let word_end = e.start - 1;
            let mut word_start = word_end;
            while word_start > prev_end && chars[word_start - 1].is_alphabetic() {
                word_start -= 1;
            }
            let word: String = chars[word_start..word_end].iter().collect();
            let at_boundary = word_start == 0 || !chars[word_start - 1].is_alphanumeric();
            if at_boundary && DIRECTIONAL.contains(&word.as_str()) {
                e.start = word_start;
            }
        }
        prev_end = e.end;
    }
}

/// Entities never begin or end with punctuation or space: a stray "." or quote tagged as
/// part of a name is dropped from its span ("Dr. Ruff" must not give ". Ruff"). A final dot
/// stays when it ends an abbreviation ("U.S.", "Inc."); entities left empty are removed.
/// Hyphenated compounds stay whole, as CoNLL tags them ("Soviet-led", "pro-Israeli");
/// the linking stage takes the name out of them.
pub(super) fn trim_entities(sentence: &str, entities: &mut Vec<Entity>) {
    if entities.is_empty() {
        return;
    }
    let chars: Vec<char> = sentence.chars().collect();
    for e in entities.iter_mut() {
        let end = e.end.min(chars.len());
        let mut s = e.start.min(end);
        while s < end && !chars[s].is_alphanumeric() {
            s += 1;
        }
        let mut t = end;
        while t > s && !chars[t - 1].is_alphanumeric() {
            if chars[t - 1] == '.' {
                let word_start = chars[s..t - 1]
                    .iter()
                    .rposition(|c| c.is_whitespace())
                    .map_or(s, |i| s + i + 1);
                let word: String = chars[word_start..t].iter().collect();
                if NEWS_WORD.find(&word).is_some_and(|m| m.as_str() == word) {
                    break;
                }
            }
            t -= 1;
        }
        e.start = s;
        e.end = t;
    }
    entities.retain(|e| e.end > e.start);
}

/// Split an IOB2 (or IO) label into (prefix, type).
fn split_label(l: &str) -> (char, &str) {
    match l.split_once('-') {
        Some((p, t)) if p.len() == 1 => (p.chars().next().unwrap_or('I'), t),
        _ if l == "O" => ('O', ""),
        _ => ('I', l),
    }
}

/// A token's NER prediction, from the window where the token is most central.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct TokenPred {
    /// Index of the predicted label.
    pub(super) label: usize,
    /// Its probability.
    pub(super) prob: f32,
    /// Tokens of context on the shorter side within the window (`-1`: no window yet).
    pub(super) centrality: i64,
}

impl TokenPred {
    /// No prediction yet (label 0, probability 0).
    pub(super) const NONE: TokenPred = TokenPred {
        label: 0,
        prob: 0.0,
        centrality: -1,
    };
}

/// A word (news word, see [`NEWS_WORD`]) with the prediction of its first sub-token.
struct Word {
    /// Character offsets in the sentence.
    start: usize,
    end: usize,
    label: usize,
    prob: f32,
}

/// An entity being built from consecutive words.
struct OpenEntity<'l> {
    start: usize,
    end: usize,
    /// Entity type (the label without its IOB prefix).
    ty: &'l str,
    /// Sum of the words' probabilities, and the number of words.
    prob_sum: f32,
    n_words: usize,
}

impl OpenEntity<'_> {
    fn finish(self) -> Entity {
        Entity {
            start: self.start,
            end: self.end,
            label: self.ty.to_string(),
            score: self.prob_sum / self.n_words as f32,
        }
    }
}

/// Group word-level IOB predictions into entities (the first sub-token of a word decides
/// its label; an I- tag that does not continue an entity of its type starts one).
pub(super) fn decode_entities(t: &Tokens, preds: &[TokenPred], labels: &[String]) -> Vec<Entity> {
    let mut words: Vec<Word> = Vec::new();
    let mut last_word: Option<u32> = None;
    for (i, w) in t.words.iter().enumerate() {
        let (s, e) = t.offsets[i];
        let pred = preds.get(i).copied().unwrap_or(TokenPred::NONE);
        match (w, last_word) {
            (Some(w), Some(lw)) if *w == lw => {
                if let Some(last) = words.last_mut() {
                    last.end = e;
                }
            }
            _ => words.push(Word {
                start: s,
                end: e,
                label: pred.label,
                prob: pred.prob,
            }),
        }
        last_word = *w;
    }
    let mut ents: Vec<Entity> = Vec::new();
    let mut cur: Option<OpenEntity<'_>> = None;
    let flush = |cur: &mut Option<OpenEntity<'_>>, ents: &mut Vec<Entity>| {
        if let Some(c) = cur.take() {
            ents.push(c.finish());
        }
    };
    for w in words {
        let (prefix, ty) = split_label(labels.get(w.label).map(String::as_str).unwrap_or("O"));
        let open = |w: &Word| OpenEntity {
            start: w.start,
            end: w.end,
            ty,
            prob_sum: w.prob,
            n_words: 1,
        };
        match prefix {
            'B' => {
                flush(&mut cur, &mut ents);
                cur = Some(open(&w));
            }
            'I' => match &mut cur {
                Some(c) if c.ty == ty => {
                    c.end = w.end;
                    c.prob_sum += w.prob;
                    c.n_words += 1;
                }
                _ => {
                    flush(&mut cur, &mut ents);
                    cur = Some(open(&w));
                }
            },
            _ => flush(&mut cur, &mut ents),
        }
    }
    flush(&mut cur, &mut ents);
    ents
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_words_follow_conll_tokenisation() {
        let words = |text: &str| -> Vec<String> {
            NEWS_WORD
                .find_iter(text)
                .map(|m| m.as_str().to_string())
                .collect()
        };
        assert_eq!(
            words("U.S. troops, Stoltenberg-led NATO and Kishida's aides; O'Neill's 3.5%."),
            [
                "U.S.",
                "troops",
                ",",
                "Stoltenberg-led",
                "NATO",
                "and",
                "Kishida",
                "'s",
                "aides",
                ";",
                "O'Neill",
                "'s",
                "3.5",
                "%",
                "."
            ]
        );
        assert_eq!(
            words("Kishida’s “Japan”"),
            ["Kishida", "’s", "“", "Japan", "”"]
        );
        // Token offsets (chars) map to the news word that contains them.
        let s = "Ébé U.S. ok";
        let offsets = [(0, 3), (4, 5), (5, 6), (6, 7), (7, 8), (9, 11)];
        assert_eq!(
            news_word_ids(s, &offsets),
            [Some(0), Some(1), Some(1), Some(1), Some(1), Some(2)]
        );
    }

    #[test]
    fn iob_decoding() {
        let labels: Vec<String> = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
            .map(String::from)
            .to_vec();
        // "Vladimir Putin visited Kuril Islands": five words, one token each; "Is" continues.
        let t = Tokens {
            ids: vec![0; 6],
            offsets: vec![(0, 8), (9, 14), (15, 22), (23, 28), (29, 33), (33, 36)],
            words: vec![Some(0), Some(1), Some(2), Some(3), Some(4), Some(4)],
        };
        let pred = |label, prob| TokenPred {
            label,
            prob,
            centrality: 0,
        };
        let preds = vec![
            pred(1, 0.9),
            pred(2, 0.7),
            pred(0, 0.9),
            pred(4, 0.6),
            pred(4, 0.8),
            pred(0, 0.1),
        ];
        let e = decode_entities(&t, &preds, &labels);
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].start, e[0].end, e[0].label.as_str()), (0, 14, "PER"));
        assert!((e[0].score - 0.8).abs() < 1e-6);
        assert_eq!((e[1].start, e[1].end, e[1].label.as_str()), (23, 36, "LOC"));
    }

    #[test]
    fn entities_do_not_start_or_end_with_punctuation() {
        let ent = |start, end| Entity {
            start,
            end,
            label: "PER".into(),
            score: 0.9,
        };
        let s = "Dr. Abdul Ruff met U.S. envoys of Acme Inc. in “Tokyo”. .. Soviet-led";
        let mut es = vec![
            ent(2, 14),
            ent(19, 23),
            ent(34, 43),
            ent(47, 54),
            ent(56, 58),
            ent(59, 69),
        ];
        trim_entities(s, &mut es);
        let texts: Vec<String> = es
            .iter()
            .map(|e| s.chars().skip(e.start).take(e.end - e.start).collect())
            .collect();
        assert_eq!(
            texts,
            ["Abdul Ruff", "U.S.", "Acme Inc.", "Tokyo", "Soviet-led"]
        );
        // "Dr." is one word, as in CoNLL, so its dot cannot open the next entity.
        let words: Vec<&str> = NEWS_WORD
            .find_iter("Dr. Ruff")
            .map(|m| m.as_str())
            .collect();
        assert_eq!(words, ["Dr.", "Ruff"]);
    }

    #[test]
    fn directional_words_join_place_names() {
        let ent = |start, end, label: &str| Entity {
            start,
            end,
            label: label.into(),
            score: 0.9,
        };
        let s = "Japan claims the Northern Territories, not South Africa or North Korea.";
        let mut es = vec![ent(0, 5, "LOC"), ent(26, 37, "LOC"), ent(49, 55, "LOC")];
        extend_directional(s, &mut es);
        let texts: Vec<String> = es
            .iter()
            .map(|e| s.chars().skip(e.start).take(e.end - e.start).collect())
            .collect();
        assert_eq!(texts, ["Japan", "Northern Territories", "South Africa"]);
        // Not for people, not across another entity, not lower-case.
        let s = "the southern Kurils and North Putin";
        let mut es = vec![ent(13, 19, "LOC"), ent(30, 35, "PER")];
        extend_directional(s, &mut es);
        assert_eq!((es[0].start, es[1].start), (13, 30));
    }
}
