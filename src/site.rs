//! Stage 6b, `site`: the whole static site as files in memory.
//!
//! Builds plain view structs from the knowledge base (what templates see is
//! documented in docs/theming.md), renders document bodies in parallel and
//! the tera templates of the theme, and returns `Site`: a map from output path
//! to bytes. Writing it to disk is `write`'s job; `serve` serves it from memory.

use crate::diagnostic::Diagnostic;
use crate::kb::KnowledgeBase;
use crate::model::{Document, MILESTONES};
use crate::render::{self, escape};
use crate::theme::Theme;
use crate::write::Staging;
use crate::{charts, policy, search, site_metrics};
use chrono::{DateTime, FixedOffset, NaiveDate};
use rayon::prelude::*;
use serde::Serialize;
// foldhash: `serve` hashes every document's paths, services and tags on each rebuild.
use foldhash::{HashMap, HashMapExt, HashSet};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The built site: output path (relative, `/`-separated) to content.
/// Contents are shared with the `Cache`, so a rebuild copies no page.
#[derive(Debug, Default, Clone)]
pub struct Site {
    pub files: BTreeMap<String, Arc<Vec<u8>>>,
    /// Files already written to the staging folder by `build_into` (document
    /// pages, exports, lists), so not held in `files`.
    pub written: BTreeSet<String>,
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// What a rebuild can reuse: rendered Markdown bodies, term counts for the
/// search index, and the last build itself with what each of its pages showed.
/// `build` starts from an empty cache; `serve` keeps one, and each build then
/// renders only the pages whose inputs changed (see `Plan`). The serve tests
/// prove the result byte-identical to a full build after every kind of edit.
#[derive(Default)]
pub struct Cache {
    /// Whether builds keep what the next one can reuse (off for a one-shot build).
    keep: bool,
    bodies: Mutex<HashMap<String, (u64, Arc<String>)>>,
    pub search: search::TermCache,
    last: Mutex<Option<Last>>,
    /// Pages rendered (not reused) by the last build, for timings and tests.
    pub rendered: std::sync::atomic::AtomicUsize,
}

/// A file's content, shared between the cache and every site built from it.
pub type Bytes = Arc<Vec<u8>>;

/// The last good build, as `build_with` left it.
struct Last {
    /// The site-wide view every page shows (title, navigation counts…).
    site_bytes: Vec<u8>,
    /// Its documents, in the order of that build's knowledge base.
    docs: Vec<LastDoc>,
    files: BTreeMap<String, Bytes>,
    /// Paths of the tag pages, to drop those of tags that are gone.
    tag_pages: BTreeSet<String>,
    /// Documents by tag (see `tag_map`).
    tags: BTreeMap<String, Vec<usize>>,
    overdue: Overdue,
    /// What the metrics gave the dashboard and the service pages.
    figures: Figures,
    sparklines: HashMap<String, String>,
    /// Whether the metrics pages and exports are older than this build.
    metrics_stale: bool,
    /// The knowledge base's `draft_postmortem_of`, which the metrics read:
    /// a draft left out changes no remaining document's signature.
    draft_postmortem_of: Vec<String>,
    /// Knowledge-base files copied into the site.
    assets: Vec<String>,
    /// Whether the search index and /api/incidents.json are older than this build.
    exports_stale: bool,
    site: SiteView,
}

/// The metrics the dashboard shows.
#[derive(Default, Clone, PartialEq)]
struct Figures {
    mttr_sparkline: String,
    completion_rate: serde_json::Value,
}

struct LastDoc {
    rel_path: String,
    stamp: u64,
    /// Its page's output path.
    page: String,
    incident_like: bool,
    summary: DocSummary,
    /// Documents (indices in the last build) whose data its page showed.
    deps: Vec<u32>,
    /// Its row in its section's list, and its item in tag lists.
    row: Arc<str>,
    item: Arc<str>,
    /// Its record in /api/incidents.json, for incidents.
    record: Option<Arc<str>>,
    /// A hash of what the metrics read from it.
    metrics_sig: u64,
}

fn fingerprint(parts: &[&[u8]]) -> u64 {
    use std::hash::Hasher;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        h.write(p);
        h.write_u8(0xff);
    }
    h.finish()
}

impl Cache {
    /// A cache that keeps each build for the next: `serve`'s.
    pub fn incremental() -> Cache {
        Cache {
            keep: true,
            ..Cache::default()
        }
    }

    fn keep(&self) -> bool {
        self.keep
    }

    fn body(&self, doc: &Document, links: &render::Links) -> Arc<String> {
        if !self.keep {
            return Arc::new(render::render_body(doc, links));
        }
        let targets: Vec<u8> = links
            .targets
            .iter()
            .flat_map(|t| t.as_deref().unwrap_or("-").bytes().chain([0]))
            .collect();
        // The stamp stands for the text: a changed file is parsed anew.
        let key = fingerprint(&[
            &doc.stamp.to_le_bytes(),
            &targets,
            links.base.as_bytes(),
            &[u8::from(links.allow_html)],
        ]);
        if let Some((k, html)) = self.bodies.lock().unwrap().get(&doc.rel_path) {
            if *k == key {
                return html.clone();
            }
        }
        let html = Arc::new(render::render_body(doc, links));
        self.bodies
            .lock()
            .unwrap()
            .insert(doc.rel_path.clone(), (key, html.clone()));
        html
    }

    /// Forgets the last build (not bodies): after a theme change.
    pub fn clear_pages(&self) {
        *self.last.lock().unwrap() = None;
    }
}

/// The site-wide data every template gets as `site`.
#[derive(Serialize, Clone)]
pub struct SiteView {
    pub title: String,
    pub description: String,
    /// Path prefix of every link: `/` or `/kb/`.
    pub base: String,
    pub base_url: String,
    pub repo_url: Option<String>,
    pub today: String,
    pub severities: Vec<String>,
    pub sections: Vec<SectionLink>,
    pub version: &'static str,
}

#[derive(Serialize, Clone)]
pub struct SectionLink {
    pub name: String,
    pub url: String,
}

/// A document as it appears in lists and cards.
#[derive(Serialize, Clone, Default, PartialEq)]
pub struct DocSummary {
    pub id: String,
    pub title: String,
    pub kind: String,
    pub url: String,
    pub severity: Option<String>,
    /// CSS class of the severity badge (`sev-1`…); `sev-x` for custom levels.
    pub severity_class: String,
    pub status: Option<String>,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    /// The date a document is sorted by: started, published or last reviewed.
    pub date: Option<String>,
    pub year: Option<String>,
    /// Time to resolve, human readable (`2h 14m`).
    pub duration: Option<String>,
    pub people: Vec<String>,
    pub summary: String,
}

#[derive(Serialize)]
struct TimelineItem {
    time: String,
    /// Inline HTML (rendered Markdown).
    text: String,
    /// Set for incident milestones: `started`, `detected`, …
    milestone: Option<String>,
}

#[derive(Serialize)]
struct ActionItemView {
    anchor: String,
    /// Inline HTML (rendered Markdown).
    text: String,
    owner: Option<String>,
    due: Option<String>,
    done_on: Option<String>,
    kind: Option<String>,
    ticket: Option<String>,
    state: &'static str,
}

#[derive(Serialize)]
struct Durations {
    ttd: Option<String>,
    tta: Option<String>,
    ttm: Option<String>,
    ttr: Option<String>,
}

#[derive(Serialize)]
struct PageView<'a> {
    /// This and the other documents below are cards (`Shared::card`).
    doc: tera::Value,
    body: Arc<String>,
    fields: serde_json::Value,
    durations: Option<Durations>,
    milestones: Vec<(String, String)>,
    timeline: Vec<TimelineItem>,
    /// `timeline` and `action_items` as page.html prints them (see `timeline_rows`).
    timeline_html: String,
    /// The offset `timeline`'s times are in (`UTC-07:00`), when they share
    /// one: the incident's start offset.
    timeline_zone: Option<String>,
    action_items: Vec<ActionItemView>,
    action_items_html: String,
    backlinks: Vec<tera::Value>,
    related: Vec<tera::Value>,
    similar: Vec<tera::Value>,
    incident: Option<tera::Value>,
    postmortems: Vec<tera::Value>,
    runbooks: Vec<tera::Value>,
    services: Vec<ServiceRef>,
    edit_url: Option<String>,
    review: Option<Review>,
    /// On runbook and service pages: the incidents that used or hit them.
    incidents: Vec<tera::Value>,
    /// `incidents` as rows of the default theme's `doc_table`: a runbook
    /// can list hundreds, too many for a template loop on every build.
    incident_rows: String,
    open_items: Vec<OwnedItem>,
    /// On service pages: MTTR by month as an inline SVG.
    sparkline: Option<&'a str>,
}

/// A summary as a page's templates see it (`Shared::card`), with its row as
/// the default theme's `m.doc_list` component prints it (`li`): these lists
/// hold about nine documents per page, and a loop over fields costs more.
#[derive(Serialize)]
struct Card<'a> {
    #[serde(flatten)]
    doc: &'a DocSummary,
    li: &'a str,
}

#[derive(Serialize)]
struct ServiceRef {
    id: String,
    url: Option<String>,
}

#[derive(Serialize)]
struct OwnedItem {
    item: ActionItemView,
    source: tera::Value,
}

#[derive(Serialize)]
struct Review {
    state: &'static str,
    last_reviewed: Option<String>,
    due: Option<String>,
}

/// Section folder of a kind: `incident` lives under `incidents/`.
pub fn section_of(kind: &str) -> String {
    format!("{kind}s")
}

/// The page path of a document, relative to the site root, ending in `/`.
pub fn page_path(doc: &Document) -> String {
    let mut out = String::with_capacity(doc.kind.len() + doc.id.len() + 3);
    page_path_into(doc, &mut out);
    out
}

fn page_path_into(doc: &Document, out: &mut String) {
    out.push_str(&doc.kind);
    out.push_str("s/");
    let start = out.len();
    for c in doc.id.chars().flat_map(char::to_lowercase) {
        let keep = c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.';
        out.push(if keep { c } else { '-' });
    }
    let slug = out[start..].trim_matches('.');
    if slug.len() != out.len() - start {
        let slug = slug.to_string();
        out.truncate(start);
        out.push_str(&slug);
    }
    out.push('/');
}

/// Durations read the same on every page and in the terminal (`report`).
fn human_duration(minutes: i64) -> String {
    crate::report::human_minutes(minutes as f64)
}

fn minutes_between(
    a: Option<DateTime<FixedOffset>>,
    b: Option<DateTime<FixedOffset>>,
) -> Option<i64> {
    Some((b? - a?).num_minutes())
}

fn sev_class(config: &crate::config::Config, severity: Option<&str>) -> String {
    match severity.map(|s| config.severity_rank(s)) {
        Some(r) if r < 4 => format!("sev-{}", r + 1),
        Some(_) => "sev-x".into(),
        None => String::new(),
    }
}

