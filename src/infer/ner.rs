//! Named entities: news-word tokenisation (CoNLL style), IOB decoding of token labels
//! into entities, and the clean-up of entity spans (punctuation, direction words).

use std::sync::LazyLock;

use super::encode::Tokens;
use super::model::NerDecoding;
use super::Entity;
use crate::link::compound_affix_start;

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
/// A hyphenated compound ends where the name does: "US-led" gives "US", "Obama-era"
/// "Obama" (see [`compound_affix_start`]: the affix is not tagged, only the news word's
/// first piece is), while names stay whole ("Kim Jong-un", "Jean-Claude Juncker").
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
        let span: String = chars[s..t].iter().collect();
        if let Some(cut) = compound_affix_start(&span) {
            t = s + span[..cut].chars().count();
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

/// The NER label probabilities of a sentence's tokens, each from the window where the
/// token is most central.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct TokenProbs {
    n_labels: usize,
    /// `[token, label]`, row-major.
    probs: Vec<f32>,
    /// Per token: tokens of context on the shorter side within its window (`-1`: none yet).
    centrality: Vec<i64>,
}

impl TokenProbs {
    pub(super) fn new(n_tokens: usize, n_labels: usize) -> Self {
        TokenProbs {
            n_labels,
            probs: vec![0.0; n_tokens * n_labels],
            centrality: vec![-1; n_tokens],
        }
    }

    /// Keep `probs` for token `t` if its window gives it more context than the last one.
    pub(super) fn offer(&mut self, t: usize, centrality: i64, probs: &[f32]) {
        let n = self.n_labels;
        if probs.len() != n || self.centrality.get(t).is_none_or(|&c| centrality <= c) {
            return;
        }
        self.centrality[t] = centrality;
        self.probs[t * n..(t + 1) * n].copy_from_slice(probs);
    }

    /// The label probabilities of token `t`, if some window covered it.
    fn row(&self, t: usize) -> Option<&[f32]> {
        let n = self.n_labels;
        (*self.centrality.get(t)? >= 0).then(|| &self.probs[t * n..(t + 1) * n])
    }
}

/// The index of the largest value (the first of equal ones).
fn argmax(row: &[f32]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f32::NEG_INFINITY), |best, (i, &p)| {
            if p > best.1 {
                (i, p)
            } else {
                best
            }
        })
        .0
}

/// Which label may follow which in IOB2: `allowed[prev][cur]`, and which may open a
/// sentence. An `I-X` must follow `B-X` or `I-X`; labels of a type without a `B-` label
/// (the IO scheme) are not constrained.
struct Transitions {
    allowed: Vec<Vec<bool>>,
    start: Vec<bool>,
}

impl Transitions {
    fn iob2(labels: &[String]) -> Self {
        let split: Vec<(char, &str)> = labels.iter().map(|l| split_label(l)).collect();
        let has_b = |ty: &str| split.iter().any(|&(p, t)| p == 'B' && t == ty);
        let needs_open: Vec<bool> = split.iter().map(|&(p, t)| p == 'I' && has_b(t)).collect();
        let allowed = split
            .iter()
            .map(|&(pp, pt)| {
                split
                    .iter()
                    .zip(&needs_open)
                    .map(|(&(_, t), &needs)| !needs || (matches!(pp, 'B' | 'I') && pt == t))
                    .collect()
            })
            .collect();
        Transitions {
            allowed,
            start: needs_open.iter().map(|n| !n).collect(),
        }
    }
}

/// The most probable label sequence that is valid IOB2 (see [`Transitions`]): a Viterbi
/// pass over the log-probabilities of `rows` (one row of label probabilities per word).
/// Falls back to each row's best label when no valid sequence exists (a label set where
/// every label needs an opener).
pub(super) fn viterbi(rows: &[&[f32]], labels: &[String]) -> Vec<usize> {
    let n = labels.len();
    if rows.is_empty() || n == 0 {
        return Vec::new();
    }
    let tr = Transitions::iob2(labels);
    let log = |p: f32| p.max(1e-12).ln();
    let mut score: Vec<f32> = (0..n)
        .map(|k| {
            if tr.start[k] {
                rows[0].get(k).map_or(f32::NEG_INFINITY, |&p| log(p))
            } else {
                f32::NEG_INFINITY
            }
        })
        .collect();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(rows.len());
    for row in &rows[1..] {
        let mut next = vec![f32::NEG_INFINITY; n];
        let mut from = vec![0usize; n];
        for k in 0..n {
            let emit = row.get(k).map_or(f32::NEG_INFINITY, |&p| log(p));
            for (j, &s) in score.iter().enumerate() {
                if tr.allowed[j][k] && s + emit > next[k] {
                    next[k] = s + emit;
                    from[k] = j;
                }
            }
        }
        back.push(from);
        score = next;
    }
    if score.iter().all(|s| *s == f32::NEG_INFINITY) {
        return rows.iter().map(|r| argmax(r)).collect();
    }
    let mut path = vec![argmax(&score)];
    for from in back.iter().rev() {
        let last = *path.last().unwrap_or(&0);
        path.push(from[last]);
    }
    path.reverse();
    path
}

