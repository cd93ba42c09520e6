//! The analysis tables ([`Aggregator`]): linked mentions streamed into `entity_stats`,
//! `cooccurrence` and `name_variants` rows.
//!
//! An entity is its canonical name and its entity label (the dominant label the corpus
//! index gives it, see `corpus.rs`), not the mention's NER label: "US" tagged LOC, MISC
//! and ORG is one `entity_stats` row, one side of a `cooccurrence` pair and one
//! `name_variants` entity, under `LOC`. `entity_stats` also carries the entity's gazetteer
//! fields (`entity_id`, `country_code`, `latitude`, `longitude`; null where unknown).
//!
//! Sentiment is the mentions' (`entities.polarity`, `entities.sentiment_label`: the
//! sentiment toward the mention from the target head, else the mention's sentence's):
//! * `entity_stats.mean_polarity`: the mean polarity of the entity's mentions;
//!   `n_positive`, `n_neutral`, `n_negative`: its mentions by sentiment label.
//! * `cooccurrence`, over the sentences mentioning both entities: `polarity_a` /
//!   `polarity_b` the mean, over those sentences, of the mean polarity of `entity_a`'s /
//!   `entity_b`'s mentions in the sentence; `mean_polarity` the mean over those sentences
//!   of the average of the two (= the mean of `polarity_a` and `polarity_b` when every
//!   mention has a polarity). With sentence sentiment all three equal the mean polarity of
//!   those sentences.

use std::collections::{BTreeMap, HashSet};

/// A mention ready for aggregation: its entity's name, label and place fields (not the
/// mention's own NER label: an entity counts once, under its dominant label).
#[derive(Debug, Clone)]
pub struct MentionRow<'a> {
    pub doc_id: &'a str,
    pub sent_idx: i64,
    pub surface: &'a str,
    pub entity: &'a str,
    pub label: &'a str,
    pub entity_id: Option<&'a str>,
    pub country_code: Option<&'a str>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub polarity: Option<f32>,
    pub sentiment: Option<&'a str>,
}

#[derive(Debug, Default, Clone)]
struct Acc {
    mentions: i64,
    sentences: HashSet<i64>,
    pol_sum: f64,
    pol_n: i64,
    pos: i64,
    neu: i64,
    neg: i64,
    first: i64,
    last: i64,
    documents: i64,
    /// Corpus scope: sentences summed over documents.
    n_sentences: i64,
}

impl Acc {
    fn add_mention(&mut self, polarity: Option<f32>, sentiment: Option<&str>) {
        if let Some(p) = polarity {
            self.pol_sum += f64::from(p);
            self.pol_n += 1;
        }
        match sentiment {
            Some("positive") => self.pos += 1,
            Some("neutral") => self.neu += 1,
            Some("negative") => self.neg += 1,
            _ => {}
        }
    }
}

/// A sum of polarities and how many were summed.
#[derive(Debug, Default, Clone, Copy)]
struct Mean {
    sum: f64,
    n: i64,
}

impl Mean {
    fn add(&mut self, x: Option<f64>) {
        if let Some(x) = x {
            self.sum += x;
            self.n += 1;
        }
    }

    fn get(&self) -> Option<f64> {
        (self.n > 0).then(|| self.sum / self.n as f64)
    }
}

/// Rows of `entity_stats` (columns as named).
#[derive(Debug, Default, Clone)]
pub struct StatsRows {
    pub scope: Vec<String>,
    pub doc_id: Vec<Option<String>>,
    pub entity: Vec<String>,
    pub label: Vec<String>,
    pub entity_id: Vec<Option<String>>,
    pub country_code: Vec<Option<String>>,
    pub latitude: Vec<Option<f64>>,
    pub longitude: Vec<Option<f64>>,
    pub mentions: Vec<i64>,
    pub documents: Vec<i64>,
    pub sentences: Vec<i64>,
    pub mean_polarity: Vec<Option<f64>>,
    pub n_positive: Vec<i64>,
    pub n_neutral: Vec<i64>,
    pub n_negative: Vec<i64>,
    pub first_sent: Vec<i64>,
    pub last_sent: Vec<i64>,
}

/// Rows of `cooccurrence`.
#[derive(Debug, Default, Clone)]
pub struct CoocRows {
    pub entity_a: Vec<String>,
    pub label_a: Vec<String>,
    pub entity_b: Vec<String>,
    pub label_b: Vec<String>,
    pub sentences: Vec<i64>,
    pub documents: Vec<i64>,
    pub mean_polarity: Vec<Option<f64>>,
    pub polarity_a: Vec<Option<f64>>,
    pub polarity_b: Vec<Option<f64>>,
}