/// First paragraph of the Summary or Overview section, as plain text.
fn summary_text(doc: &Document) -> String {
    let section = doc.structure.sections.iter().find(|s| {
        ["summary", "overview", "description"].contains(&s.title.to_lowercase().as_str())
    });
    let raw = match section {
        Some(s) => &doc.text[s.content.clone()],
        None => doc.body(),
    };
    let para = raw
        .split("\n\n")
        .map(str::trim)
        .find(|p| !p.is_empty() && !p.starts_with("<!--") && !p.starts_with('#'));
    let plain: String = para
        .unwrap_or("")
        .replace(['*', '`', '_'], "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    truncate(&plain, 220)
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let cut: String = s.chars().take(max).collect();
    format!("{}…", cut.rsplit_once(' ').map_or(cut.as_str(), |(a, _)| a))
}

fn summarize(kb: &KnowledgeBase, i: usize) -> DocSummary {
    let doc = &kb.documents[i];
    let m = &doc.meta;
    let incident = policy::incident_meta(&kb.documents, &kb.graph, doc);
    // The incident a postmortem names wins over fields it repeats, as in
    // the metrics (`incident-mismatch` warns where they differ).
    let named = incident.filter(|im| !std::ptr::eq(*im, m));
    let severity = named
        .and_then(|im| im.severity.clone())
        .or_else(|| m.severity.clone());
    let services = match named {
        Some(im) if !im.services.is_empty() => im.services.clone(),
        _ => m.services.clone(),
    };
    let date: Option<NaiveDate> = incident
        .and_then(|im| im.started())
        .map(|t| t.date_naive())
        .or(m.published_at.map(|t| t.date_naive()))
        .or(m.last_reviewed);
    let ttr = incident.and_then(|im| minutes_between(im.started(), im.resolved()));
    let mut people: Vec<String> = m
        .commander
        .iter()
        .chain(&m.authors)
        .chain(&m.owners)
        .cloned()
        .collect();
    people.dedup();
    DocSummary {
        id: doc.id.clone(),
        title: doc.title().to_string(),
        kind: doc.kind.clone(),
        url: format!("{}{}", kb.config.base_path(), page_path(doc)),
        severity_class: sev_class(&kb.config, severity.as_deref()),
        severity,
        status: m.status.clone(),
        services,
        tags: m.tags.clone(),
        date: date.map(|d| d.to_string()),
        year: date.map(|d| d.format("%Y").to_string()),
        duration: ttr.map(human_duration),
        people,
        summary: summary_text(doc),
    }
}

/// Checks that no two documents land on the same page (ids differing only in case).
pub fn collisions(kb: &KnowledgeBase) -> Vec<Diagnostic> {
    // Runs before every build in `serve`: pages are compared by a hash of
    // their path (made in one reused buffer), and equal hashes by the path.
    let mut seen: HashMap<u64, usize> = HashMap::with_capacity(kb.documents.len());
    let mut diags = vec![];
    let mut path = String::new();
    let collision = |doc: &Document, message: String, hint: &str| {
        Diagnostic::error("output-collision", &doc.rel_path, doc.id_pos, message).with_hint(hint)
    };
    for (i, doc) in kb.documents.iter().enumerate() {
        path.clear();
        page_path_into(doc, &mut path);
        if path.ends_with("s//") {
            // `..` or `.`: nothing of the id is left for a page name.
            diags.push(collision(
                doc,
                format!(
                    "id `{}` leaves no page name: it would be written over /{}",
                    doc.id,
                    &path[..path.len() - 1]
                ),
                "give the document an id with letters or digits",
            ));
            continue;
        }
        let key = fingerprint(&[path.as_bytes()]);
        let same = seen
            .get(&key)
            .copied()
            .filter(|&j| page_path(&kb.documents[j]) == path);
        // The same id twice is a `duplicate-id` already.
        if let Some(j) = same.filter(|&j| kb.documents[j].id != doc.id) {
            diags.push(collision(
                doc,
                format!(
                    "`{}` and `{}` would both be written to /{path}",
                    doc.id, kb.documents[j].id
                ),
                "ids that differ only in case or punctuation map to the same page; rename one",
            ));
        } else {
            seen.entry(key).or_insert(i);
        }
    }
    diags
}

pub fn build(kb: &KnowledgeBase, theme: &Theme) -> Result<Site, Diagnostic> {
    build_with(kb, theme, &Cache::default())
}

/// A one-shot build that writes pages and exports into `staging` as soon as
/// they are made: document pages alone are most of the site's bytes, and
/// holding everything until the end would double the peak memory of a large build.
pub fn build_into(
    kb: &KnowledgeBase,
    theme: &Theme,
    staging: &Staging,
) -> Result<Site, Diagnostic> {
    build_inner(kb, theme, &Cache::default(), Some(staging))
}

/// Builds the site. With a cache that holds an earlier build (`serve`), only
/// what changed since is made again; the rest is that build's bytes.
pub fn build_with(kb: &KnowledgeBase, theme: &Theme, cache: &Cache) -> Result<Site, Diagnostic> {
    build_inner(kb, theme, cache, None)
}

fn build_inner(
    kb: &KnowledgeBase,
    theme: &Theme,
    cache: &Cache,
    staging: Option<&Staging>,
) -> Result<Site, Diagnostic> {
    use std::sync::atomic::Ordering::Relaxed;
    cache.rendered.store(0, Relaxed);
    let mut timings = vec![];
    let mut clock = Instant::now();
    let mut lap = |name, timings: &mut Vec<_>| {
        timings.push((name, clock.elapsed()));
        clock = Instant::now();
    };
    let docs = &kb.documents;
    let n = docs.len();
    let base = kb.config.base_path();
    let keep = cache.keep();
    let mut last = cache.last.lock().unwrap().take();

    // 1. Which documents are the same parse as in the last build.
    let old_docs: &mut [LastDoc] = last.as_mut().map_or(&mut [], |l| l.docs.as_mut_slice());
    let old_of = match_documents(docs, old_docs);
    let mut new_of: Vec<Option<usize>> = vec![None; old_docs.len()];
    for (i, o) in old_of.iter().enumerate() {
        if let Some(o) = *o {
            new_of[o] = Some(i);
        }
    }
    // No document came or went: indices are those of the last build.
    let same_indices = n == new_of.len() && old_of.iter().enumerate().all(|(i, o)| *o == Some(i));
    let fresh: Vec<bool> = (0..n)
        .map(|i| old_of[i].is_none_or(|o| old_docs[o].stamp != docs[i].stamp))
        .collect();
    let mut dirty_old: Vec<bool> = (0..old_docs.len())
        .map(|o| new_of[o].is_none_or(|i| fresh[i]))
        .collect();

    // 2. Summaries: a document's, and those naming it as their incident.
    let changed_ids: HashSet<String> = (0..n)
        .filter(|&i| fresh[i])
        .map(|i| docs[i].id.clone())
        .chain(
            (0..old_docs.len())
                .filter(|&o| dirty_old[o])
                .map(|o| old_docs[o].summary.id.clone()),
        )
        .collect();
    let recompute: Vec<bool> = (0..n)
        .map(|i| {
            fresh[i]
                || docs[i]
                    .meta
                    .incident
                    .as_deref()
                    .is_some_and(|id| changed_ids.contains(id))
        })
        .collect();
    // Summaries are large: only the recomputed ones are made, then each is
    // moved into place once.
    let recomputed: Vec<usize> = (0..n).filter(|&i| recompute[i]).collect();
    let mut computed: Vec<Option<DocSummary>> = recomputed
        .par_iter()
        .map(|&i| Some(summarize(kb, i)))
        .collect();
    let mut dirty_new = fresh.clone();
    let mut summaries: Vec<DocSummary> = Vec::with_capacity(n);
    let mut next = recomputed.iter().zip(computed.iter_mut()).peekable();
    for i in 0..n {
        let new = match next.peek() {
            Some((&j, _)) if j == i => next.next().and_then(|(_, s)| s.take()),
            _ => None,
        };
        let old = old_of[i].map(|o| &mut old_docs[o]);
        summaries.push(match (new, old) {
            (Some(new), Some(old)) => {
                if new != old.summary {
                    dirty_new[i] = true;
                    dirty_old[old_of[i].unwrap_or_default()] = true;
                }
                new
            }
            (Some(new), None) => new,
            (None, Some(old)) => std::mem::take(&mut old.summary),
            (None, None) => unreachable!("a document new to this build is fresh"),
        });
    }
    let dates = date_keys(&summaries);
    let kinds = documents_by_kind(docs, &summaries, &dates);
    let section_kinds = section_order(&kinds);
    let site = SiteView {
        title: kb.config.title.clone(),
        description: kb.config.description.clone(),
        base: base.clone(),
        base_url: kb.config.base_url.clone(),
        repo_url: kb.config.repo_url.clone(),
        today: kb.today.to_string(),
        severities: kb.config.severities.clone(),
        sections: section_kinds
            .iter()
            .map(|k| SectionLink {
                name: section_of(k),
                url: format!("{base}{}/", section_of(k)),
            })
            .collect(),
        version: env!("CARGO_PKG_VERSION"),
    };
    let site_bytes = serde_json::to_vec(&site).unwrap_or_default();
    // Every page shows the site view: when it changes (another title, a new
    // kind of document), or nothing was built before, everything is made anew.
    // It holds no counts, so that adding a document is not such a change.
    let full = last.as_ref().is_none_or(|l| l.site_bytes != site_bytes);
    let old_docs: &[LastDoc] = last.as_ref().map_or(&[], |l| l.docs.as_slice());
    lap("summaries", &mut timings);

    // 3. Metrics, when what they read changed. Only a kept build's next
    // build compares the signatures: a one-shot build makes none.
    let metrics_sigs: Vec<u64> = if keep {
        (0..n)
            .into_par_iter()
            .map(|i| match old_of[i] {
                Some(o) if !fresh[i] => old_docs[o].metrics_sig,
                _ => metrics_sig(&docs[i]),
            })
            .collect()
    } else {
        vec![0; n]
    };
    let metrics_changed = full
        || last
            .as_ref()
            .is_some_and(|l| l.draft_postmortem_of != kb.draft_postmortem_of)
        || (0..n).any(|i| old_of[i].is_none_or(|o| old_docs[o].metrics_sig != metrics_sigs[i]))
        || new_of.iter().any(Option::is_none);
    // Rows of tables and lists, made per document: lists and runbook and
    // service pages splice them together.
    let rows: Vec<(Arc<str>, Arc<str>)> = (0..n)
        .into_par_iter()
        .map(|i| match old_of[i] {
            Some(o) if !full && !dirty_new[i] => {
                (old_docs[o].row.clone(), old_docs[o].item.clone())
            }
            _ => (
                table_row(&summaries[i]).into(),
                list_item(&summaries[i]).into(),
            ),
        })
        .collect();
    let mut files: BTreeMap<String, Bytes> = match last.as_mut() {
        Some(l) if !full => std::mem::take(&mut l.files),
        _ => BTreeMap::new(),
    };
    let bytes = |s: String| Arc::new(s.into_bytes());
    let mut ctx = tera::Context::new();
    ctx.insert("site", &site);
    let mut shared = Shared::new(kb, &summaries, &dates, rows.clone());
    // `serve` makes metrics after it serves the pages (see `finish`), but for
    // its first build; a one-shot build makes them here.
    let defer = keep && !full;
    let figures = if metrics_changed && !defer {
        let (figures, sparklines, outputs) = metrics_outputs(kb, theme, &ctx, &summaries)?;
        cache.rendered.fetch_add(2, Relaxed);
        files.extend(outputs);
        shared.sparklines = sparklines;
        figures
    } else {
        let l = last
            .as_mut()
            .expect("an incremental build has a last build");
        for doc in docs.iter().filter(|d| d.kind == "service") {
            if let Some(s) = l.sparklines.remove(doc.id.as_str()) {
                shared.sparklines.insert(doc.id.as_str(), s);
            }
        }
        std::mem::take(&mut l.figures)
    };
    let metrics_stale =
        defer && (metrics_changed || last.as_ref().is_some_and(|l| l.metrics_stale));
    let old_docs: &[LastDoc] = last.as_ref().map_or(&[], |l| l.docs.as_slice());
    // A one-shot build writes what it has made as it goes: held until the
    // end, the metrics exports alone would add some 60 MB to its peak.
    let mut written = BTreeSet::new();
    let spill = |files: &mut BTreeMap<String, Bytes>, written: &mut BTreeSet<String>| {
        if let Some(out) = staging {
            let files = std::mem::take(files);
            files
                .par_iter()
                .for_each(|(path, content)| out.put(path, content));
            written.extend(files.into_keys());
        }
    };
    spill(&mut files, &mut written);
    lap("metrics pages", &mut timings);

    // 4. Document pages: those whose inputs changed (see `plan_pages`).
    let to_render: Vec<bool> = if full {
        vec![true; n]
    } else {
        plan_pages(&shared, old_docs, &old_of, &new_of, &dirty_old, &dirty_new)
    };
    // Each page's path, content (`None` once written to the staging folder)
    // and deps; no page at all once a write failed.
    type Page = (String, Option<Bytes>, Vec<u32>);
    let pages: Vec<Result<Option<(usize, Page)>, Diagnostic>> = (0..n)
        .into_par_iter()
        .with_max_len(crate::PAR_CHUNK)
        .filter(|&i| to_render[i])
        .map(|i| {
            if staging.is_some_and(Staging::failed) {
                return Ok(None); // the build fails in `finish`
            }
            let (view, deps) = page_view(&shared, cache, i);
            let mut ctx = ctx.clone();
            ctx.insert("page", &view);
            let html = theme.render("page.html", &ctx)?;
            let path = format!("{}index.html", page_path(&docs[i]));
            let html = match staging {
                Some(out) => {
                    out.put(&path, html.as_bytes());
                    None
                }
                None => Some(bytes(html)),
            };
            Ok(Some((i, (path, html, deps))))
        })
        .collect();
    cache.rendered.fetch_add(pages.len(), Relaxed);
    // Pages of documents that are gone, before their successors are added.
    for (o, old) in old_docs.iter().enumerate() {
        if new_of[o].is_none() {
            files.remove(&old.page);
        }
    }
    // When no document came or went, the kept pages' dependencies are moved over as they are.
    let mut deps: Vec<Vec<u32>> = match last.as_mut() {
        Some(l) if same_indices => l
            .docs
            .iter_mut()
            .zip(&to_render)
            .map(|(old, &render)| {
                if render {
                    vec![]
                } else {
                    std::mem::take(&mut old.deps)
                }
            })
            .collect(),
        last => (0..n)
            .map(|i| match old_of[i] {
                Some(o) if !to_render[i] => last
                    .as_ref()
                    .expect("a document kept from the last build")
                    .docs[o]
                    .deps
                    .iter()
                    .map(|&d| {
                        new_of[d as usize].expect("a page showing a gone document is rendered")
                            as u32
                    })
                    .collect(),
                _ => vec![],
            })
            .collect(),
    };
    let old_docs: &[LastDoc] = last.as_ref().map_or(&[], |l| l.docs.as_slice());
    for page in pages {
        let Some((i, (path, html, page_deps))) = page? else {
            continue;
        };
        match html {
            Some(html) => {
                files.insert(path, html);
            }
            None => {
                written.insert(path);
            }
        }
        deps[i] = page_deps;
    }
    lap("document pages", &mut timings);

    // 5. Lists: pages per changed list, from the rows made per document.
    let dirty_kinds: BTreeSet<&str> =
        changed_summaries(&summaries, &dirty_new, old_docs, &dirty_old)
            .map(|s| s.kind.as_str())
            .collect();
    let render = |template: &str, values: Vec<(&str, serde_json::Value)>| {
        cache.rendered.fetch_add(1, Relaxed);
        render_with(theme, &ctx, template, values)
    };
    let json = |v: &dyn erased::Ser| v.to_json();
    let list_of =
        |idx: &[usize]| -> Vec<&DocSummary> { idx.iter().map(|&i| &summaries[i]).collect() };
    for kind in section_kinds
        .iter()
        .filter(|k| full || dirty_kinds.contains(*k))
    {
        let idx = &kinds[kind];
        let services: BTreeSet<&str> = idx
            .iter()
            .flat_map(|&i| summaries[i].services.iter().map(String::as_str))
            .collect();
        let years: BTreeSet<&str> = idx
            .iter()
            .filter_map(|&i| summaries[i].year.as_deref())
            .collect();
        let out = render(
            "list.html",
            vec![
                ("kind", json(kind)),
                ("title", json(&capitalize(&section_of(kind)))),
                ("count", json(&idx.len())),
                ("rows", json(&ROWS)),
                ("filter_services", json(&services)),
                (
                    "filter_years",
                    json(&years.iter().rev().collect::<Vec<_>>()),
                ),
            ],
        )?;
        let out = splice(&out, ROWS, idx, &rows, |r| &r.0);
        files.insert(format!("{}/index.html", section_of(kind)), out);
    }

    // The tag map changes only when documents come or go or their tags do;
    // an edit of anything else keeps it, and the tags page with it.
    let tags_kept = !full
        && same_indices
        && (0..n)
            .filter(|&i| dirty_new[i])
            .all(|i| old_docs[i].summary.tags == summaries[i].tags);
    let tags = match last.as_mut() {
        Some(l) if tags_kept => std::mem::take(&mut l.tags),
        _ => tag_map(docs),
    };
    let old_docs: &[LastDoc] = last.as_ref().map_or(&[], |l| l.docs.as_slice());
    let dirty_tags: HashSet<String> =
        changed_summaries(&summaries, &dirty_new, old_docs, &dirty_old)
            .flat_map(|s| s.tags.iter())
            .map(|t| tag_slug(t))
            .collect();
    let tag_list: Vec<serde_json::Value> = tags
        .iter()
        .map(|(t, docs)| serde_json::json!({"name": t, "slug": tag_slug(t), "count": docs.len(), "url": format!("{base}tags/{}/", tag_slug(t))}))
        .collect();
    if !tags_kept {
        files.insert(
            "tags/index.html".into(),
            render("tags.html", vec![("tags", json(&tag_list))])?,
        );
    }
    let tag_pages: Vec<Result<(String, Bytes), Diagnostic>> = tags
        .par_iter()
        .filter(|(tag, _)| full || dirty_tags.contains(&tag_slug(tag)))
        .map(|(tag, idx)| {
            let mut idx = idx.clone();
            idx.sort_by(|&a, &b| dates[b].cmp(&dates[a]));
            let out = render(
                "tag.html",
                vec![
                    ("tag", json(tag)),
                    ("count", json(&idx.len())),
                    ("items", json(&ROWS)),
                ],
            )?;
            let out = splice(&out, ROWS, &idx, &rows, |r| &r.1);
            Ok((format!("tags/{}/index.html", tag_slug(tag)), out))
        })
        .collect();
    for page in tag_pages {
        let (path, out) = page?;
        files.insert(path, out);
    }
    let tag_paths: BTreeSet<String> = tags
        .keys()
        .map(|t| format!("tags/{}/index.html", tag_slug(t)))
        .collect();
    let old_tag_paths = last.as_ref().map(|l| &l.tag_pages);
    for gone in old_tag_paths.into_iter().flatten() {
        if !tag_paths.contains(gone) {
            files.remove(gone);
        }
    }
    let paths_changed = full
        || new_of.iter().any(Option::is_none)
        || old_of.iter().any(Option::is_none)
        || old_tag_paths.is_some_and(|old| *old != tag_paths);
    spill(&mut files, &mut written);
    lap("index pages", &mut timings);

    // Overdue items: after an edit, those of the edited documents are replaced.
    let overdue: Overdue = match last.as_mut() {
        Some(l) if !full && same_indices => {
            let mut items = std::mem::take(&mut l.overdue);
            items.retain(|&(_, i, _)| !fresh[i]);
            items.extend((0..n).filter(|&i| fresh[i]).flat_map(|i| overdue_of(kb, i)));
            // Stable sort: a sorted run and a short tail merge in linear time.
            items.sort();
            items
        }
        _ => overdue_all(kb),
    };
    files.insert(
        "index.html".into(),
        dashboard(kb, &summaries, &kinds, &figures, &overdue, &render)?,
    );
    let postmortems = kinds
        .get("postmortem")
        .map(|v| list_of(v))
        .unwrap_or_default();
    if full {
        files.insert("search/index.html".into(), render("search.html", vec![])?);
        files.insert("404.html".into(), render("404.html", vec![])?);
    }

    // 6. Search index, feed, sitemap, API. `serve` makes the search index and
    // the incidents API after it serves the pages (see `finish`).
    let anything_changed = full || dirty_new.contains(&true) || dirty_old.contains(&true);
    let defer_exports = keep && !full;
    if anything_changed && !defer_exports {
        files.insert(
            SEARCH_INDEX.into(),
            bytes(search::index(kb, &summaries, &cache.search)),
        );
        lap("search index", &mut timings);
    }
    files.insert("feed.xml".into(), bytes(feed(kb, &site, &postmortems)));
    let old_docs: &[LastDoc] = last.as_ref().map_or(&[], |l| l.docs.as_slice());
    let records: Vec<Option<Arc<str>>> = (0..n)
        .into_par_iter()
        .map(|i| match old_of[i] {
            Some(o) if !to_render[i] => old_docs[o].record.clone(),
            _ => is_incident_like(kb, i).then(|| incident_record(kb, &summaries, i).into()),
        })
        .collect();
    if anything_changed && !defer_exports {
        files.insert(INCIDENTS_API.into(), bytes(incidents_json(&records)));
    }
    let exports_stale =
        defer_exports && (anything_changed || last.as_ref().is_some_and(|l| l.exports_stale));

    // Static assets: the theme's, then the knowledge base's own files.
    if full {
        for (path, content) in theme.static_files() {
            files.insert(format!("static/{path}"), Arc::new(content));
        }
        files.insert(
            "static/highlight.css".into(),
            bytes(render::highlight_css()),
        );
    }
    for path in last.as_ref().map(|l| &l.assets).into_iter().flatten() {
        files.remove(path);
    }
    // Generated pages win over a knowledge-base file at the same path.
    let mut assets = vec![];
    for (path, content) in &kb.assets {
        if !files.contains_key(path) && !written.contains(path) {
            files.insert(path.clone(), content.clone());
            assets.push(path.clone());
        }
    }
    if paths_changed || !files.contains_key("sitemap.xml") {
        files.insert(
            "sitemap.xml".into(),
            bytes(sitemap(&site, &files, &written)),
        );
    }
    lap("feeds and assets", &mut timings);

    if keep {
        let incident_like = std::mem::take(&mut shared.incident_like);
        let sparklines: HashMap<String, String> = shared
            .sparklines
            .drain()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        drop(shared);
        // The paths of documents kept from the last build are moved over.
        let mut old_docs = last.map(|l| l.docs).unwrap_or_default();
        let docs_now: Vec<LastDoc> = summaries
            .into_iter()
            .zip(rows)
            .zip(records)
            .zip(deps)
            .enumerate()
            .map(|(i, (((summary, (row, item)), record), deps))| {
                let (rel_path, page) = match old_of[i].map(|o| &mut old_docs[o]) {
                    Some(old) if !fresh[i] => (
                        std::mem::take(&mut old.rel_path),
                        std::mem::take(&mut old.page),
                    ),
                    _ => (
                        docs[i].rel_path.clone(),
                        format!("{}index.html", page_path(&docs[i])),
                    ),
                };
                (i, rel_path, page, summary, row, item, record, deps)
            })
            .map(
                |(i, rel_path, page, summary, row, item, record, deps)| LastDoc {
                    rel_path,
                    stamp: docs[i].stamp,
                    page,
                    incident_like: incident_like[i],
                    summary,
                    deps,
                    row,
                    item,
                    record,
                    metrics_sig: metrics_sigs[i],
                },
            )
            .collect();
        drop(old_docs);
        *cache.last.lock().unwrap() = Some(Last {
            site_bytes,
            docs: docs_now,
            files: files.clone(),
            tag_pages: tag_paths,
            tags,
            overdue,
            figures,
            metrics_stale,
            draft_postmortem_of: kb.draft_postmortem_of.clone(),
            sparklines,
            assets,
            exports_stale,
            site,
        });
    }
    Ok(Site {
        files,
        written,
        timings,
    })
}

/// What `serve` makes after it has served the pages of a build: the search
/// index, the incidents API and the metrics (their pages, exports, the
/// dashboard and service pages when their figures moved), when older than
/// that build. Returns the files that changed, which the last build now holds.
/// `kb` must be the knowledge base of that build: otherwise nothing is done.
pub fn finish(
    kb: &KnowledgeBase,
    theme: &Theme,
    cache: &Cache,
) -> Result<Vec<(String, Bytes)>, Diagnostic> {
    let mut out = vec![];
    while let Some(files) = finish_step(kb, theme, cache)? {
        out.extend(files);
    }
    Ok(out)
}

/// One step of `finish`: the exports, or the metrics. None when nothing is
/// left to do. `serve` takes one step at a time while no edit is waiting.
pub fn finish_step(
    kb: &KnowledgeBase,
    theme: &Theme,
    cache: &Cache,
) -> Result<Option<Vec<(String, Bytes)>>, Diagnostic> {
    use std::sync::atomic::Ordering::Relaxed;
    let mut guard = cache.last.lock().unwrap();
    let Some(last) = guard.as_mut() else {
        return Ok(None);
    };
    let same = last.docs.len() == kb.documents.len()
        && last
            .docs
            .iter()
            .zip(&kb.documents)
            .all(|(l, d)| l.stamp == d.stamp);
    if !same || !(last.exports_stale || last.metrics_stale) {
        return Ok(None);
    }
    let bytes = |s: String| Arc::new(s.into_bytes());
    let summaries: Vec<DocSummary> = last.docs.iter().map(|d| d.summary.clone()).collect();
    let mut out: Vec<(String, Bytes)> = vec![];
    if last.exports_stale {
        out.push((
            SEARCH_INDEX.into(),
            bytes(search::index(kb, &summaries, &cache.search)),
        ));
        let records: Vec<Option<Arc<str>>> = last.docs.iter().map(|d| d.record.clone()).collect();
        out.push((INCIDENTS_API.into(), bytes(incidents_json(&records))));
        last.exports_stale = false;
    } else if last.metrics_stale {
        let mut ctx = tera::Context::new();
        ctx.insert("site", &last.site);
        let (figures, sparklines, outputs) = metrics_outputs(kb, theme, &ctx, &summaries)?;
        cache.rendered.fetch_add(2, Relaxed);
        out.extend(outputs);
        let dates = date_keys(&summaries);
        let rows = last
            .docs
            .iter()
            .map(|d| (d.row.clone(), d.item.clone()))
            .collect();
        let mut shared = Shared::new(kb, &summaries, &dates, rows);
        let redrawn: Vec<usize> = (0..kb.documents.len())
            .filter(|&i| {
                let id = kb.documents[i].id.as_str();
                kb.documents[i].kind == "service" && last.sparklines.get(id) != sparklines.get(id)
            })
            .collect();
        shared.sparklines = sparklines;
        for i in redrawn {
            let (view, deps) = page_view(&shared, cache, i);
            let mut ctx = ctx.clone();
            ctx.insert("page", &view);
            out.push((
                last.docs[i].page.clone(),
                bytes(theme.render("page.html", &ctx)?),
            ));
            cache.rendered.fetch_add(1, Relaxed);
            last.docs[i].deps = deps;
        }
        if figures != last.figures {
            let kinds = documents_by_kind(&kb.documents, &summaries, &dates);
            let render = |template: &str, values: Vec<(&str, serde_json::Value)>| {
                cache.rendered.fetch_add(1, Relaxed);
                render_with(theme, &ctx, template, values)
            };
            out.push((
                "index.html".into(),
                dashboard(kb, &summaries, &kinds, &figures, &last.overdue, &render)?,
            ));
            last.figures = figures;
        }
        last.sparklines = shared
            .sparklines
            .drain()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        last.metrics_stale = false;
    }
    for (path, content) in &out {
        last.files.insert(path.clone(), content.clone());
    }
    Ok(Some(out))
}

pub const SEARCH_INDEX: &str = "search-index.json";
const INCIDENTS_API: &str = "api/incidents.json";

/// Renders a template with the site context and a few values.
/// Renders `template` with the site context `ctx` and `values` added to it.
fn render_with(
    theme: &Theme,
    ctx: &tera::Context,
    template: &str,
    values: Vec<(&str, serde_json::Value)>,
) -> Result<Bytes, Diagnostic> {
    let mut ctx = ctx.clone();
    for (k, v) in values {
        ctx.insert(k.to_string(), &v);
    }
    theme
        .render(template, &ctx)
        .map(|html| Arc::new(html.into_bytes()))
}

type Render<'r> =
    dyn Fn(&str, Vec<(&str, serde_json::Value)>) -> Result<Bytes, Diagnostic> + Sync + 'r;

/// The dashboard at `/`.
fn dashboard(
    kb: &KnowledgeBase,
    summaries: &[DocSummary],
    kinds: &BTreeMap<&str, Vec<usize>>,
    figures: &Figures,
    overdue: &Overdue,
    render: &Render,
) -> Result<Bytes, Diagnostic> {
    let json = |v: &dyn erased::Ser| v.to_json();
    let list_of = |kind: &str| -> Vec<&DocSummary> {
        kinds
            .get(kind)
            .map(|idx| idx.iter().map(|&i| &summaries[i]).collect())
            .unwrap_or_default()
    };
    let incidents = list_of("incident");
    let open: Vec<&&DocSummary> = incidents
        .iter()
        .filter(|d| d.status.as_deref().is_some_and(|s| s != "resolved"))
        .collect();
    let postmortems = list_of("postmortem");
    let (overdue, overdue_count) = overdue_items(kb, summaries, overdue, 12);
    let counts: Vec<serde_json::Value> = section_order(kinds)
        .iter()
        .map(|k| {
            let count = kinds[k].len();
            // `label` reads with the count: "1 postmortem", "2 postmortems".
            let label = if count == 1 { k.to_string() } else { section_of(k) };
            serde_json::json!({"name": section_of(k), "label": label, "url": format!("{}{}/", kb.config.base_path(), section_of(k)), "count": count})
        })
        .collect();
    render(
        "index.html",
        vec![
            ("sections", json(&counts)),
            ("open_incidents", json(&open)),
            (
                "recent_postmortems",
                json(&postmortems.iter().take(8).collect::<Vec<_>>()),
            ),
            (
                "recent_incidents",
                json(&incidents.iter().take(8).collect::<Vec<_>>()),
            ),
            ("overdue_items", json(&overdue)),
            ("overdue_count", json(&overdue_count)),
            ("mttr_sparkline", json(&figures.mttr_sparkline)),
            ("completion_rate", figures.completion_rate.clone()),
        ],
    )
}

/// The metrics pages and exports, the dashboard's figures and the services'
/// sparklines.
#[allow(clippy::type_complexity)]
fn metrics_outputs<'k>(
    kb: &'k KnowledgeBase,
    theme: &Theme,
    ctx: &tera::Context,
    summaries: &[DocSummary],
) -> Result<(Figures, HashMap<&'k str, String>, Vec<(String, Bytes)>), Diagnostic> {
    let bytes = |s: String| Arc::new(s.into_bytes());
    let metrics = crate::aggregate::aggregate(kb);
    let sparklines = kb
        .documents
        .iter()
        .filter(|d| d.kind == "service")
        .map(|doc| {
            let trend = site_metrics::ttr_trend(&metrics, Some(&doc.id));
            (
                doc.id.as_str(),
                charts::sparkline(&format!("MTTR of {} by month", doc.id), &trend),
            )
        })
        .collect();
    let render_with = |template: &str, values: Vec<(&str, serde_json::Value)>| {
        render_with(theme, ctx, template, values)
    };
    // Independent of each other, and each mostly serial inside: made side by side.
    type Make<'a> = &'a (dyn Fn() -> Result<Bytes, Diagnostic> + Sync);
    let jobs: [(&str, Make); 5] = [
        ("metrics/index.html", &|| {
            render_with("metrics.html", site_metrics::metrics_values(&metrics))
        }),
        ("action-items/index.html", &|| {
            render_with(
                "action_items.html",
                site_metrics::action_item_values(&metrics, summaries),
            )
        }),
        ("api/metrics.json", &|| {
            Ok(bytes(crate::report::metrics_json(&metrics)))
        }),
        ("api/action-items.json", &|| {
            Ok(bytes(crate::report::action_items_json(
                &metrics.items,
                kb.today,
            )))
        }),
        ("action-items.csv", &|| {
            Ok(bytes(crate::report::action_items_csv(&metrics.items)))
        }),
    ];
    let outputs: Vec<Result<(String, Bytes), Diagnostic>> = jobs
        .par_iter()
        .map(|(path, make)| Ok((path.to_string(), make()?)))
        .collect();
    // The first error in order, whichever thread met it first.
    let outputs = outputs.into_iter().collect::<Result<Vec<_>, _>>()?;
    let figures = Figures {
        mttr_sparkline: charts::sparkline(
            "MTTR by month",
            &site_metrics::ttr_trend(&metrics, None),
        ),
        completion_rate: serde_json::to_value(metrics.action_items.completion_rate)
            .unwrap_or_default(),
    };
    Ok((figures, sparklines, outputs))
}

