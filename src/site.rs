//! Stage 6b, `site`: the whole static site as files in memory.
//!
//! Builds plain view structs from the knowledge base (what templates see is
//! documented in docs/theming.md), renders document bodies in parallel and
//! the tera templates of the theme, and returns `Site`: a map from output path
//! to bytes. Writing it to disk is `write`'s job; `serve` serves it from memory.

use crate::diagnostic::{Diagnostic, Pos};
use crate::kb::KnowledgeBase;
use crate::model::{Document, MILESTONES};
use crate::render::{self, escape};
use crate::theme::Theme;
use crate::{charts, policy, search, site_metrics};
use chrono::{DateTime, FixedOffset, NaiveDate};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// The built site: output path (relative, `/`-separated) to content.
/// Contents are shared with the `Cache`, so a rebuild copies no page.
#[derive(Debug, Default, Clone)]
pub struct Site {
    pub files: BTreeMap<String, Arc<Vec<u8>>>,
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// What a rebuild can reuse: rendered Markdown bodies and rendered pages, each
/// with a fingerprint (a hash) of exactly what it was made from. A page whose
/// inputs hash the same is not rendered again, so an incremental build is
/// byte-identical to a full one by construction. `build` uses an empty cache.
#[derive(Default)]
pub struct Cache {
    bodies: Mutex<HashMap<String, (u64, Arc<String>)>>,
    pages: Mutex<HashMap<String, (u64, Bytes)>>,
    pub search: search::TermCache,
    /// Pages rendered (not reused) by the last build, for timings and tests.
    pub rendered: std::sync::atomic::AtomicUsize,
}

/// A file's content, shared between the cache and every site built from it.
pub type Bytes = Arc<Vec<u8>>;

/// A rendered output file, or why it could not be rendered.
type Rendered = Result<(String, Bytes), String>;

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
    /// Renders `template` with `site` and `values`, unless the same inputs made this page before.
    fn page(
        &self,
        theme: &Theme,
        path: &str,
        template: &str,
        site: &[u8],
        values: &[(&str, serde_json::Value)],
    ) -> Result<Arc<Vec<u8>>, String> {
        let encoded: Vec<Vec<u8>> = values
            .iter()
            .map(|(_, v)| serde_json::to_vec(v).unwrap_or_default())
            .collect();
        let mut parts: Vec<&[u8]> = vec![template.as_bytes(), site];
        parts.extend(values.iter().map(|(k, _)| k.as_bytes()));
        parts.extend(encoded.iter().map(Vec::as_slice));
        let key = fingerprint(&parts);
        if let Some((k, bytes)) = self.pages.lock().unwrap().get(path) {
            if *k == key {
                return Ok(bytes.clone());
            }
        }
        let mut ctx = tera::Context::new();
        for (k, v) in values {
            ctx.insert(*k, v);
        }
        let bytes = Arc::new(theme.render(template, &ctx)?.into_bytes());
        self.rendered
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.pages
            .lock()
            .unwrap()
            .insert(path.to_string(), (key, bytes.clone()));
        Ok(bytes)
    }