/// Rows of `name_variants`.
#[derive(Debug, Default, Clone)]
pub struct VariantRows {
    pub entity: Vec<String>,
    pub label: Vec<String>,
    pub doc_id: Vec<String>,
    pub surface: Vec<String>,
    pub mentions: Vec<i64>,
}

/// An entity of the analysis tables: its canonical name and label (ordered by name, then
/// label).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct EntityId {
    entity: String,
    label: String,
}

/// An entity's gazetteer fields (`entity_stats.entity_id` ...): the same for every
/// mention of the entity, as the corpus index resolves them.
#[derive(Debug, Default, Clone)]
struct Place {
    id: Option<String>,
    country_code: Option<String>,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

/// The entities a sentence mentions, each with the polarities of its mentions there.
#[derive(Debug, Default, Clone)]
struct SentenceEntities {
    entities: Vec<(EntityId, Mean)>,
}

#[derive(Debug, Default, Clone)]
struct Pair {
    sentences: i64,
    documents: i64,
    /// Over the sentences: the mean of the two entities' mention polarities, and each one's.
    both: Mean,
    a: Mean,
    b: Mean,
    last_doc: Option<String>,
}

/// Streams linked mentions (grouped by document, as the pipeline writes them) into the
/// analysis tables. Memory: the current document plus one entry per distinct entity and
/// per co-occurring pair of the corpus.
#[derive(Debug, Default)]
pub struct Aggregator {
    doc: Option<String>,
    doc_acc: BTreeMap<EntityId, Acc>,
    doc_variants: BTreeMap<(EntityId, String), i64>,
    doc_sents: BTreeMap<i64, SentenceEntities>,
    corpus: BTreeMap<EntityId, Acc>,
    places: BTreeMap<EntityId, Place>,
    pairs: BTreeMap<(EntityId, EntityId), Pair>,
    pub stats: StatsRows,
    pub variants: VariantRows,
}

impl Aggregator {
    pub fn push(&mut self, m: &MentionRow<'_>) {
        if self.doc.as_deref() != Some(m.doc_id) {
            self.flush_doc();
            self.doc = Some(m.doc_id.to_string());
        }
        let id = EntityId {
            entity: m.entity.to_string(),
            label: m.label.to_string(),
        };
        if m.entity_id.is_some() || m.country_code.is_some() {
            self.places.entry(id.clone()).or_insert_with(|| Place {
                id: m.entity_id.map(str::to_string),
                country_code: m.country_code.map(str::to_string),
                latitude: m.latitude,
                longitude: m.longitude,
            });
        }
        let acc = self.doc_acc.entry(id.clone()).or_insert_with(|| Acc {
            first: m.sent_idx,
            last: m.sent_idx,
            ..Default::default()
        });
        acc.mentions += 1;
        acc.first = acc.first.min(m.sent_idx);
        acc.last = acc.last.max(m.sent_idx);
        acc.sentences.insert(m.sent_idx);
        acc.add_mention(m.polarity, m.sentiment);
        *self
            .doc_variants
            .entry((id.clone(), m.surface.to_string()))
            .or_default() += 1;
        let s = self.doc_sents.entry(m.sent_idx).or_default();
        let polarity = m.polarity.map(f64::from);
        match s.entities.iter_mut().find(|(e, _)| *e == id) {
            Some((_, mean)) => mean.add(polarity),
            None => {
                let mut mean = Mean::default();
                mean.add(polarity);
                s.entities.push((id, mean));
            }
        }
    }

    fn flush_doc(&mut self) {
        let Some(doc) = self.doc.take() else { return };
        for (id, acc) in std::mem::take(&mut self.doc_acc) {
            let c = self.corpus.entry(id.clone()).or_insert_with(|| Acc {
                first: acc.first,
                last: acc.last,
                ..Default::default()
            });
            c.mentions += acc.mentions;
            c.documents += 1;
            c.first = c.first.min(acc.first);
            c.last = c.last.max(acc.last);
            c.pol_sum += acc.pol_sum;
            c.pol_n += acc.pol_n;
            c.pos += acc.pos;
            c.neu += acc.neu;
            c.neg += acc.neg;
            let n_sent = acc.sentences.len() as i64;
            c.n_sentences += n_sent;
            push_stats(
                &mut self.stats,
                "document",
                Some(&doc),
                (&id, self.places.get(&id)),
                &acc,
                1,
                n_sent,
            );
        }
        for ((id, surface), n) in std::mem::take(&mut self.doc_variants) {
            self.variants.entity.push(id.entity);
            self.variants.label.push(id.label);
            self.variants.doc_id.push(doc.clone());
            self.variants.surface.push(surface);
            self.variants.mentions.push(n);
        }
        for (_, sent) in std::mem::take(&mut self.doc_sents) {
            let mut ids = sent.entities;
            ids.sort_by(|x, y| x.0.cmp(&y.0));
            for i in 0..ids.len() {
                for j in i + 1..ids.len() {
                    let (pa, pb) = (ids[i].1.get(), ids[j].1.get());
                    let p = self
                        .pairs
                        .entry((ids[i].0.clone(), ids[j].0.clone()))
                        .or_default();
                    p.sentences += 1;
                    p.a.add(pa);
                    p.b.add(pb);
                    p.both.add(pa.zip(pb).map(|(a, b)| (a + b) / 2.0));
                    if p.last_doc.as_deref() != Some(doc.as_str()) {
                        p.documents += 1;
                        p.last_doc = Some(doc.clone());
                    }
                }
            }
        }
    }