/// The summaries of changed documents, as they are now and as they were.
fn changed_summaries<'s>(
    summaries: &'s [DocSummary],
    dirty_new: &'s [bool],
    old_docs: &'s [LastDoc],
    dirty_old: &'s [bool],
) -> impl Iterator<Item = &'s DocSummary> {
    let new = summaries.iter().zip(dirty_new).filter(|(_, d)| **d);
    let old = old_docs
        .iter()
        .map(|o| &o.summary)
        .zip(dirty_old)
        .filter(|(_, d)| **d);
    new.chain(old).map(|(s, _)| s)
}

/// For each document, its index in the last build (by path), if it was there.
fn match_documents(docs: &[Document], old: &[LastDoc]) -> Vec<Option<usize>> {
    if docs.len() == old.len() && docs.iter().zip(old).all(|(d, o)| d.rel_path == o.rel_path) {
        return (0..docs.len()).map(Some).collect();
    }
    let by_path: HashMap<&str, usize> = old
        .iter()
        .enumerate()
        .map(|(o, d)| (d.rel_path.as_str(), o))
        .collect();
    docs.iter()
        .map(|d| by_path.get(d.rel_path.as_str()).copied())
        .collect()
}

/// Documents by tag, in document order. Tags that differ only in case or
/// punctuation share one page (one `tag_slug`): the first spelling names it.
fn tag_map(docs: &[Document]) -> BTreeMap<String, Vec<usize>> {
    let mut tags: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut spelling: HashMap<String, &str> = HashMap::new();
    // Few tags, many uses: each spelling is slugified once.
    let mut slugs: HashMap<&str, String> = HashMap::new();
    for (i, d) in docs.iter().enumerate() {
        for t in &d.meta.tags {
            let slug = slugs.entry(t.as_str()).or_insert_with(|| tag_slug(t));
            let name = match spelling.get(slug.as_str()) {
                Some(name) => *name,
                None => *spelling.entry(slug.clone()).or_insert(t.as_str()),
            };
            let list = match tags.get_mut(name) {
                Some(list) => list,
                None => tags.entry(name.to_string()).or_default(),
            };
            if list.last() != Some(&i) {
                list.push(i);
            }
        }
    }
    tags
}

