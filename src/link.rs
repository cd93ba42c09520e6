//! Stage 5 — link: entity mentions become entities, and entities become analysis tables.
//!
//! * Within a document ([`Linker::link_doc`]): titles and possessives are stripped
//!   ("President Putin", "Kishida's"); a person's surname or first name alone links to the
//!   one full name of the document that ends or starts with it ("Putin" → "Vladimir
//!   Putin"); an acronym links to the long form the document defines ("Terminal
//!   High-Altitude Air Defense (THAAD)").
//! * A user alias table ([`AliasTable`], CSV or TOML) maps what no rule can know
//!   ("Northern Territories" → "Kuril Islands"); it is applied first.
//! * Across the corpus ([`CorpusIndex`]): entities are merged by normalised name and label;
//!   a surname left alone in a document links to the corpus' one full name with that
//!   surname; each entity is named by its most complete, most frequent form.
//! * [`Aggregator`] then turns linked mentions into `entity_stats`, `cooccurrence` and
//!   `name_variants`. The surface form of every mention is kept: the name an outlet
//!   chooses is itself the signal.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

use crate::error::{Error, Result};

/// Where an entity name comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AliasSource {
    /// The user's alias table.
    Table,
    /// A linking rule (title/possessive stripped, surname, acronym, corpus merge).
    Rule,
    /// The mention's own text.
    None,
}

impl AliasSource {
    pub fn as_str(self) -> &'static str {
        match self {
            AliasSource::Table => "table",
            AliasSource::Rule => "rule",
            AliasSource::None => "none",
        }
    }
}

/// A user alias table: alias → canonical name, optionally with the entity's label.
#[derive(Debug, Clone, Default)]
pub struct AliasTable {
    map: HashMap<String, (String, Option<String>)>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum TomlAlias {
    Name(String),
    Full {
        canonical: String,
        label: Option<String>,
    },
}

#[derive(Deserialize)]
struct TomlFile {
    aliases: BTreeMap<String, TomlAlias>,
}

impl AliasTable {
    /// Build from (alias, canonical, label) triples.
    pub fn from_entries<I, S>(entries: I) -> Self
    where
        I: IntoIterator<Item = (S, S, Option<S>)>,
        S: Into<String>,
    {
        let mut map = HashMap::new();
        for (alias, canonical, label) in entries {
            let alias: String = alias.into();
            let canonical: String = canonical.into();
            map.insert(
                name_key(&normalise(&alias, "")),
                (
                    canonical.trim().to_string(),
                    label.map(|l| l.into().to_uppercase()),
                ),
            );
        }
        AliasTable { map }
    }

    /// Read a table: CSV with a header `alias,canonical[,label]`, or TOML with an
    /// `[aliases]` table (`"Northern Territories" = "Kuril Islands"` or
    /// `"Tokyo" = { canonical = "Government of Japan", label = "ORG" }`).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io("cannot read", path, e))?;
        let bad = |reason: String| Error::Input {
            path: path.to_path_buf(),
            reason,
        };
        let is_toml = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        let mut entries = Vec::new();
        if is_toml {
            let f: TomlFile =
                toml::from_str(&text).map_err(|e| bad(format!("invalid alias table: {e}")))?;
            for (alias, v) in f.aliases {
                match v {
                    TomlAlias::Name(c) => entries.push((alias, c, None)),
                    TomlAlias::Full { canonical, label } => entries.push((alias, canonical, label)),
                }
            }
        } else {
            let mut rdr = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .flexible(true)
                .comment(Some(b'#'))
                .from_reader(text.as_bytes());
            let headers = rdr
                .headers()
                .map_err(|e| bad(format!("invalid alias table: {e}")))?
                .clone();
            let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
            let (Some(a), Some(c)) = (col("alias"), col("canonical")) else {
                return Err(bad(
                    "alias table CSV needs a header with 'alias' and 'canonical' (and optionally 'label')"
                        .into(),
                ));
            };
            let l = col("label");
            for (i, rec) in rdr.records().enumerate() {
                let rec = rec.map_err(|e| bad(format!("line {}: {e}", i + 2)))?;
                let alias = rec.get(a).unwrap_or("").to_string();
                let canonical = rec.get(c).unwrap_or("").to_string();
                if alias.is_empty() || canonical.is_empty() {
                    return Err(bad(format!(
                        "line {}: empty alias or canonical name",
                        i + 2
                    )));
                }
                let label = l
                    .and_then(|l| rec.get(l))
                    .filter(|s| !s.is_empty())
                    .map(str::to_string);
                entries.push((alias, canonical, label));
            }
        }
        Ok(Self::from_entries(entries))
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    fn lookup(&self, name: &str) -> Option<&(String, Option<String>)> {
        self.map.get(&name_key(name))
    }
}

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
/// Suffix words that do the same ("Soviet-born", "American-style"), and function words a
/// hyphen used as a dash glues to a name ("Japan-though").
const NAME_SUFFIXES: [&str; 16] = [
    "led", "held", "born", "style", "made", "run", "bound", "wide", "though", "his", "her", "its",
    "their", "which", "who", "and",
];

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
    let last_start = s.rfind(' ').map_or(0, |i| i + 1);
    if let Some(h) = s[last_start..].rfind('-') {
        let (head, suffix) = (&s[last_start..last_start + h], &s[last_start + h + 1..]);
        let is_affix = suffix.chars().all(|c| c.is_lowercase())
            && (suffix.len() > 4 && (suffix.ends_with("ed") || suffix.ends_with("ing"))
                || NAME_SUFFIXES.contains(&suffix));
        if is_affix && head.starts_with(|c: char| c.is_uppercase()) {
            s.truncate(last_start + h);
        }
    }
}