/// A word (news word, see [`NEWS_WORD`]) with the label chosen for it.
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
            sentiment: None,
        }
    }
}

/// Group word-level IOB predictions into entities. The first sub-token of a word gives its
/// label probabilities; [`NerDecoding::Viterbi`] picks the best valid IOB2 sequence,
/// [`NerDecoding::Argmax`] each word's best label (then an I- tag that does not continue an
/// entity of its type starts one). A token no window covered reads as `O`.
pub(super) fn decode_entities(
    t: &Tokens,
    probs: &TokenProbs,
    labels: &[String],
    decoding: NerDecoding,
) -> Vec<Entity> {
    let n_labels = labels.len();
    let mut only_o = vec![0.0f32; n_labels];
    if let Some(o) = labels.iter().position(|l| l == "O") {
        only_o[o] = 1.0;
    }
    // Per word: character span and the label probabilities of its first sub-token.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    let mut rows: Vec<&[f32]> = Vec::new();
    let mut last_word: Option<u32> = None;
    for (i, w) in t.words.iter().enumerate() {
        let (s, e) = t.offsets[i];
        match (w, last_word) {
            (Some(w), Some(lw)) if *w == lw => {
                if let Some(last) = spans.last_mut() {
                    last.1 = e;
                }
            }
            _ => {
                spans.push((s, e));
                rows.push(probs.row(i).unwrap_or(&only_o));
            }
        }
        last_word = *w;
    }
    let chosen: Vec<usize> = match decoding {
        NerDecoding::Viterbi => viterbi(&rows, labels),
        NerDecoding::Argmax => rows.iter().map(|r| argmax(r)).collect(),
    };
    let words = spans
        .iter()
        .zip(&rows)
        .zip(&chosen)
        .map(|((&(start, end), row), &label)| Word {
            start,
            end,
            label,
            prob: row.get(label).copied().unwrap_or(0.0),
        });
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

    fn lbls(ls: &[&str]) -> Vec<String> {
        ls.iter().map(|l| l.to_string()).collect()
    }

    /// Token probabilities: per token, the given label gets `p`, the others share the rest.
    fn probs_of(n_labels: usize, preds: &[(usize, f32)]) -> TokenProbs {
        let mut tp = TokenProbs::new(preds.len(), n_labels);
        for (t, &(label, p)) in preds.iter().enumerate() {
            let mut row = vec![(1.0 - p) / (n_labels - 1) as f32; n_labels];
            row[label] = p;
            tp.offer(t, 0, &row);
        }
        tp
    }

    /// One token per word.
    fn one_token_words(offsets: Vec<(usize, usize)>) -> Tokens {
        let n = offsets.len();
        Tokens {
            ids: vec![0; n],
            offsets,
            words: (0..n as u32).map(Some).collect(),
            casing: Vec::new(),
        }
    }

    #[test]
    fn iob_decoding() {
        let labels = lbls(&["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]);
        // "Vladimir Putin visited Kuril Islands": five words, one token each; "Is" continues.
        let t = Tokens {
            ids: vec![0; 6],
            offsets: vec![(0, 8), (9, 14), (15, 22), (23, 28), (29, 33), (33, 36)],
            words: vec![Some(0), Some(1), Some(2), Some(3), Some(4), Some(4)],
            casing: Vec::new(),
        };
        let probs = probs_of(
            5,
            &[(1, 0.9), (2, 0.7), (0, 0.9), (4, 0.6), (4, 0.8), (0, 0.1)],
        );
        // Argmax: "Kuril", I-LOC after O, opens an entity (conlleval's reading).
        let e = decode_entities(&t, &probs, &labels, NerDecoding::Argmax);
        assert_eq!(e.len(), 2);
        assert_eq!((e[0].start, e[0].end, e[0].label.as_str()), (0, 14, "PER"));
        assert!((e[0].score - 0.8).abs() < 1e-6);
        assert_eq!((e[1].start, e[1].end, e[1].label.as_str()), (23, 36, "LOC"));
        // Viterbi: B-LOC I-LOC (0.1 × 0.8) beats every other valid reading of the two words.
        let e = decode_entities(&t, &probs, &labels, NerDecoding::Viterbi);
        assert_eq!(e.len(), 2);
        assert_eq!((e[1].start, e[1].end, e[1].label.as_str()), (23, 36, "LOC"));
        assert!((e[1].score - 0.45).abs() < 1e-6);
    }

    #[test]
    fn viterbi_never_opens_an_entity_with_an_i_tag() {
        let labels = lbls(&["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]);
        // "said Reuters": O, then I-PER as the best label of the second word.
        let t = one_token_words(vec![(0, 4), (5, 12)]);
        let mut probs = TokenProbs::new(2, 5);
        probs.offer(0, 0, &[0.9, 0.05, 0.01, 0.03, 0.01]);
        probs.offer(1, 0, &[0.3, 0.1, 0.6, 0.0, 0.0]);
        let silent = decode_entities(&t, &probs, &labels, NerDecoding::Argmax);
        assert_eq!(silent.len(), 1, "argmax: the I-PER after O opens an entity");
        let e = decode_entities(&t, &probs, &labels, NerDecoding::Viterbi);
        // O O (0.9 × 0.3) beats O B-PER (0.9 × 0.1) and B-PER I-PER (0.05 × 0.6).
        assert!(e.is_empty(), "{e:?}");
        // Nor after an entity of another type, nor at the start of a sentence.
        let rows: Vec<&[f32]> = vec![&[0.1, 0.0, 0.0, 0.9, 0.0], &[0.2, 0.0, 0.7, 0.0, 0.1]];
        assert_eq!(viterbi(&rows, &labels), [3, 0]);
        let rows: Vec<&[f32]> = vec![&[0.3, 0.2, 0.5, 0.0, 0.0]];
        assert_eq!(viterbi(&rows, &labels), [0]);
    }

    #[test]
    fn viterbi_chooses_the_best_valid_sequence() {
        let labels = lbls(&["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]);
        // Word 1 alone prefers B-LOC, but B-PER I-PER (0.45 × 0.9) beats B-LOC O
        // (0.55 × 0.05) and B-LOC I-LOC (0.55 × 0.05): the whole sequence decides.
        let rows: Vec<&[f32]> = vec![&[0.0, 0.45, 0.0, 0.55, 0.0], &[0.05, 0.0, 0.9, 0.0, 0.05]];
        assert_eq!(viterbi(&rows, &labels), [1, 2]);
        let t = one_token_words(vec![(0, 5), (6, 11)]);
        let mut probs = TokenProbs::new(2, 5);
        probs.offer(0, 0, rows[0]);
        probs.offer(1, 0, rows[1]);
        let e = decode_entities(&t, &probs, &labels, NerDecoding::Viterbi);
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].start, e[0].end, e[0].label.as_str()), (0, 11, "PER"));
        assert!((e[0].score - 0.675).abs() < 1e-6);
        // A window with more context replaces a token's probabilities; one with less not.
        probs.offer(1, -1, &[1.0, 0.0, 0.0, 0.0, 0.0]);
        probs.offer(0, 3, &[1.0, 0.0, 0.0, 0.0, 0.0]);
        assert_eq!(probs.row(1), Some(rows[1]));
        assert_eq!(probs.row(0), Some(&[1.0, 0.0, 0.0, 0.0, 0.0][..]));
        // IO labels (no B- for a type) are not constrained.
        let io = lbls(&["O", "PER", "LOC"]);
        let rows: Vec<&[f32]> = vec![&[0.8, 0.1, 0.1], &[0.1, 0.1, 0.8]];
        assert_eq!(viterbi(&rows, &io), [0, 2]);
        assert!(viterbi(&[], &io).is_empty());
    }

    #[test]
    fn entities_do_not_start_or_end_with_punctuation() {
        let ent = |start, end| Entity {
            start,
            end,
            label: "PER".into(),
            score: 0.9,
            sentiment: None,
        };
        let s =
            "Dr. Abdul Ruff met U.S. envoys of Acme Inc. in “Tokyo”. .. Soviet-led and Kim Jong-un";
        let mut es = vec![
            ent(2, 14),
            ent(19, 23),
            ent(34, 43),
            ent(47, 54),
            ent(56, 58),
            ent(59, 69),
            ent(74, 85),
        ];
        trim_entities(s, &mut es);
        let texts: Vec<String> = es
            .iter()
            .map(|e| s.chars().skip(e.start).take(e.end - e.start).collect())
            .collect();
        assert_eq!(
            texts,
            [
                "Abdul Ruff",
                "U.S.",
                "Acme Inc.",
                "Tokyo",
                "Soviet",
                "Kim Jong-un"
            ]
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
            sentiment: None,
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