/// Document indices by kind, each list newest first (undated last, then by id).
fn documents_by_kind<'a>(
    docs: &'a [Document],
    summaries: &[DocSummary],
    dates: &[Option<u32>],
) -> BTreeMap<&'a str, Vec<usize>> {
    let mut kinds: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, d) in docs.iter().enumerate() {
        kinds.entry(d.kind.as_str()).or_default().push(i);
    }
    for list in kinds.values_mut() {
        list.sort_by(|&a, &b| {
            dates[b]
                .cmp(&dates[a])
                .then_with(|| summaries[a].id.cmp(&summaries[b].id))
        });
    }
    kinds
}

/// Each summary's date as a number that sorts like it (`YYYYMMDD`): sorting
/// runs on every rebuild in `serve`, and strings compare slower.
fn date_keys(summaries: &[DocSummary]) -> Vec<Option<u32>> {
    summaries
        .iter()
        .map(|s| {
            s.date.as_deref().map(|d| {
                d.bytes().filter(u8::is_ascii_digit).fold(0u32, |n, c| {
                    n.wrapping_mul(10).wrapping_add(u32::from(c - b'0'))
                })
            })
        })
        .collect()
}

/// The sections in the navigation: the four known kinds first, then the others.
fn section_order<'a>(kinds: &BTreeMap<&'a str, Vec<usize>>) -> Vec<&'a str> {
    let order = ["incident", "postmortem", "runbook", "service"];
    let mut section_kinds: Vec<&str> = order
        .iter()
        .copied()
        .filter(|k| kinds.contains_key(k))
        .collect();
    section_kinds.extend(kinds.keys().copied().filter(|k| !order.contains(k)));
    section_kinds
}