    fn body(&self, doc: &Document, links: &render::Links) -> Arc<String> {
        let targets: Vec<u8> = links
            .targets
            .iter()
            .flat_map(|t| t.as_deref().unwrap_or("-").bytes().chain([0]))
            .collect();
        let key = fingerprint(&[
            doc.text.as_bytes(),
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

    /// Forgets rendered pages (not bodies): after a theme change.
    pub fn clear_pages(&self) {
        self.pages.lock().unwrap().clear();
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
    pub count: usize,
}

/// A document as it appears in lists and cards.
#[derive(Serialize, Clone)]
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
    doc: &'a DocSummary,
    body: Arc<String>,
    fields: serde_json::Value,
    durations: Option<Durations>,
    milestones: Vec<(String, String)>,
    timeline: Vec<TimelineItem>,
    action_items: Vec<ActionItemView>,
    backlinks: Vec<&'a DocSummary>,
    related: Vec<&'a DocSummary>,
    similar: Vec<&'a DocSummary>,
    incident: Option<&'a DocSummary>,
    postmortems: Vec<&'a DocSummary>,
    runbooks: Vec<&'a DocSummary>,
    services: Vec<ServiceRef>,
    edit_url: Option<String>,
    review: Option<Review>,
    /// On runbook and service pages: the incidents that used or hit them.
    incidents: Vec<&'a DocSummary>,
    open_items: Vec<OwnedItem<'a>>,
    /// On service pages: MTTR by month as an inline SVG.
    sparkline: Option<&'a str>,
}

#[derive(Serialize)]
struct ServiceRef {
    id: String,
    url: Option<String>,
}

#[derive(Serialize)]
struct OwnedItem<'a> {
    item: ActionItemView,
    source: &'a DocSummary,
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
    let slug: String = doc
        .id
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("{}/{}/", section_of(&doc.kind), slug.trim_matches('.'))
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
    let severity = m
        .severity
        .clone()
        .or_else(|| incident.and_then(|im| im.severity.clone()));
    let services = if m.services.is_empty() {
        incident.map(|im| im.services.clone()).unwrap_or_default()
    } else {
        m.services.clone()
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
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut diags = vec![];
    for (i, doc) in kb.documents.iter().enumerate() {
        if let Some(&j) = seen.get(&page_path(doc)) {
            diags.push(
                Diagnostic::error(
                    "output-collision",
                    &doc.rel_path,
                    doc.id_pos,
                    format!(
                        "`{}` and `{}` would both be written to /{}",
                        doc.id,
                        kb.documents[j].id,
                        page_path(doc)
                    ),
                )
                .with_hint(
                    "ids that differ only in case or punctuation map to the same page; rename one",
                ),
            );
        } else {
            seen.insert(page_path(doc), i);
        }
    }
    diags
}

pub fn build(kb: &KnowledgeBase, theme: &Theme) -> Result<Site, String> {
    build_with(kb, theme, &Cache::default())
}

/// Builds the site, reusing what `cache` holds from earlier builds.
pub fn build_with(kb: &KnowledgeBase, theme: &Theme, cache: &Cache) -> Result<Site, String> {
    cache
        .rendered
        .store(0, std::sync::atomic::Ordering::Relaxed);
    let mut timings = vec![];
    let mut clock = Instant::now();
    let mut lap = |name, timings: &mut Vec<_>| {
        timings.push((name, clock.elapsed()));
        clock = Instant::now();
    };
    let base = kb.config.base_path();
    let summaries: Vec<DocSummary> = (0..kb.documents.len())
        .into_par_iter()
        .map(|i| summarize(kb, i))
        .collect();
    let mut kinds: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, d) in kb.documents.iter().enumerate() {
        kinds.entry(d.kind.as_str()).or_default().push(i);
    }
    // Newest first; undated last, then by id.
    for list in kinds.values_mut() {
        list.sort_by(|&a, &b| {
            summaries[b]
                .date
                .cmp(&summaries[a].date)
                .then_with(|| summaries[a].id.cmp(&summaries[b].id))
        });
    }
    let order = ["incident", "postmortem", "runbook", "service"];
    let mut section_kinds: Vec<&str> = order
        .iter()
        .copied()
        .filter(|k| kinds.contains_key(k))
        .collect();
    section_kinds.extend(kinds.keys().copied().filter(|k| !order.contains(k)));
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
                count: kinds[k].len(),
            })
            .collect(),
        version: env!("CARGO_PKG_VERSION"),
    };
    lap("summaries", &mut timings);

    let site_value = serde_json::to_value(&site).expect("site view serializes");
    let site_bytes = serde_json::to_vec(&site_value).unwrap_or_default();
    let metrics = crate::aggregate::aggregate(kb);
    lap("aggregate", &mut timings);
    let mut shared = Shared::new(kb, &summaries);
    for doc in kb.documents.iter().filter(|d| d.kind == "service") {
        let trend = site_metrics::ttr_trend(&metrics, Some(&doc.id));
        shared.sparklines.insert(
            doc.id.as_str(),
            charts::sparkline(&format!("MTTR of {} by month", doc.id), &trend),
        );
    }
    let pages: Vec<Rendered> = (0..kb.documents.len())
        .into_par_iter()
        .map(|i| {
            let view = page_view(&shared, cache, i);
            let path = format!("{}index.html", page_path(&kb.documents[i]));
            let view = serde_json::to_value(&view).map_err(|e| e.to_string())?;
            let html = cache.page(
                theme,
                &path,
                "page.html",
                &site_bytes,
                &[("site", site_value.clone()), ("page", view)],
            )?;
            Ok((path, html))
        })
        .collect();
    lap("document pages", &mut timings);

    let mut files: BTreeMap<String, Arc<Vec<u8>>> = BTreeMap::new();
    for page in pages {
        let (path, html) = page?;
        files.insert(path, html);
    }

    // `path` names the output: it keys the page cache.
    let render_list = |path: &str,
                       template: &str,
                       extra: &[(&str, serde_json::Value)]|
     -> Result<Arc<Vec<u8>>, String> {
        let mut values = vec![("site", site_value.clone())];
        values.extend(extra.iter().map(|(k, v)| (*k, v.clone())));
        cache.page(theme, path, template, &site_bytes, &values)
    };
    let list_of =
        |idx: &[usize]| -> Vec<&DocSummary> { idx.iter().map(|&i| &summaries[i]).collect() };
    let json = |v: &dyn erased::Ser| v.to_json();

    for kind in &section_kinds {
        let docs = list_of(&kinds[kind]);
        let services: BTreeSet<&str> = docs
            .iter()
            .flat_map(|d| d.services.iter().map(String::as_str))
            .collect();
        let years: BTreeSet<&str> = docs.iter().filter_map(|d| d.year.as_deref()).collect();
        let out = render_list(
            &format!("{}/index.html", section_of(kind)),
            "list.html",
            &[
                ("kind", json(kind)),
                ("title", json(&capitalize(&section_of(kind)))),
                ("docs", json(&docs)),
                ("filter_services", json(&services)),
                (
                    "filter_years",
                    json(&years.iter().rev().collect::<Vec<_>>()),
                ),
            ],
        )?;
        files.insert(format!("{}/index.html", section_of(kind)), out);
    }

    // Tags.
    // Tags that differ only in case or punctuation share one page (one slug):
    // the first spelling names it.
    let mut tags: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut spelling: HashMap<String, &str> = HashMap::new();
    for (i, d) in kb.documents.iter().enumerate() {
        for t in &d.meta.tags {
            let name = *spelling.entry(tag_slug(t)).or_insert(t.as_str());
            let docs = tags.entry(name).or_default();
            if docs.last() != Some(&i) {
                docs.push(i);
            }
        }
    }
    let tag_list: Vec<serde_json::Value> = tags
        .iter()
        .map(|(t, docs)| serde_json::json!({"name": t, "slug": tag_slug(t), "count": docs.len(), "url": format!("{base}tags/{}/", tag_slug(t))}))
        .collect();
    files.insert(
        "tags/index.html".into(),
        render_list("tags/index.html", "tags.html", &[("tags", json(&tag_list))])?,
    );
    let tag_pages: Vec<Rendered> = tags
        .par_iter()
        .map(|(tag, idx)| {
            let mut idx = idx.clone();
            idx.sort_by(|&a, &b| summaries[b].date.cmp(&summaries[a].date));
            let path = format!("tags/{}/index.html", tag_slug(tag));
            let out = render_list(
                &path,
                "tag.html",
                &[("tag", json(tag)), ("docs", json(&list_of(&idx)))],
            )?;
            Ok((path, out))
        })
        .collect();
    for page in tag_pages {
        let (path, out) = page?;
        files.insert(path, out);
    }
    lap("index pages", &mut timings);

    // Dashboard.
    let incidents = kinds
        .get("incident")
        .map(|v| list_of(v))
        .unwrap_or_default();
    let open: Vec<&&DocSummary> = incidents
        .iter()
        .filter(|d| d.status.as_deref().is_some_and(|s| s != "resolved"))
        .collect();
    let postmortems = kinds
        .get("postmortem")
        .map(|v| list_of(v))
        .unwrap_or_default();
    let overdue = overdue_items(kb, &summaries);
    files.insert(
        "index.html".into(),
        render_list(
            "index.html",
            "index.html",
            &[
                ("open_incidents", json(&open)),
                (
                    "recent_postmortems",
                    json(&postmortems.iter().take(8).collect::<Vec<_>>()),
                ),
                (
                    "recent_incidents",
                    json(&incidents.iter().take(8).collect::<Vec<_>>()),
                ),
                (
                    "overdue_items",
                    json(&overdue.iter().take(12).collect::<Vec<_>>()),
                ),
                ("overdue_count", json(&overdue.len())),
                (
                    "mttr_sparkline",
                    json(&charts::sparkline(
                        "MTTR by month",
                        &site_metrics::ttr_trend(&metrics, None),
                    )),
                ),
                (
                    "completion_rate",
                    json(&metrics.action_items.completion_rate),
                ),
            ],
        )?,
    );
    files.insert(
        "search/index.html".into(),
        render_list("search/index.html", "search.html", &[])?,
    );
    files.insert("404.html".into(), render_list("404.html", "404.html", &[])?);

    // Search index, feed, sitemap, API.
    let bytes = |s: String| Arc::new(s.into_bytes());
    files.insert(
        "metrics/index.html".into(),
        render_list(
            "metrics/index.html",
            "metrics.html",
            &site_metrics::metrics_values(&metrics),
        )?,
    );
    files.insert(
        "action-items/index.html".into(),
        render_list(
            "action-items/index.html",
            "action_items.html",
            &site_metrics::action_item_values(&metrics, &summaries),
        )?,
    );
    files.insert(
        "api/metrics.json".into(),
        bytes(crate::report::metrics_json(&metrics)),
    );
    files.insert(
        "api/action-items.json".into(),
        bytes(crate::report::action_items_json(&metrics.items, kb.today)),
    );
    files.insert(
        "action-items.csv".into(),
        bytes(crate::report::action_items_csv(&metrics.items)),
    );
    lap("metrics pages", &mut timings);
    files.insert(
        "search-index.json".into(),
        bytes(search::index(kb, &summaries, &cache.search)),
    );
    lap("search index", &mut timings);
    files.insert("feed.xml".into(), bytes(feed(kb, &site, &postmortems)));
    files.insert("sitemap.xml".into(), bytes(sitemap(&site, &files)));
    files.insert(
        "api/incidents.json".into(),
        bytes(incidents_json(kb, &summaries)),
    );

    // Static assets: the theme's, then the knowledge base's own files.
    for (path, content) in theme.static_files() {
        files.insert(format!("static/{path}"), Arc::new(content));
    }
    files.insert(
        "static/highlight.css".into(),
        bytes(render::highlight_css()),
    );
    // Generated pages win over a knowledge-base file at the same path.
    for (path, content) in &kb.assets {
        files.entry(path.clone()).or_insert_with(|| content.clone());
    }
    lap("feeds and assets", &mut timings);
    Ok(Site { files, timings })
}