    /// Finish: the corpus-scope rows of `entity_stats` follow the document rows.
    pub fn finish(mut self) -> (StatsRows, CoocRows, VariantRows) {
        self.flush_doc();
        let corpus = std::mem::take(&mut self.corpus);
        for (id, acc) in &corpus {
            push_stats(
                &mut self.stats,
                "corpus",
                None,
                (id, self.places.get(id)),
                acc,
                acc.documents,
                acc.n_sentences,
            );
        }
        let mut cooc = CoocRows::default();
        for ((a, b), p) in std::mem::take(&mut self.pairs) {
            cooc.entity_a.push(a.entity);
            cooc.label_a.push(a.label);
            cooc.entity_b.push(b.entity);
            cooc.label_b.push(b.label);
            cooc.sentences.push(p.sentences);
            cooc.documents.push(p.documents);
            cooc.mean_polarity.push(p.both.get());
            cooc.polarity_a.push(p.a.get());
            cooc.polarity_b.push(p.b.get());
        }
        (self.stats, cooc, self.variants)
    }
}

fn push_stats(
    s: &mut StatsRows,
    scope: &str,
    doc: Option<&str>,
    (id, place): (&EntityId, Option<&Place>),
    acc: &Acc,
    documents: i64,
    n_sent: i64,
) {
    s.scope.push(scope.to_string());
    s.doc_id.push(doc.map(str::to_string));
    s.entity.push(id.entity.clone());
    s.label.push(id.label.clone());
    let place = place.cloned().unwrap_or_default();
    s.entity_id.push(place.id);
    s.country_code.push(place.country_code);
    s.latitude.push(place.latitude);
    s.longitude.push(place.longitude);
    s.mentions.push(acc.mentions);
    s.documents.push(documents);
    s.sentences.push(n_sent);
    s.mean_polarity
        .push((acc.pol_n > 0).then(|| acc.pol_sum / acc.pol_n as f64));
    s.n_positive.push(acc.pos);
    s.n_neutral.push(acc.neu);
    s.n_negative.push(acc.neg);
    s.first_sent.push(acc.first);
    s.last_sent.push(acc.last);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregator_counts_per_document_and_corpus() {
        let m = |doc, sent, surface, entity, pol: f32| MentionRow {
            doc_id: doc,
            sent_idx: sent,
            surface,
            entity,
            label: "PER",
            entity_id: None,
            country_code: None,
            latitude: None,
            longitude: None,
            polarity: Some(pol),
            sentiment: Some(if pol > 0.0 { "positive" } else { "negative" }),
        };
        let mut agg = Aggregator::default();
        for row in [
            m("a", 0, "Vladimir Putin", "Vladimir Putin", -0.5),
            m("a", 0, "Kishida", "Fumio Kishida", -0.5),
            m("a", 2, "Putin", "Vladimir Putin", 0.9),
            m("a", 2, "Putin", "Vladimir Putin", 0.9),
            m("b", 1, "Putin", "Vladimir Putin", -0.1),
            m("b", 1, "Kishida", "Fumio Kishida", -0.1),
        ] {
            agg.push(&row);
        }
        let (stats, cooc, variants) = agg.finish();
        // Document rows first (a: Kishida, Putin; b: Kishida, Putin), then corpus rows.
        assert_eq!(
            stats.scope,
            ["document", "document", "document", "document", "corpus", "corpus"]
        );
        let putin_a = 1;
        assert_eq!(stats.entity[putin_a], "Vladimir Putin");
        assert_eq!(stats.mentions[putin_a], 3);
        assert_eq!(stats.sentences[putin_a], 2);
        // Counts and mean are over mentions (two positive ones in sentence 2).
        assert_eq!(stats.n_positive[putin_a], 2);
        assert_eq!(stats.n_neutral[putin_a], 0);
        assert_eq!(stats.n_negative[putin_a], 1);
        assert_eq!(
            (stats.first_sent[putin_a], stats.last_sent[putin_a]),
            (0, 2)
        );
        let mp = stats.mean_polarity[putin_a].expect("mean");
        assert!((mp - 1.3 / 3.0).abs() < 1e-6, "{mp}");
        let putin_all = 5;
        assert_eq!(stats.doc_id[putin_all], None);
        assert_eq!(stats.mentions[putin_all], 4);
        assert_eq!(stats.documents[putin_all], 2);
        assert_eq!(stats.sentences[putin_all], 3);
        // One pair, in two sentences of two documents.
        assert_eq!(cooc.entity_a, ["Fumio Kishida"]);
        assert_eq!(cooc.entity_b, ["Vladimir Putin"]);
        assert_eq!((cooc.sentences[0], cooc.documents[0]), (2, 2));
        let cp = cooc.mean_polarity[0].expect("mean");
        assert!((cp + 0.3).abs() < 1e-6, "{cp}");
        let (pa, pb) = (cooc.polarity_a[0], cooc.polarity_b[0]);
        assert!((pa.expect("a") + 0.3).abs() < 1e-6 && (pb.expect("b") + 0.3).abs() < 1e-6);
        // Surface forms per document.
        let a_putin: Vec<(String, i64)> = (0..variants.entity.len())
            .filter(|&i| variants.doc_id[i] == "a" && variants.entity[i] == "Vladimir Putin")
            .map(|i| (variants.surface[i].clone(), variants.mentions[i]))
            .collect();
        assert_eq!(
            a_putin,
            [("Putin".to_string(), 2), ("Vladimir Putin".to_string(), 1)]
        );
    }

    #[test]
    fn mention_sentiment_tells_entities_of_one_sentence_apart() {
        // "Japan condemned Russia's invasion of Ukraine": three entities, one sentence, each
        // with the sentiment toward it; Russia twice in a second sentence.
        let m = |sent, entity, label, pol: Option<f32>| MentionRow {
            doc_id: "d",
            sent_idx: sent,
            surface: entity,
            entity,
            label: "LOC",
            entity_id: None,
            country_code: None,
            latitude: None,
            longitude: None,
            polarity: pol,
            sentiment: Some(label),
        };
        let mut agg = Aggregator::default();
        for row in [
            m(0, "Japan", "neutral", Some(0.1)),
            m(0, "Russia", "negative", Some(-0.8)),
            m(0, "Ukraine", "positive", Some(0.4)),
            m(1, "Russia", "negative", Some(-0.6)),
            m(1, "Russia", "neutral", Some(0.0)),
            m(1, "Japan", "neutral", None),
        ] {
            agg.push(&row);
        }
        let (stats, cooc, _) = agg.finish();
        let row = |scope: &str, e: &str| {
            (0..stats.entity.len())
                .find(|&i| stats.scope[i] == scope && stats.entity[i] == e)
                .expect("row")
        };
        let (japan, russia) = (row("corpus", "Japan"), row("corpus", "Russia"));
        assert_eq!(
            (
                stats.n_positive[russia],
                stats.n_neutral[russia],
                stats.n_negative[russia]
            ),
            (0, 1, 2)
        );
        assert_eq!((stats.mentions[russia], stats.sentences[russia]), (3, 2));
        let mp = stats.mean_polarity[russia].expect("mean");
        assert!((mp + 1.4 / 3.0).abs() < 1e-6, "{mp}");
        // A mention without a polarity counts by its label, not in the mean.
        assert_eq!(stats.n_neutral[japan], 2);
        let mp = stats.mean_polarity[japan].expect("mean");
        assert!((mp - 0.1).abs() < 1e-6, "{mp}");
        // Pairs, each over its sentences: Japan–Russia in sentences 0 and 1.
        let pair = |a: &str, b: &str| {
            (0..cooc.entity_a.len())
                .find(|&i| cooc.entity_a[i] == a && cooc.entity_b[i] == b)
                .expect("pair")
        };
        let jr = pair("Japan", "Russia");
        assert_eq!(cooc.sentences[jr], 2);
        let close = |x: Option<f64>, want: f64| (x.expect("value") - want).abs() < 1e-6;
        // Japan: 0.1 (sentence 1 has no polarity for it); Russia: mean of −0.8 and
        // (−0.6 + 0.0) / 2; the average of both only where both have one (sentence 0).
        assert!(close(cooc.polarity_a[jr], 0.1), "{:?}", cooc.polarity_a[jr]);
        assert!(
            close(cooc.polarity_b[jr], -0.55),
            "{:?}",
            cooc.polarity_b[jr]
        );
        assert!(
            close(cooc.mean_polarity[jr], -0.35),
            "{:?}",
            cooc.mean_polarity[jr]
        );
        let ru = pair("Russia", "Ukraine");
        assert!(close(cooc.polarity_a[ru], -0.8) && close(cooc.polarity_b[ru], 0.4));
        assert!(close(cooc.mean_polarity[ru], -0.2));
    }
}