/// A hash of what `aggregate` reads from a document: its place, its front
/// matter and its action items. Equal hashes let a rebuild keep the metrics.
fn metrics_sig(doc: &Document) -> u64 {
    let items = &doc.structure.action_items;
    let mut parts: Vec<&[u8]> = vec![
        doc.rel_path.as_bytes(),
        doc.id.as_bytes(),
        doc.kind.as_bytes(),
        doc.title().as_bytes(),
        &doc.text.as_bytes()[..doc.body_start],
    ];
    parts.extend(items.iter().map(|a| &doc.text.as_bytes()[a.range.clone()]));
    parts.extend(items.iter().map(|a| a.anchor.as_bytes()));
    fingerprint(&parts)
}

/// What decides whether two documents are "similar incidents".
fn similarity_key(
    s: &DocSummary,
    incident_like: bool,
) -> (bool, &str, &[String], &[String], &Option<String>) {
    (incident_like, &s.kind, &s.services, &s.tags, &s.date)
}

/// The document pages an incremental build renders again: those of changed
/// documents and those that show or could now show one of them.
///
/// `dirty_old`/`dirty_new` mark documents (in the last build and in this
/// one) that changed: re-read, gone, or with another summary. A page shows
/// another document's data through links (either way), its incident and
/// postmortems, its services, and "similar incidents"; pages recorded
/// which documents they showed (`LastDoc::deps`), which covers all that
/// was shown; what could newly be shown is found from the new data here.
fn plan_pages(
    ctx: &Shared,
    old_docs: &[LastDoc],
    old_of: &[Option<usize>],
    new_of: &[Option<usize>],
    dirty_old: &[bool],
    dirty_new: &[bool],
) -> Vec<bool> {
    let (kb, summaries) = (ctx.kb, ctx.summaries);
    let (docs, graph) = (&kb.documents, &kb.graph);
    let mut render = dirty_new.to_vec();
    for (i, o) in old_of.iter().enumerate() {
        if let Some(o) = *o {
            render[i] |= old_docs[o].deps.iter().any(|&d| dirty_old[d as usize]);
        }
    }
    // Services whose pages may list a changed document, whose "similar
    // incidents" may change, and service documents that changed.
    let mut listed_in: BTreeSet<&str> = BTreeSet::new();
    let mut similar_in: BTreeSet<&str> = BTreeSet::new();
    let mut service_docs: BTreeSet<&str> = BTreeSet::new();
    for i in (0..docs.len()).filter(|&i| dirty_new[i]) {
        for &j in graph.outgoing[i]
            .iter()
            .chain(&graph.backlinks[i])
            .chain(&graph.postmortems[i])
        {
            render[j] = true;
        }
        let s = &summaries[i];
        listed_in.extend(s.services.iter().map(String::as_str));
        // A postmortem's items show on its incident's service pages.
        if let Some(inc) = docs[i]
            .meta
            .incident
            .as_deref()
            .and_then(|id| graph.get(id))
        {
            listed_in.extend(summaries[inc].services.iter().map(String::as_str));
        }
        let key = similarity_key(s, ctx.incident_like[i]);
        let old = old_of[i].map(|o| &old_docs[o]);
        if old.is_none_or(|o| similarity_key(&o.summary, o.incident_like) != key) {
            similar_in.extend(s.services.iter().map(String::as_str));
        }
        if docs[i].kind == "service" {
            service_docs.insert(docs[i].id.as_str());
        }
    }
    for (o, old) in old_docs.iter().enumerate().filter(|(o, _)| dirty_old[*o]) {
        let s = &old.summary;
        listed_in.extend(s.services.iter().map(String::as_str));
        let replaced = new_of[o].map(|i| similarity_key(&summaries[i], ctx.incident_like[i]));
        if replaced != Some(similarity_key(s, old.incident_like)) {
            similar_in.extend(s.services.iter().map(String::as_str));
        }
        if s.kind == "service" {
            service_docs.insert(s.id.as_str());
        }
    }
    if listed_in.is_empty() && similar_in.is_empty() && service_docs.is_empty() {
        return render;
    }
    for (j, doc) in docs.iter().enumerate() {
        let services = &summaries[j].services;
        let has = |set: &BTreeSet<&str>| services.iter().any(|s| set.contains(s.as_str()));
        render[j] |= (doc.kind == "service" && listed_in.contains(doc.id.as_str()))
            || ((ctx.incident_like[j] || doc.kind == "postmortem") && has(&similar_in))
            || has(&service_docs);
    }
    render
}

/// A document's row in its section's table (`list.html` gets them joined as `rows`).
fn table_row(d: &DocSummary) -> String {
    let incident_like = d.kind == "incident" || d.kind == "postmortem";
    let mut out = format!(
        "<tr data-severity=\"{}\" data-services=\"{}\" data-year=\"{}\">\n<td class=\"nowrap\"><a href=\"{url}\">{}</a></td>\n<td><a href=\"{url}\">{}</a></td>\n",
        escape(d.severity.as_deref().unwrap_or("")),
        escape(&d.services.join(" ")),
        escape(d.year.as_deref().unwrap_or("")),
        escape(&d.id),
        escape(&d.title),
        url = escape(&d.url),
    );
    if incident_like {
        out.push_str(&format!(
            "<td>{}</td><td>{}</td>",
            badge(d),
            d.status
                .as_deref()
                .map(|s| format!("<span class=\"status status-{0}\">{0}</span>", escape(s)))
                .unwrap_or_default()
        ));
    }
    out.push_str(&format!(
        "\n<td class=\"services\">{}</td>\n<td class=\"nowrap\">{}</td>\n",
        escape(&d.services.join(", ")),
        escape(d.date.as_deref().unwrap_or(""))
    ));
    if incident_like {
        out.push_str(&format!(
            "<td class=\"num nowrap\">{}</td>\n",
            escape(d.duration.as_deref().unwrap_or(""))
        ));
    }
    out.push_str("</tr>\n");
    out
}

fn badge(d: &DocSummary) -> String {
    d.severity
        .as_deref()
        .map(|s| {
            format!(
                "<span class=\"badge {}\">{}</span>",
                d.severity_class,
                escape(s)
            )
        })
        .unwrap_or_default()
}