/// Open action items past due on the build date, oldest first.
fn overdue_items<'a>(kb: &KnowledgeBase, summaries: &'a [DocSummary]) -> Vec<OwnedItemJson<'a>> {
    let mut items = vec![];
    // The same items and rule as /action-items/ (`aggregate`): postmortems' items.
    for (i, doc) in kb
        .documents
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind == "postmortem")
    {
        for item in &doc.structure.action_items {
            if crate::aggregate::item_state(item, kb.today).0
                == crate::aggregate::ItemState::Overdue
            {
                items.push(OwnedItemJson {
                    item: item_view(item, kb, summaries, doc),
                    source: &summaries[i],
                });
            }
        }
    }
    items.sort_by(|a, b| a.item.due.cmp(&b.item.due));
    items
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

fn page_view<'a>(ctx: &'a Shared<'a>, cache: &Cache, i: usize) -> PageView<'a> {
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
                        t?.format("%Y-%m-%d %H:%M %:z").to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let timeline = timeline_view(doc, incident_meta, &|text| {
        inline_html(kb, summaries, doc, text)
    });
    let action_items = doc
        .structure
        .action_items
        .iter()
        .map(|a| item_view(a, kb, summaries, doc))
        .collect();
    let refs = |ids: &[String]| -> Vec<&'a DocSummary> {
        ids.iter()
            .filter_map(|id| graph.get(id))
            .map(|j| &summaries[j])
            .collect()
    };
    let incident = doc
        .meta
        .incident
        .as_deref()
        .and_then(|id| graph.get(id))
        .map(|j| &summaries[j]);
    let postmortems = graph.postmortems[i]
        .iter()
        .map(|&j| &summaries[j])
        .collect();
    let services = summaries[i]
        .services
        .iter()
        .map(|s| ServiceRef {
            id: s.clone(),
            url: graph
                .get(s)
                .filter(|&j| kb.documents[j].kind == "service")
                .map(|j| summaries[j].url.clone()),
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
    let incidents: Vec<&DocSummary> = match doc.kind.as_str() {
        "runbook" => graph.backlinks[i]
            .iter()
            .filter(|&&j| ctx.incident_like[j])
            .map(|&j| &summaries[j])
            .collect(),
        "service" => ctx
            .by_service
            .get(doc.id.as_str())
            .into_iter()
            .flatten()
            .map(|&j| &summaries[j])
            .collect(),
        _ => vec![],
    };
    let mut runbooks = refs(&doc.meta.runbooks);
    let mut open_items = vec![];
    if doc.kind == "service" {
        runbooks = ctx
            .runbooks_of
            .get(doc.id.as_str())
            .into_iter()
            .flatten()
            .map(|&j| &summaries[j])
            .collect();
        for src in incidents
            .iter()
            .flat_map(|s| graph.get(&s.id))
            .flat_map(|j| std::iter::once(j).chain(graph.postmortems[j].iter().copied()))
        {
            for item in kb.documents[src]
                .structure
                .action_items
                .iter()
                .filter(|a| !a.done)
            {
                open_items.push(OwnedItem {
                    item: item_view(item, kb, summaries, &kb.documents[src]),
                    source: &summaries[src],
                });
            }
        }
    }
    let similar = similar_incidents(ctx, i);
    PageView {
        doc: &summaries[i],
        body,
        fields: doc
            .front
            .as_ref()
            .map_or(serde_json::Value::Null, |f| f.to_json()),
        durations,
        milestones,
        timeline,
        action_items,
        backlinks: graph.backlinks[i].iter().map(|&j| &summaries[j]).collect(),
        related: refs(&doc.meta.related),
        similar,
        incident,
        postmortems,
        runbooks,
        services,
        edit_url,
        review,
        incidents,
        open_items,
        sparkline: ctx.sparklines.get(doc.id.as_str()).map(String::as_str),
    }
}

fn is_incident_like(kb: &KnowledgeBase, j: usize) -> bool {
    let d = &kb.documents[j];
    d.kind == "incident"
        || (d.kind == "postmortem" && d.meta.incident.is_none() && d.meta.started().is_some())
}

/// Up to five incidents sharing the most services and tags with this one.
/// Candidates come from the service index, so this stays linear in practice.
fn similar_incidents<'a>(ctx: &Shared<'a>, i: usize) -> Vec<&'a DocSummary> {
    let (kb, summaries) = (ctx.kb, ctx.summaries);
    if !ctx.incident_like[i] && kb.documents[i].kind != "postmortem" {
        return vec![];
    }
    let me = &summaries[i];
    // The newest incidents of each shared service are enough to find look-alikes,
    // and the cap keeps this linear on knowledge bases with thousands per service.
    let mut candidates: Vec<usize> = me
        .services
        .iter()
        .flat_map(|s| {
            ctx.by_service
                .get(s.as_str())
                .into_iter()
                .flatten()
                .take(SIMILAR_CANDIDATES)
                .copied()
        })
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    // Services and tags compare as interned numbers: this runs for every page.
    let (my_services, my_tags) = &ctx.keys[i];
    let count = |theirs: &[u32], mine: &[u32]| {
        theirs
            .iter()
            .filter(|x| mine.binary_search(x).is_ok())
            .count()
    };
    let graph = &kb.graph;
    let mut scored: Vec<(usize, usize)> = candidates
        .into_iter()
        .filter(|&j| j != i)
        .map(|j| {
            let (services, tags) = &ctx.keys[j];
            (count(services, my_services) * 2 + count(tags, my_tags), j)
        })
        .filter(|(s, j)| {
            *s >= 3 && !graph.outgoing[i].contains(j) && !graph.backlinks[i].contains(j)
        })
        .collect();
    scored.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| summaries[b.1].date.cmp(&summaries[a.1].date))
    });
    scored
        .into_iter()
        .take(5)
        .map(|(_, j)| &summaries[j])
        .collect()
}

