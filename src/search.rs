//! The search index: small enough to load on a phone, rich enough to rank.
//!
//! Each document contributes its id, title, kind, severity, services and tags
//! (matched by prefix and ranked first), and its most distinctive body words
//! by TF-IDF (a budget of `POSTINGS` shared by all documents, between
//! `MIN_TERMS` and `MAX_TERMS` each), so the index grows with the number of
//! documents, not with their length. `static/search.js` reads it.

use crate::kb::KnowledgeBase;
use crate::site::DocSummary;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// Postings in the whole index: small knowledge bases index nearly every
/// word of every document; 10,000 documents keep their 24 most distinctive.
const POSTINGS: usize = 240_000;
const MIN_TERMS: usize = 24;
const MAX_TERMS: usize = 1_000;
const STOP: [&str; 59] = [
    "the", "and", "for", "was", "were", "that", "this", "with", "from", "into", "have", "has",
    "had", "are", "but", "not", "our", "its", "all", "any", "can", "will", "which", "when", "then",
    "than", "there", "their", "they", "what", "who", "also", "after", "before", "over", "under",
    "out", "one", "two", "would", "could", "should", "been", "being", "more", "most", "some",
    "such", "only", "other", "about", "each", "per", "via", "did", "does", "how", "why", "where",
];

fn words<'t>(
    text: &'t str,
    stop: &'t HashSet<&'static str>,
) -> impl Iterator<Item = Cow<'t, str>> + 't {
    text.split(|c: char| !c.is_alphanumeric() && c != '-' && c != '_')
        .map(|w| w.trim_matches(['-', '_']))
        .filter(|w| w.len() >= 3 && w.len() <= 32 && !w.bytes().all(|b| b.is_ascii_digit()))
        // Most words are already lowercase: only allocate for the others.
        .map(|w| {
            if w.chars().any(char::is_uppercase) {
                Cow::Owned(w.to_lowercase())
            } else {
                Cow::Borrowed(w)
            }
        })
        .filter(move |w| !stop.contains(w.as_ref()))
}

type Frequencies = Arc<HashMap<String, u32>>;

/// Term frequencies of each document by path, with a hash of the text they
/// were counted from, so `serve` counts only the documents that changed.
#[derive(Default)]
pub struct TermCache {
    tfs: Mutex<HashMap<String, (u64, Frequencies)>>,
}

fn term_frequencies(
    doc: &crate::model::Document,
    stop: &HashSet<&'static str>,
    cache: &TermCache,
) -> Arc<HashMap<String, u32>> {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    doc.text.hash(&mut h);
    let key = h.finish();
    if let Some((k, tf)) = cache.tfs.lock().unwrap().get(&doc.rel_path) {
        if *k == key {
            return tf.clone();
        }
    }
    let mut tf: HashMap<String, u32> = HashMap::new();
    for w in words(doc.body(), stop) {
        match tf.get_mut(w.as_ref()) {
            Some(n) => *n += 1,
            None => {
                tf.insert(w.into_owned(), 1);
            }
        }
    }
    let tf = Arc::new(tf);
    cache
        .tfs
        .lock()
        .unwrap()
        .insert(doc.rel_path.clone(), (key, tf.clone()));
    tf
}

pub fn index(kb: &KnowledgeBase, summaries: &[DocSummary], cache: &TermCache) -> String {
    // Term frequencies per document, in parallel; then document frequencies.
    let stop: HashSet<&'static str> = STOP.into_iter().collect();
    let tfs: Vec<Arc<HashMap<String, u32>>> = kb
        .documents
        .par_iter()
        .map(|doc| term_frequencies(doc, &stop, cache))
        .collect();
    let mut df: HashMap<&str, u32> = HashMap::new();
    for tf in &tfs {
        for term in tf.keys() {
            *df.entry(term.as_str()).or_default() += 1;
        }
    }
    let n = tfs.len().max(1) as f64;
    let per_doc = (POSTINGS / tfs.len().max(1)).clamp(MIN_TERMS, MAX_TERMS);
    // Each document's most distinctive terms, in parallel; then the postings.
    let tops: Vec<Vec<&str>> = tfs
        .par_iter()
        .map(|tf| {
            let mut scored: Vec<(&str, f64)> = tf
                .iter()
                .map(|(t, &c)| {
                    (
                        t.as_str(),
                        f64::from(c).ln_1p() * (n / f64::from(df[t.as_str()])).ln(),
                    )
                })
                .filter(|(_, s)| *s > 0.0)
                .collect();
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            scored.into_iter().take(per_doc).map(|(t, _)| t).collect()
        })
        .collect();
    let mut postings: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, top) in tops.iter().enumerate() {
        for t in top {
            postings.entry(t).or_default().push(i);
        }
    }
    let mut terms: Vec<(&str, Vec<usize>)> = postings.into_iter().collect();
    terms.sort_by(|a, b| a.0.cmp(b.0));
    let docs: Vec<serde_json::Value> = summaries
        .iter()
        .map(|s| {
            serde_json::json!([
                s.id,
                s.title,
                s.kind,
                s.url,
                s.severity.clone().unwrap_or_default(),
                s.date.clone().unwrap_or_default(),
                format!("{} {}", s.services.join(" "), s.tags.join(" "))
            ])
        })
        .collect();
    // Postings as gaps between ascending document numbers: smaller numbers, smaller file.
    let terms_json: Vec<serde_json::Value> = terms
        .iter()
        .map(|(t, docs)| {
            let mut prev = 0;
            let gaps: Vec<usize> = docs
                .iter()
                .map(|&d| {
                    let g = d - prev;
                    prev = d;
                    g
                })
                .collect();
            serde_json::json!([t, gaps])
        })
        .collect();
    serde_json::to_string(&serde_json::json!({"version": 1, "fields": ["id", "title", "kind", "url", "severity", "date", "keywords"], "docs": docs, "terms": terms_json}))
        .expect("json")
}