/// A document's `<li>` as macros.html's `m.doc_list` prints it, escaped as
/// tera's autoescape does (an empty string is false in tera's `if`).
fn list_item(d: &DocSummary) -> String {
    use std::fmt::Write;
    let mut out = String::from("<li>");
    if let Some(sev) = d.severity.as_deref().filter(|s| !s.is_empty()) {
        let _ = write!(
            out,
            "<span class=\"badge {}\">{}</span> ",
            escape(&d.severity_class),
            escape(sev)
        );
    }
    let _ = write!(
        out,
        "<a href=\"{}\"><span class=\"doc-id\">{}</span> {}</a>",
        escape(&d.url),
        escape(&d.id),
        escape(&d.title)
    );
    if let Some(date) = d.date.as_deref().filter(|s| !s.is_empty()) {
        let _ = write!(out, " <span class=\"muted nowrap\">{}</span>", escape(date));
    }
    out.push_str("</li>\n");
    out
}

/// Stands for the rows of a list in its template's output: a list can hold
/// thousands of rows, which are spliced in afterwards, copied once, rather
/// than carried through the template engine's values.
const ROWS: &str = "<!--hindsight:rows-->";

/// `page` with its first `marker` replaced by the rows `idx` of `rows`.
fn splice<T>(
    page: &Bytes,
    marker: &str,
    idx: &[usize],
    rows: &[T],
    pick: impl Fn(&T) -> &Arc<str>,
) -> Bytes {
    let text: &[u8] = page;
    let Some(at) = text
        .windows(marker.len())
        .position(|w| w == marker.as_bytes())
    else {
        return page.clone();
    };
    let size: usize = idx.iter().map(|&i| pick(&rows[i]).len()).sum();
    let mut out = Vec::with_capacity(text.len() + size);
    out.extend_from_slice(&text[..at]);
    for &i in idx {
        out.extend_from_slice(pick(&rows[i]).as_bytes());
    }
    out.extend_from_slice(&text[at + marker.len()..]);
    Arc::new(out)
}

/// Postmortems' overdue action items as (due, document, item), sorted:
/// the dashboard shows the first few and counts them all. The same items and
/// rule as /action-items/ (`aggregate`).
type Overdue = Vec<(String, usize, usize)>;

/// The overdue items of document `i`.
fn overdue_of(kb: &KnowledgeBase, i: usize) -> impl Iterator<Item = (String, usize, usize)> + '_ {
    let doc = &kb.documents[i];
    let items = if doc.kind == "postmortem" {
        doc.structure.action_items.as_slice()
    } else {
        &[]
    };
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| {
            crate::aggregate::item_state(item, kb.today).0 == crate::aggregate::ItemState::Overdue
        })
        .map(move |(k, item)| {
            (
                item.due.as_ref().map_or(String::new(), |t| t.raw.clone()),
                i,
                k,
            )
        })
}

fn overdue_all(kb: &KnowledgeBase) -> Overdue {
    let mut items: Overdue = (0..kb.documents.len())
        .into_par_iter()
        .flat_map_iter(|i| overdue_of(kb, i))
        .collect();
    items.par_sort_unstable();
    items
}

/// The first `limit` of `overdue`, as the dashboard shows them.
fn overdue_items<'a>(
    kb: &KnowledgeBase,
    summaries: &'a [DocSummary],
    overdue: &Overdue,
    limit: usize,
) -> (Vec<OwnedItemJson<'a>>, usize) {
    let views = overdue
        .iter()
        .take(limit)
        .map(|&(_, i, k)| OwnedItemJson {
            item: item_view(
                &kb.documents[i].structure.action_items[k],
                kb,
                summaries,
                &kb.documents[i],
            ),
            source: &summaries[i],
        })
        .collect();
    (views, overdue.len())
}

#[derive(Serialize)]
struct OwnedItemJson<'a> {
    item: ActionItemView,
    source: &'a DocSummary,
}

/// Inline Markdown of `doc` (a timeline entry, an action item) as HTML, its
/// links resolved like those of the body.
fn inline_html(kb: &KnowledgeBase, summaries: &[DocSummary], doc: &Document, text: &str) -> String {
    let base = kb.config.base_path();
    let page_of = |path: &str| {
        kb.graph
            .by_path
            .get(path)
            .map(|&j| summaries[j].url.clone())
    };
    render::inline_markdown(
        text,
        &render::InlineLinks {
            doc,
            base: &base,
            page_of: &page_of,
        },
    )
}

fn item_view(
    item: &crate::model::ActionItem,
    kb: &KnowledgeBase,
    summaries: &[DocSummary],
    doc: &Document,
) -> ActionItemView {
    let (state, _) = crate::aggregate::item_state(item, kb.today);
    let due = item.due.as_ref().map(|t| t.raw.clone());
    ActionItemView {
        anchor: item.anchor.clone(),
        text: inline_html(kb, summaries, doc, &item.text),
        owner: item.owner.clone(),
        due,
        done_on: item.done_on.as_ref().map(|t| t.raw.clone()),
        kind: item.kind.as_ref().map(|t| t.raw.clone()),
        ticket: item.ticket.clone(),
        state: state.as_str(),
    }
}