/// Case-insensitive key of a name.
fn name_key(name: &str) -> String {
    name.to_lowercase()
}

/// Key of an entity: label and normalised name.
fn entity_key(label: &str, name: &str) -> String {
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

/// One mention after linking within its document.
#[derive(Debug, Clone, PartialEq)]
pub struct Linked {
    /// The entity's name in this document (before corpus-wide naming).
    pub name: String,
    /// The entity's label (the alias table's when it gives one, else the mention's).
    pub label: String,
    /// From the alias table?
    pub from_table: bool,
}

/// Links mentions within documents; cheap to share across threads.
#[derive(Debug, Clone, Default)]
pub struct Linker {
    aliases: AliasTable,
}

impl Linker {
    pub fn new(aliases: AliasTable) -> Self {
        Linker { aliases }
    }

    /// Link the mentions (`(surface, label)`) of one document whose cleaned text is `text`.
    pub fn link_doc(&self, text: &str, mentions: &[(&str, &str)]) -> Vec<Linked> {
        let acronyms = if text.contains('(') {
            acronym_definitions(text)
        } else {
            HashMap::new()
        };
        let mut out: Vec<Linked> = mentions
            .iter()
            .map(|(surface, label)| {
                let name = normalise(surface, label);
                let name = if name.is_empty() {
                    surface.trim().to_string()
                } else {
                    name
                };
                if let Some((canonical, l)) = self.aliases.lookup(&name) {
                    return Linked {
                        name: canonical.clone(),
                        label: l.clone().unwrap_or_else(|| label.to_string()),
                        from_table: true,
                    };
                }
                let name = acronyms.get(&name).cloned().unwrap_or(name);
                Linked {
                    name,
                    label: label.to_string(),
                    from_table: false,
                }
            })
            .collect();
        // People: a shorter name links to the one longer name of the document that ends
        // (surname) or starts (first name) with it.
        let full: Vec<String> = {
            let mut seen = HashSet::new();
            out.iter()
                .filter(|l| !l.from_table && l.label == "PER" && l.name.contains(' '))
                .map(|l| l.name.clone())
                .filter(|n| seen.insert(name_key(n)))
                .collect()
        };
        for l in out.iter_mut() {
            if l.from_table || l.label != "PER" {
                continue;
            }
            if let Some(f) = unique_extension(&l.name, full.iter().map(String::as_str)) {
                l.name = f.to_string();
            }
        }
        out
    }
}

/// The one name among `candidates` that is a strict word-wise extension of `short`
/// (ending or starting with all its words), if exactly one is.
fn unique_extension<'a>(short: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
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

#[derive(Debug, Default)]
struct KeyInfo {
    label: String,
    forms: HashMap<String, u64>,
    table_name: Option<String>,
}

/// Entities seen across the corpus; resolves each to its canonical name.
#[derive(Debug, Default)]
pub struct CorpusIndex {
    keys: HashMap<String, KeyInfo>,
    resolved: HashMap<String, String>,
}

impl CorpusIndex {
    /// Record one linked mention.
    pub fn observe(&mut self, l: &Linked) {
        let info = self.keys.entry(entity_key(&l.label, &l.name)).or_default();
        info.label.clone_from(&l.label);
        if l.from_table {
            info.table_name = Some(l.name.clone());
        }
        *info.forms.entry(l.name.clone()).or_default() += 1;
    }

    /// Decide every entity's canonical name (call once all mentions are observed).
    pub fn resolve(&mut self) {
        let display = |info: &KeyInfo| -> String {
            if let Some(t) = &info.table_name {
                return t.clone();
            }
            let mut forms: Vec<(&String, &u64)> = info.forms.iter().collect();
            // Most frequent spelling; ties: capitalised first, then alphabetical.
            forms.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            forms.first().map(|f| f.0.clone()).unwrap_or_default()
        };
        let names: HashMap<&String, String> =
            self.keys.iter().map(|(k, i)| (k, display(i))).collect();
        // A person's name that is a strict part of exactly one fuller name in the corpus
        // links to it ("Putin" alone in one article → "Vladimir Putin" from the others).
        let full: Vec<&str> = self
            .keys
            .iter()
            .filter(|(_, i)| i.label == "PER" && i.table_name.is_none())
            .map(|(k, _)| names[k].as_str())
            .filter(|n| n.contains(' '))
            .collect();
        let mut resolved = HashMap::new();
        for (k, info) in &self.keys {
            let mut name = names[k].clone();
            if info.label == "PER" && info.table_name.is_none() {
                if let Some(f) = unique_extension(&name, full.iter().copied()) {
                    name = f.to_string();
                }
            }
            resolved.insert(k.clone(), name);
        }
        self.resolved = resolved;
    }

    /// The canonical name of a linked mention.
    pub fn canonical(&self, label: &str, name: &str) -> String {
        self.resolved
            .get(&entity_key(label, name))
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    pub fn n_entities(&self) -> usize {
        self.resolved.values().collect::<HashSet<_>>().len()
    }
}

/// Corpus-level linking of a batch of mentions: the canonical name and alias source of
/// each, in order; every mention is also fed to `agg` for the analysis tables.
pub fn link_mentions(
    e: &crate::tables::EntRows,
    index: &CorpusIndex,
    agg: &mut Aggregator,
) -> (Vec<String>, Vec<&'static str>) {
    let n = e.doc_id.len();
    let mut entity = Vec::with_capacity(n);
    let mut source = Vec::with_capacity(n);
    for i in 0..n {
        let canonical = index.canonical(&e.ent_label[i], &e.name[i]);
        let src = if e.from_table[i] {
            AliasSource::Table
        } else if canonical != e.text[i] {
            AliasSource::Rule
        } else {
            AliasSource::None
        };
        agg.push(&MentionRow {
            doc_id: &e.doc_id[i],
            sent_idx: e.sent_idx[i],
            surface: &e.text[i],
            entity: &canonical,
            label: &e.ent_label[i],
            polarity: e.polarity[i],
            sentiment: e.sentiment[i].as_deref(),
        });
        entity.push(canonical);
        source.push(src.as_str());
    }
    (entity, source)
}

/// Record a chunk's document-linked mentions in the corpus index.
pub fn observe_mentions(index: &mut CorpusIndex, e: &crate::tables::EntRows) {
    for i in 0..e.name.len() {
        index.observe(&Linked {
            name: e.name[i].clone(),
            label: e.ent_label[i].clone(),
            from_table: e.from_table[i],
        });
    }
}

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

type EntityId = (String, String);
/// A sentence's polarity, sentiment label and the entities it mentions.
type SentenceEntities = (Option<f32>, Option<String>, Vec<EntityId>);

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
        let id: EntityId = (m.entity.to_string(), m.label.to_string());
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
            .or_insert_with(|| (m.polarity, m.sentiment.map(str::to_string), Vec::new()));
        if !s.2.contains(&id) {
            s.2.push(id);
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
            self.variants.entity.push(id.0);
            self.variants.label.push(id.1);
            self.variants.doc_id.push(doc.clone());
            self.variants.surface.push(surface);
            self.variants.mentions.push(n);
        }
        for (_, (pol, _, mut ids)) in std::mem::take(&mut self.doc_sents) {
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
            cooc.entity_a.push(a.0);
            cooc.label_a.push(a.1);
            cooc.entity_b.push(b.0);
            cooc.label_b.push(b.1);
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
    s.entity.push(id.0.clone());
    s.label.push(id.1.clone());
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

    fn link(linker: &Linker, text: &str, mentions: &[(&str, &str)]) -> Vec<String> {
        linker
            .link_doc(text, mentions)
            .into_iter()
            .map(|l| l.name)
            .collect()
    }

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

    #[test]
    fn people_link_to_the_full_name_of_the_document() {
        let l = Linker::default();
        let names = link(
            &l,
            "",
            &[
                ("Vladimir Putin", "PER"),
                ("President Putin", "PER"),
                ("Putin's", "PER"),
                ("Fumio Kishida", "PER"),
                ("PM Kishida", "PER"),
                ("Fumio", "PER"),
                ("Moscow", "LOC"),
            ],
        );
        assert_eq!(
            names,
            [
                "Vladimir Putin",
                "Vladimir Putin",
                "Vladimir Putin",
                "Fumio Kishida",
                "Fumio Kishida",
                "Fumio Kishida",
                "Moscow"
            ]
        );
        // Two full names share the surname: "Abe" alone stays ambiguous.
        let names = link(
            &l,
            "",
            &[("Shinzo Abe", "PER"), ("Akie Abe", "PER"), ("Abe", "PER")],
        );
        assert_eq!(names, ["Shinzo Abe", "Akie Abe", "Abe"]);
        // Only people link by surname.
        let names = link(&l, "", &[("New York", "LOC"), ("York", "LOC")]);
        assert_eq!(names, ["New York", "York"]);
    }

    #[test]
    fn acronyms_link_to_the_long_form_the_document_defines() {
        let text = "Seoul deployed the Terminal High-Altitude Area Defense (THAAD) system. \
                    The North Atlantic Treaty Organization (NATO) met. THAAD angered Beijing. \
                    He said (OK) nothing.";
        let defs = acronym_definitions(text);
        assert_eq!(defs["THAAD"], "Terminal High-Altitude Area Defense");
        assert_eq!(defs["NATO"], "North Atlantic Treaty Organization");
        assert!(!defs.contains_key("OK"));
        let names = link(
            &Linker::default(),
            text,
            &[("THAAD", "MISC"), ("NATO", "ORG"), ("Beijing", "LOC")],
        );
        assert_eq!(
            names,
            [
                "Terminal High-Altitude Area Defense",
                "North Atlantic Treaty Organization",
                "Beijing"
            ]
        );
    }

    #[test]
    fn alias_table_applies_first_and_may_set_the_label() {
        let dir = tempfile::tempdir().expect("tmp");
        let csv = dir.path().join("aliases.csv");
        std::fs::write(
            &csv,
            "alias,canonical,label\n# islands\nNorthern Territories,Kuril Islands,\nSouthern Kurils,Kuril Islands,\nTokyo,Government of Japan,ORG\n",
        )
        .expect("w");
        let toml = dir.path().join("aliases.toml");
        std::fs::write(
            &toml,
            "[aliases]\n\"Northern Territories\" = \"Kuril Islands\"\n\"Southern Kurils\" = \"Kuril Islands\"\n\"Tokyo\" = { canonical = \"Government of Japan\", label = \"org\" }\n",
        )
        .expect("w");
        for path in [csv, toml] {
            let table = AliasTable::from_file(&path).expect("table");
            assert_eq!(table.len(), 3);
            let out = Linker::new(table).link_doc(
                "",
                &[
                    ("the Northern Territories", "LOC"),
                    ("southern Kurils", "MISC"),
                    ("Tokyo", "LOC"),
                    ("Moscow", "LOC"),
                ],
            );
            let got: Vec<(&str, &str, bool)> = out
                .iter()
                .map(|l| (l.name.as_str(), l.label.as_str(), l.from_table))
                .collect();
            assert_eq!(
                got,
                [
                    ("Kuril Islands", "LOC", true),
                    ("Kuril Islands", "MISC", true),
                    ("Government of Japan", "ORG", true),
                    ("Moscow", "LOC", false)
                ]
            );
        }
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "name,target\na,b\n").expect("w");
        let err = AliasTable::from_file(&bad).expect_err("bad header");
        assert!(err.to_string().contains("'alias' and 'canonical'"), "{err}");
    }

    #[test]
    fn corpus_merges_by_name_and_completes_surnames() {
        let l = Linker::default();
        let mut index = CorpusIndex::default();
        // Document 1 names Putin in full; document 2 only says "Putin" and "KISHIDA".
        let d1 = l.link_doc("", &[("Vladimir Putin", "PER"), ("Kishida", "PER")]);
        let d2 = l.link_doc(
            "",
            &[("Putin", "PER"), ("Kishida", "PER"), ("Putin", "LOC")],
        );
        for m in d1.iter().chain(&d2) {
            index.observe(m);
        }
        index.resolve();
        assert_eq!(index.canonical("PER", "Putin"), "Vladimir Putin");
        assert_eq!(index.canonical("PER", "kishida"), "Kishida");
        // A different label is a different entity.
        assert_eq!(index.canonical("LOC", "Putin"), "Putin");
        assert_eq!(index.n_entities(), 3);
    }

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