const SIMILAR_CANDIDATES: usize = 200;

/// Indexes computed once per build and shared by every page.
struct Shared<'a> {
    kb: &'a KnowledgeBase,
    summaries: &'a [DocSummary],
    incident_like: Vec<bool>,
    /// Service id to the incident-like documents that hit it, newest first.
    by_service: HashMap<&'a str, Vec<usize>>,
    /// Service id to the runbooks that name it.
    runbooks_of: HashMap<&'a str, Vec<usize>>,
    /// MTTR sparkline of each service document.
    sparklines: HashMap<&'a str, String>,
    /// Each document's services and tags as sorted interned numbers.
    keys: Vec<(Vec<u32>, Vec<u32>)>,
}

impl<'a> Shared<'a> {
    fn new(kb: &'a KnowledgeBase, summaries: &'a [DocSummary]) -> Self {
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
            list.sort_by(|&a, &b| summaries[b].date.cmp(&summaries[a].date));
        }
        let mut interned: HashMap<&str, u32> = HashMap::new();
        let mut intern = |words: &'a [String]| -> Vec<u32> {
            let mut ids: Vec<u32> = words
                .iter()
                .map(|w| {
                    let next = interned.len() as u32;
                    *interned.entry(w.as_str()).or_insert(next)
                })
                .collect();
            ids.sort_unstable();
            ids
        };
        // Services and tags share one numbering: `similar` compares them separately.
        let keys = summaries
            .iter()
            .map(|s| (intern(&s.services), intern(&s.tags)))
            .collect();
        Shared {
            kb,
            summaries,
            incident_like,
            by_service,
            runbooks_of,
            sparklines: HashMap::new(),
            keys,
        }
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
                (Some(at), _) => at.format("%Y-%m-%d %H:%M").to_string(),
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
            let minute = t.format("%Y-%m-%d %H:%M").to_string();
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

pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map_or(String::new(), |f| f.to_uppercase().chain(c).collect())
}

pub fn tag_slug(tag: &str) -> String {
    crate::parse::slugify(tag)
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
    out.push_str(&format!(
        "  <updated>{}</updated>\n",
        updated(postmortems.first().and_then(|p| p.date.as_deref()))
    ));
    for p in postmortems.iter().take(20) {
        let doc = kb.doc(&p.id).expect("summaries come from documents");
        let published = doc
            .meta
            .published_at
            .map(|t| t.to_rfc3339())
            .unwrap_or_else(|| updated(p.date.as_deref()));
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

fn sitemap(site: &SiteView, files: &BTreeMap<String, Arc<Vec<u8>>>) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    for path in files.keys().filter(|p| p.ends_with("index.html")) {
        let url = format!("{}{}", site.base, path.trim_end_matches("index.html"));
        out.push_str(&format!(
            "  <url><loc>{}</loc></url>\n",
            escape(&absolute(site, &url))
        ));
    }
    out.push_str("</urlset>\n");
    out
}

/// `/api/incidents.json`: every incident with its fields and durations in minutes.
fn incidents_json(kb: &KnowledgeBase, summaries: &[DocSummary]) -> String {
    let incidents: Vec<serde_json::Value> = (0..kb.documents.len())
        .filter(|&i| is_incident_like(kb, i))
        .map(|i| {
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
        })
        .collect();
    serde_json::to_string_pretty(&serde_json::json!({ "incidents": incidents })).expect("json")
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

/// Position of a problem with the theme (templates that fail to render).
pub fn theme_error(message: String) -> Diagnostic {
    Diagnostic::error("theme", "themes", Pos::file_start(), message)
}