/// The view of document `i`'s page, and the documents whose data it shows
/// (its dependencies: when one of them changes, the page is rendered again).
fn page_view<'a>(ctx: &'a Shared<'a>, cache: &Cache, i: usize) -> (PageView<'a>, Vec<u32>) {
    let (kb, summaries) = (ctx.kb, ctx.summaries);
    let doc = &kb.documents[i];
    let base = kb.config.base_path();
    let graph = &kb.graph;
    let links = render::Links {
        base: &base,
        targets: graph.body_links[i]
            .iter()
            .map(|t| t.map(|j| summaries[j].url.clone()))
            .collect(),
        allow_html: kb.config.allow_html,
    };
    let body = cache.body(doc, &links);
    let incident_meta = policy::incident_meta(&kb.documents, graph, doc);
    let durations = incident_meta.map(|m| {
        let [s, d, a, mi, r] = m.milestones;
        let f = |x: Option<i64>| x.map(human_duration);
        Durations {
            ttd: f(minutes_between(s, d)),
            tta: f(minutes_between(d, a)),
            ttm: f(minutes_between(s, mi)),
            ttr: f(minutes_between(s, r)),
        }
    });
    let milestones: Vec<(String, String)> = incident_meta
        .map(|m| {
            MILESTONES
                .iter()
                .zip(m.milestones)
                .filter_map(|(name, t)| {
                    Some((
                        name.trim_end_matches("_at").to_string(),
                        minute_text(&t?, true),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let timeline = timeline_view(doc, incident_meta, &|text| {
        inline_html(kb, summaries, doc, text)
    });
    let action_items: Vec<ActionItemView> = doc
        .structure
        .action_items
        .iter()
        .map(|a| item_view(a, kb, summaries, doc))
        .collect();
    // Everything it links to or is linked from, its incident among them.
    let mut deps: Vec<usize> = std::iter::once(i)
        .chain(graph.outgoing[i].iter().copied())
        .chain(graph.backlinks[i].iter().copied())
        .chain(graph.postmortems[i].iter().copied())
        .collect();
    let refs = |ids: &[String]| -> Vec<tera::Value> {
        ids.iter()
            .filter_map(|id| graph.get(id))
            .map(|j| ctx.card(j))
            .collect()
    };
    let incident = doc
        .meta
        .incident
        .as_deref()
        .and_then(|id| graph.get(id))
        .map(|j| ctx.card(j));
    let postmortems = graph.postmortems[i].iter().map(|&j| ctx.card(j)).collect();
    let services = summaries[i]
        .services
        .iter()
        .map(|s| ServiceRef {
            id: s.clone(),
            url: graph
                .get(s)
                .filter(|&j| kb.documents[j].kind == "service")
                .map(|j| {
                    deps.push(j);
                    summaries[j].url.clone()
                }),
        })
        .collect();
    let edit_url = kb.config.repo_url.as_ref().map(|r| {
        format!(
            "{}/edit/{}/{}",
            r.trim_end_matches('/'),
            kb.config.repo_branch,
            doc.rel_path
        )
    });
    let review = (doc.kind == "runbook").then(|| runbook_review(kb, doc));
    // Incidents that used this runbook, or hit this service.
    let incident_indices: Vec<usize> = match doc.kind.as_str() {
        "runbook" => graph.backlinks[i]
            .iter()
            .copied()
            .filter(|&j| ctx.incident_like[j])
            .collect(),
        "service" => ctx
            .by_service
            .get(doc.id.as_str())
            .cloned()
            .unwrap_or_default(),
        _ => vec![],
    };
    let incidents: Vec<tera::Value> = incident_indices.iter().map(|&j| ctx.card(j)).collect();
    let incident_rows = incident_indices.iter().map(|&j| &*ctx.rows[j].0).collect();
    let mut runbooks = refs(&doc.meta.runbooks);
    let mut open_items = vec![];
    if doc.kind == "service" {
        let runbook_indices = ctx
            .runbooks_of
            .get(doc.id.as_str())
            .cloned()
            .unwrap_or_default();
        runbooks = runbook_indices.iter().map(|&j| ctx.card(j)).collect();
        deps.extend(runbook_indices);
        for src in incident_indices
            .iter()
            .flat_map(|&j| std::iter::once(j).chain(graph.postmortems[j].iter().copied()))
        {
            // Its items' text links like its body does.
            deps.push(src);
            deps.extend(graph.outgoing[src].iter().copied());
            for item in kb.documents[src]
                .structure
                .action_items
                .iter()
                .filter(|a| !a.done)
            {
                open_items.push(OwnedItem {
                    item: item_view(item, kb, summaries, &kb.documents[src]),
                    source: ctx.card(src),
                });
            }
        }
    }
    let similar_indices = similar_incidents(ctx, i);
    let similar = similar_indices.iter().map(|&j| ctx.card(j)).collect();
    deps.extend(incident_indices);
    deps.extend(similar_indices);
    deps.sort_unstable();
    deps.dedup();
    let view = PageView {
        doc: ctx.card(i),
        body,
        fields: doc
            .front
            .as_ref()
            .map_or(serde_json::Value::Null, |f| f.to_json()),
        durations,
        milestones,
        timeline_html: timeline_rows(&timeline),
        timeline_zone: incident_meta
            .and_then(|m| m.started())
            .map(|s| zone_name(s.offset())),
        timeline,
        action_items_html: action_item_rows(&action_items),
        action_items,
        backlinks: graph.backlinks[i].iter().map(|&j| ctx.card(j)).collect(),
        related: refs(&doc.meta.related),
        similar,
        incident,
        postmortems,
        runbooks,
        services,
        edit_url,
        review,
        incidents,
        incident_rows,
        open_items,
        sparkline: ctx.sparklines.get(doc.id.as_str()).map(String::as_str),
    };
    (view, deps.into_iter().map(|j| j as u32).collect())
}

fn is_incident_like(kb: &KnowledgeBase, j: usize) -> bool {
    let d = &kb.documents[j];
    d.kind == "incident"
        || (d.kind == "postmortem" && d.meta.incident.is_none() && d.meta.started().is_some())
}

/// `UTC` or `UTC+05:30`: what a reader needs to place a timeline's times.
fn zone_name(offset: &FixedOffset) -> String {
    if offset.local_minus_utc() == 0 {
        return "UTC".into();
    }
    format!("UTC{}", offset_text(offset))
}

/// `+05:30`, `-07:00`: chrono's `%:z`.
fn offset_text(offset: &FixedOffset) -> String {
    let secs = offset.local_minus_utc();
    let minutes = secs.unsigned_abs() / 60;
    let sign = if secs < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `2026-01-02 04:47`, and ` -07:00` after it `with_offset`: what chrono's
/// `format` gives for `%Y-%m-%d %H:%M %:z`, without parsing the pattern on
/// every timeline entry of every page.
fn minute_text(t: &DateTime<FixedOffset>, with_offset: bool) -> String {
    use chrono::{Datelike, Timelike};
    use std::fmt::Write;
    if !(0..=9999).contains(&t.year()) {
        // chrono signs and widens such years; leave them to it.
        let pattern = if with_offset {
            "%Y-%m-%d %H:%M %:z"
        } else {
            "%Y-%m-%d %H:%M"
        };
        return t.format(pattern).to_string();
    }
    let mut out = String::with_capacity(24);
    let _ = write!(
        out,
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute()
    );
    if with_offset {
        out.push(' ');
        out.push_str(&offset_text(t.offset()));
    }
    out
}

/// Up to five incidents sharing the most services and tags with this one.
/// Candidates come from the service index, so this stays linear in practice.
fn similar_incidents(ctx: &Shared<'_>, i: usize) -> Vec<usize> {
    let (kb, summaries) = (ctx.kb, ctx.summaries);
    if !ctx.incident_like[i] && kb.documents[i].kind != "postmortem" {
        return vec![];
    }
    let me = &summaries[i];
    let (my_services, my_tags) = ctx.keys(i);
    let my_tag_bits = tag_bits(my_tags);
    // Each candidate is scored once; a per-thread mark per document replaces
    // sorting and deduplicating the candidate list (most of this function's
    // time when it did).
    let mut scored: Vec<(usize, usize)> = vec![];
    SEEN.with_borrow_mut(|(mark, seen)| {
        let n = summaries.len();
        if seen.len() != n || *mark == u32::MAX {
            *seen = vec![0; n];
            *mark = 0;
        }
        *mark += 1;
        // The newest incidents of each shared service are enough to find
        // look-alikes, and the cap keeps this linear on knowledge bases with
        // thousands per service.
        for s in &me.services {
            for &j in ctx
                .by_service
                .get(s.as_str())
                .into_iter()
                .flatten()
                .take(SIMILAR_CANDIDATES)
            {
                if j == i || seen[j] == *mark {
                    continue;
                }
                seen[j] = *mark;
                let (services, tags) = ctx.keys(j);
                // Services and tags compare as interned numbers; a document
                // has a few of each, so a scan beats a binary search.
                let shared_services = count(services, my_services);
                // A score of 3 needs a shared tag unless two services are
                // shared; disjoint tag bits rule one out without a scan.
                if shared_services < 2 && tag_bits(tags) & my_tag_bits == 0 {
                    continue;
                }
                let score = 2 * shared_services + count(tags, my_tags);
                if score >= 3 {
                    scored.push((score, j));
                }
            }
        }
    });
    let graph = &kb.graph;
    scored.retain(|(_, j)| !graph.outgoing[i].contains(j) && !graph.backlinks[i].contains(j));
    // Best score, then newest, then document order (as a stable sort of
    // the ascending candidates would give): only the first five are sorted.
    let order = |a: &(usize, usize), b: &(usize, usize)| {
        b.0.cmp(&a.0)
            .then_with(|| ctx.dates[b.1].cmp(&ctx.dates[a.1]))
            .then(a.1.cmp(&b.1))
    };
    if scored.len() > 5 {
        scored.select_nth_unstable_by(4, order);
        scored.truncate(5);
    }
    scored.sort_unstable_by(order);
    scored.into_iter().map(|(_, j)| j).collect()
}

const SIMILAR_CANDIDATES: usize = 200;

thread_local! {
    /// `similar_incidents`' scratch: a call's mark, and the last mark each
    /// document was seen with.
    static SEEN: std::cell::RefCell<(u32, Vec<u32>)> = const { std::cell::RefCell::new((0, Vec::new())) };
}

/// How many of `theirs` are in `mine`.
fn count(theirs: &[u64], mine: &[u64]) -> usize {
    theirs.iter().filter(|x| mine.contains(x)).count()
}

/// A 64-bit summary of tag hashes: two documents whose bits don't meet
/// share no tag.
fn tag_bits(tags: &[u64]) -> u64 {
    tags.iter().fold(0, |bits, t| bits | 1 << (t >> 58))
}

/// Indexes computed once per build and shared by every page.
struct Shared<'a> {
    kb: &'a KnowledgeBase,
    summaries: &'a [DocSummary],
    /// The summaries' `date_keys`: comparing dates as strings, `similar`
    /// spent a third of its time in them.
    dates: &'a [Option<u32>],
    incident_like: Vec<bool>,
    /// Each document's row in tables (`table_row`) and its item in lists
    /// (`list_item`, a card's `li`).
    rows: Vec<(Arc<str>, Arc<str>)>,
    /// Service id to the incident-like documents that hit it, newest first.
    by_service: HashMap<&'a str, Vec<usize>>,
    /// Service id to the runbooks that name it.
    runbooks_of: HashMap<&'a str, Vec<usize>>,
    /// MTTR sparkline of each service document.
    sparklines: HashMap<&'a str, String>,
    /// Services and tags of incident-like documents and postmortems as
    /// sorted hashes, all in one array (see `keys`).
    key_words: Vec<u64>,
    /// Where document `j`'s hashes are in `key_words`: services from
    /// `key_at[j][0]` to `key_at[j][1]`, tags from there to `key_at[j][2]`.
    key_at: Vec<[u32; 3]>,
    /// Each document's card (`card`), made when a page first lists it.
    cards: Vec<std::sync::OnceLock<tera::Value>>,
}

impl<'a> Shared<'a> {
    /// Document `j`'s services and tags as sorted numbers, which `similar`
    /// compares for every page. The hash is fixed, so every build agrees;
    /// two names sharing a 64-bit hash would only make a look-alike look closer.
    fn keys(&self, j: usize) -> (&[u64], &[u64]) {
        let [start, services, tags] = self.key_at[j].map(|k| k as usize);
        (
            &self.key_words[start..services],
            &self.key_words[services..tags],
        )
    }

    /// `dates` are the summaries' `date_keys`.
    fn new(
        kb: &'a KnowledgeBase,
        summaries: &'a [DocSummary],
        dates: &'a [Option<u32>],
        rows: Vec<(Arc<str>, Arc<str>)>,
    ) -> Self {
        let incident_like: Vec<bool> = (0..kb.documents.len())
            .map(|j| is_incident_like(kb, j))
            .collect();
        let mut by_service: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut runbooks_of: HashMap<&str, Vec<usize>> = HashMap::new();
        for (j, s) in summaries.iter().enumerate() {
            for svc in &s.services {
                if incident_like[j] {
                    by_service.entry(svc.as_str()).or_default().push(j);
                }
            }
            if kb.documents[j].kind == "runbook" {
                for svc in &kb.documents[j].meta.services {
                    runbooks_of.entry(svc.as_str()).or_default().push(j);
                }
            }
        }
        for list in by_service.values_mut() {
            list.sort_by(|&a, &b| dates[b].cmp(&dates[a]));
        }
        let mut key_words = Vec::new();
        let mut key_at = Vec::with_capacity(summaries.len());
        let state = foldhash::fast::FixedState::with_seed(0x5137_01a2);
        let push = |words: &[String], out: &mut Vec<u64>| {
            use std::hash::BuildHasher;
            let start = out.len();
            out.extend(words.iter().map(|w| state.hash_one(w.as_str())));
            out[start..].sort_unstable();
            out.len() as u32
        };
        for (j, s) in summaries.iter().enumerate() {
            let start = key_words.len() as u32;
            if incident_like[j] || s.kind == "postmortem" {
                let services = push(&s.services, &mut key_words);
                let tags = push(&s.tags, &mut key_words);
                key_at.push([start, services, tags]);
            } else {
                key_at.push([start; 3]);
            }
        }
        Shared {
            kb,
            summaries,
            dates,
            rows,
            incident_like,
            by_service,
            runbooks_of,
            sparklines: HashMap::new(),
            key_words,
            key_at,
            cards: (0..summaries.len()).map(|_| Default::default()).collect(),
        }
    }

    /// Document `j` as templates see it in a page's lists: made once per
    /// build, then shared by every page that lists it (tera's values are
    /// reference-counted, so a page takes a pointer, not a copy).
    fn card(&self, j: usize) -> tera::Value {
        self.cards[j]
            .get_or_init(|| {
                let doc = &self.summaries[j];
                tera::Value::from_serializable(&Card {
                    doc,
                    li: &self.rows[j].1,
                })
            })
            .clone()
    }
}

fn runbook_review(kb: &KnowledgeBase, doc: &Document) -> Review {
    let last_reviewed = doc.meta.last_reviewed.map(|d| d.to_string());
    let Some(due) = crate::validate::review_due(&doc.meta, &kb.config) else {
        // Never reviewed, or a review interval too long to ever fall due.
        let state = if last_reviewed.is_some() {
            "fresh"
        } else {
            "never"
        };
        return Review {
            state,
            last_reviewed,
            due: None,
        };
    };
    let state = if due < kb.today {
        "stale"
    } else if due - chrono::Duration::days(30) < kb.today {
        "due"
    } else {
        "fresh"
    };
    Review {
        state,
        last_reviewed,
        due: Some(due.to_string()),
    }
}

fn timeline_view(
    doc: &Document,
    incident: Option<&crate::model::Meta>,
    inline: &dyn Fn(&str) -> String,
) -> Vec<TimelineItem> {
    let entries = &doc.structure.timeline;
    let times: Vec<_> = entries.iter().map(|e| e.time).collect();
    let resolved = match incident.and_then(|m| m.started()) {
        Some(start) => policy::resolve_timeline(&times, start),
        None => vec![None; entries.len()],
    };
    let mut items: Vec<(Option<DateTime<FixedOffset>>, TimelineItem)> = entries
        .iter()
        .zip(resolved)
        .map(|(e, at)| {
            // Shown in the incident's offset, like its milestones: an entry
            // written in UTC sorts and reads with the others.
            let at = at.map(|t| {
                incident
                    .and_then(|m| m.started())
                    .map_or(t, |s| t.with_timezone(s.offset()))
            });
            let time = match (at, e.time) {
                (Some(at), _) => minute_text(&at, false),
                (None, Some(t)) => t.time.format("%H:%M").to_string(),
                (None, None) => String::new(),
            };
            (
                at,
                TimelineItem {
                    time,
                    text: inline(&e.text),
                    milestone: None,
                },
            )
        })
        .collect();
    // Milestones without an entry at the same minute join the drawn timeline.
    if let Some(m) = incident {
        for (name, t) in MILESTONES.iter().zip(m.milestones) {
            let Some(t) = t else { continue };
            let label = name.trim_end_matches("_at");
            let zone = m.started().map_or(*t.offset(), |s| *s.offset());
            let t = t.with_timezone(&zone);
            let minute = minute_text(&t, false);
            if let Some((_, item)) = items
                .iter_mut()
                .find(|(_, it)| it.time == minute && it.milestone.is_none())
            {
                item.milestone = Some(label.to_string());
            } else {
                items.push((
                    Some(t),
                    TimelineItem {
                        time: minute,
                        text: escape(&capitalize(label)),
                        milestone: Some(label.to_string()),
                    },
                ));
            }
        }
    }
    items.sort_by(|a, b| match (a.0, b.0) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => std::cmp::Ordering::Equal,
    });
    items.into_iter().map(|(_, it)| it).collect()
}

/// The rows of page.html's drawn timeline, made here rather than by a tera
/// loop: tera looks each value up by path, which made these loops a large
/// part of rendering a page. Byte for byte what the loop printed; values are
/// escaped as tera's autoescape does.
fn timeline_rows(items: &[TimelineItem]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    for t in items {
        // tera treats an empty string as false.
        let milestone = t.milestone.as_deref().filter(|m| !m.is_empty());
        out.push_str("<li class=\"");
        if let Some(m) = milestone {
            let _ = write!(out, "milestone milestone-{}", escape(m));
        }
        let _ = write!(
            out,
            "\"><time>{}</time><span class=\"tl-text\">",
            escape(&t.time)
        );
        if let Some(m) = milestone {
            let _ = write!(out, "<span class=\"tl-milestone\">{}</span> ", escape(m));
        }
        out.push_str(&t.text);
        out.push_str("</span></li>\n");
    }
    out
}

/// The rows of page.html's action-item table (see `timeline_rows`).
fn action_item_rows(items: &[ActionItemView]) -> String {
    use std::fmt::Write;
    let esc = |s: &Option<String>| escape(s.as_deref().unwrap_or_default());
    // tera treats an empty string as false.
    fn set(s: &Option<String>) -> Option<&str> {
        s.as_deref().filter(|s| !s.is_empty())
    }
    let mut out = String::new();
    for a in items {
        let state = escape(a.state);
        let _ = write!(
            out,
            "<tr class=\"state-{state}\"><td><span class=\"state state-{state}\">{state}</span></td><td>{} <a class=\"item-link\" href=\"#{}\" aria-label=\"Jump to the item in the text\">\u{2193}</a></td><td>",
            a.text,
            escape(&a.anchor)
        );
        if let Some(owner) = set(&a.owner) {
            let _ = write!(out, "@{}", escape(owner));
        }
        let _ = write!(out, "</td><td class=\"nowrap\">{}", esc(&a.due));
        if let Some(done) = set(&a.done_on) {
            let _ = write!(
                out,
                "<br><span class=\"muted\">done {}</span>",
                escape(done)
            );
        }
        let _ = write!(out, "</td><td>{}</td><td>", esc(&a.kind));
        if let Some(ticket) = set(&a.ticket) {
            let ticket = escape(ticket);
            if a.ticket.as_deref().is_some_and(|t| t.starts_with("http")) {
                let _ = write!(out, "<a href=\"{ticket}\">ticket</a>");
            } else {
                let _ = write!(out, "<code>{ticket}</code>");
            }
        }
        out.push_str("</td></tr>\n");
    }
    out
}

pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

/// A tag's page name: `slugify`, with `+` and `#` after a letter or digit
/// spelled out (`C++` is `c-plus-plus` and `C#` is `c-sharp`, where slugify
/// makes both `c`); a hashtag's leading `#` is dropped (`#db` is `db`). A tag
/// with no letter or digit (`?`) is named by its bytes (`tag-3f`); a literal
/// tag of that name would share its page, as tags sharing a slug do.
pub fn tag_slug(written: &str) -> String {
    let tag = written.trim_start_matches('#');
    if !tag.chars().any(|c| c.is_alphanumeric() || c == '_') {
        return written.bytes().fold(String::from("tag-"), |mut out, b| {
            let _ = std::fmt::Write::write_fmt(&mut out, format_args!("{b:02x}"));
            out
        });
    }
    if !tag.contains(['+', '#']) {
        return crate::parse::slugify(tag);
    }
    let mut spelled = String::with_capacity(tag.len() + 16);
    let mut after_word = false;
    for c in tag.chars() {
        match c {
            '+' if after_word => spelled.push_str(" plus "),
            '#' if after_word => spelled.push_str(" sharp "),
            _ => {
                spelled.push(c);
                after_word = c.is_alphanumeric();
            }
        }
    }
    crate::parse::slugify(&spelled)
}

fn absolute(site: &SiteView, path: &str) -> String {
    let origin = site.base_url.split_once("://").map(|(scheme, rest)| {
        let host = rest.split('/').next().unwrap_or("");
        format!("{scheme}://{host}")
    });
    format!("{}{}", origin.unwrap_or_default(), path)
}

fn feed(kb: &KnowledgeBase, site: &SiteView, postmortems: &[&DocSummary]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\">\n");
    let updated = |d: Option<&str>| format!("{}T00:00:00Z", d.unwrap_or(&site.today));
    out.push_str(&format!(
        "  <title>{} postmortems</title>\n",
        escape(&site.title)
    ));
    out.push_str(&format!(
        "  <id>{}</id>\n",
        escape(&absolute(site, &site.base))
    ));
    out.push_str(&format!(
        "  <link href=\"{}\" rel=\"self\"/>\n",
        escape(&absolute(site, &format!("{}feed.xml", site.base)))
    ));
    let entries: Vec<(&DocSummary, &Document, String)> = postmortems
        .iter()
        .take(20)
        .map(|p| {
            let doc = kb.doc(&p.id).expect("summaries come from documents");
            let published = doc
                .meta
                .published_at
                .map(|t| t.to_rfc3339())
                .unwrap_or_else(|| updated(p.date.as_deref()));
            (*p, doc, published)
        })
        .collect();
    // The feed changed when its newest entry did: the latest of their times
    // (compared as instants: their offsets differ).
    let newest = entries
        .iter()
        .filter_map(|(_, _, t)| DateTime::parse_from_rfc3339(t).ok())
        .max()
        .map_or_else(|| updated(None), |t| t.to_rfc3339());
    out.push_str(&format!("  <updated>{newest}</updated>\n"));
    for (p, doc, published) in entries {
        let author = doc
            .meta
            .authors
            .first()
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        out.push_str(&format!(
            "  <entry>\n    <title>{} {}</title>\n    <id>{}</id>\n    <link href=\"{}\"/>\n    <updated>{published}</updated>\n    <author><name>{}</name></author>\n    <summary>{}</summary>\n  </entry>\n",
            escape(&p.id),
            escape(&p.title),
            escape(&absolute(site, &p.url)),
            escape(&absolute(site, &p.url)),
            escape(&author),
            escape(&p.summary)
        ));
    }
    out.push_str("</feed>\n");
    out
}

/// The paths of a site's files, those held and those already written, sorted.
fn all_paths<'s>(
    files: &'s BTreeMap<String, Bytes>,
    written: &'s BTreeSet<String>,
) -> impl Iterator<Item = &'s String> {
    files
        .keys()
        .chain(written)
        .collect::<BTreeSet<_>>()
        .into_iter()
}

impl Site {
    /// Every output path, sorted: those in `files` and those `written`.
    pub fn paths(&self) -> impl Iterator<Item = &String> {
        all_paths(&self.files, &self.written)
    }
}

fn sitemap(site: &SiteView, files: &BTreeMap<String, Bytes>, written: &BTreeSet<String>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for path in all_paths(files, written).filter(|p| p.ends_with("index.html")) {
        let url = format!("{}{}", site.base, path.trim_end_matches("index.html"));
        out.push_str(&format!(
            "  <url><loc>{}</loc></url>\n",
            escape(&absolute(site, &url))
        ));
    }
    out.push_str("</urlset>\n");
    out
}

/// `/api/incidents.json`: every incident with its fields and durations in
/// minutes, from the records of `incident_record`.
fn incidents_json(records: &[Option<Arc<str>>]) -> String {
    let mut out = String::from("{\"incidents\":[");
    for (k, r) in records.iter().flatten().enumerate() {
        if k > 0 {
            out.push(',');
        }
        out.push_str(r);
    }
    out.push_str("]}\n");
    out
}

/// One incident of /api/incidents.json, as compact JSON.
fn incident_record(kb: &KnowledgeBase, summaries: &[DocSummary], i: usize) -> String {
    let doc = &kb.documents[i];
    let m = &doc.meta;
    let [s, d, a, mi, r] = m.milestones;
    serde_json::json!({
                "id": doc.id,
                "title": doc.title(),
                "kind": doc.kind,
                "url": summaries[i].url,
                "severity": m.severity,
                "status": m.status,
                "services": m.services,
                "tags": m.tags,
                "started_at": s.map(|t| t.to_rfc3339()),
                "detected_at": d.map(|t| t.to_rfc3339()),
                "acknowledged_at": a.map(|t| t.to_rfc3339()),
                "mitigated_at": mi.map(|t| t.to_rfc3339()),
                "resolved_at": r.map(|t| t.to_rfc3339()),
                "ttd_minutes": minutes_between(s, d),
                "tta_minutes": minutes_between(d, a),
                "ttm_minutes": minutes_between(s, mi),
                "ttr_minutes": minutes_between(s, r),
                "customer_minutes": m.customer_minutes,
                "users_affected": m.users_affected,
                "postmortems": kb.graph.postmortems[i].iter().map(|&j| &kb.documents[j].id).collect::<Vec<_>>(),
                "fields": doc.front.as_ref().map(|f| f.to_json()),
    })
    .to_string()
}

/// Lets the list renderer take any serializable value without naming its type.
mod erased {
    pub trait Ser {
        fn to_json(&self) -> serde_json::Value;
    }
    impl<T: serde::Serialize + ?Sized> Ser for T {
        fn to_json(&self) -> serde_json::Value {
            serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_and_zones_read_as_chrono_writes_them() {
        for at in [
            "2026-01-02T04:47:00Z",
            "2026-03-01T01:00:59+05:30",
            "2026-07-14T23:59:00-07:00",
            "0999-12-31T00:05:00-00:30",
            "2026-02-28T12:00:00+14:00",
        ] {
            let t = DateTime::parse_from_rfc3339(at).unwrap();
            assert_eq!(
                minute_text(&t, false),
                t.format("%Y-%m-%d %H:%M").to_string()
            );
            assert_eq!(
                minute_text(&t, true),
                t.format("%Y-%m-%d %H:%M %:z").to_string()
            );
            let zone = zone_name(t.offset());
            match t.offset().local_minus_utc() {
                0 => assert_eq!(zone, "UTC"),
                _ => assert_eq!(zone, format!("UTC{}", t.format("%:z"))),
            }
        }
    }
}
