//! The analysis tables ([`Aggregator`]): linked mentions streamed into `entity_stats`,
//! `cooccurrence` and `name_variants` rows.

use std::collections::{BTreeMap, HashSet};

/// A mention ready for aggregation.
#[derive(Debug, Clone)]
pub struct MentionRow<'a> {
    pub doc_id: &'a str,
    pub sent_idx: i64,
    pub surface: &'a str,
    pub entity: &'a str,
    pub label: &'a str,
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
    neg: i64,
    first: i64,
    last: i64,
    documents: i64,
    /// Corpus scope: sentences summed over documents.
    n_sentences: i64,
}

impl Acc {
    fn add_sentence(&mut self, polarity: Option<f32>, sentiment: Option<&str>) {
        if let Some(p) = polarity {
            self.pol_sum += f64::from(p);
            self.pol_n += 1;
        }
        match sentiment {
            Some("positive") => self.pos += 1,
            Some("negative") => self.neg += 1,
            _ => {}
        }
    }
}

/// Rows of `entity_stats` (columns as named).
#[derive(Debug, Default, Clone)]
pub struct StatsRows {
    pub scope: Vec<String>,
    pub doc_id: Vec<Option<String>>,
    pub entity: Vec<String>,
    pub label: Vec<String>,
    pub mentions: Vec<i64>,
    pub documents: Vec<i64>,
    pub sentences: Vec<i64>,
    pub mean_polarity: Vec<Option<f64>>,
    pub n_positive: Vec<i64>,
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

/// A sentence's polarity and the entities it mentions.
#[derive(Debug, Clone)]
struct SentenceEntities {
    polarity: Option<f32>,
    entities: Vec<EntityId>,
}

#[derive(Debug, Default, Clone)]
struct Pair {
    sentences: i64,
    documents: i64,
    pol_sum: f64,
    pol_n: i64,
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
        let acc = self.doc_acc.entry(id.clone()).or_insert_with(|| Acc {
            first: m.sent_idx,
            last: m.sent_idx,
            ..Default::default()
        });
        acc.mentions += 1;
        acc.first = acc.first.min(m.sent_idx);
        acc.last = acc.last.max(m.sent_idx);
        if acc.sentences.insert(m.sent_idx) {
            acc.add_sentence(m.polarity, m.sentiment);
        }
        *self
            .doc_variants
            .entry((id.clone(), m.surface.to_string()))
            .or_default() += 1;
        let s = self
            .doc_sents
            .entry(m.sent_idx)
            .or_insert_with(|| SentenceEntities {
                polarity: m.polarity,
                entities: Vec::new(),
            });
        if !s.entities.contains(&id) {
            s.entities.push(id);
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
            c.neg += acc.neg;
            let n_sent = acc.sentences.len() as i64;
            c.n_sentences += n_sent;
            push_stats(
                &mut self.stats,
                "document",
                Some(&doc),
                &id,
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
            let (pol, mut ids) = (sent.polarity, sent.entities);
            ids.sort();
            for i in 0..ids.len() {
                for j in i + 1..ids.len() {
                    let p = self
                        .pairs
                        .entry((ids[i].clone(), ids[j].clone()))
                        .or_default();
                    p.sentences += 1;
                    if let Some(x) = pol {
                        p.pol_sum += f64::from(x);
                        p.pol_n += 1;
                    }
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
                id,
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
            cooc.mean_polarity
                .push((p.pol_n > 0).then(|| p.pol_sum / p.pol_n as f64));
        }
        (self.stats, cooc, self.variants)
    }
}

fn push_stats(
    s: &mut StatsRows,
    scope: &str,
    doc: Option<&str>,
    id: &EntityId,
    acc: &Acc,
    documents: i64,
    n_sent: i64,
) {
    s.scope.push(scope.to_string());
    s.doc_id.push(doc.map(str::to_string));
    s.entity.push(id.entity.clone());
    s.label.push(id.label.clone());
    s.mentions.push(acc.mentions);
    s.documents.push(documents);
    s.sentences.push(n_sent);
    s.mean_polarity
        .push((acc.pol_n > 0).then(|| acc.pol_sum / acc.pol_n as f64));
    s.n_positive.push(acc.pos);
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
        assert_eq!(stats.n_positive[putin_a], 1);
        assert_eq!(stats.n_negative[putin_a], 1);
        assert_eq!(
            (stats.first_sent[putin_a], stats.last_sent[putin_a]),
            (0, 2)
        );
        let mp = stats.mean_polarity[putin_a].expect("mean");
        assert!((mp - 0.2).abs() < 1e-6, "{mp}");
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
}
