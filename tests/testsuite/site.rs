//! `hindsight build`: fixture knowledge bases built into temporary folders and
//! the output checked file by file. Every page expected exists; a crawl of
//! every `href` and `src` finds no dead internal link (fragments included),
//! also under a sub-path `base_url`; nothing loads from outside the site;
//! front matter and raw HTML are escaped; a failed build leaves the previous
//! site byte for byte; a folder hindsight did not make is not emptied.
//!
//! The `site` fixture is hostile on purpose: script tags in titles and config,
//! raw HTML, `javascript:` links, an image beside its Markdown, a `static/`
//! folder, tags that differ only in case, a draft.

use crate::support::{copy_dir, edit, fixture, repo_root, scratch_copy, stats_json, TODAY};
use assert_cmd::Command;
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::Duration;

/// What one `hindsight build` did.
pub struct Built {
    pub code: i32,
    pub stderr: String,
}

/// Runs `hindsight build --root ROOT --output OUT --today TODAY ARGS...`.
pub fn build(root: &Path, out: Option<&Path>, args: &[&str]) -> Built {
    let mut cmd = Command::cargo_bin("hindsight").expect("the hindsight binary is built");
    cmd.current_dir(root)
        .arg("build")
        .arg("--root")
        .arg(root)
        .args(["--today", TODAY]);
    if let Some(out) = out {
        cmd.arg("--output").arg(out);
    }
    let out = cmd
        .args(args)
        .timeout(Duration::from_secs(120))
        .output()
        .expect("hindsight runs");
    let built = Built {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        built.code != -1 && built.code != 101 && !built.stderr.contains("panicked"),
        "build crashed or hung:\n{}",
        built.stderr
    );
    built
}

/// Builds `root` into a fresh temporary folder and insists it worked.
pub fn build_ok(root: &Path, args: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("a temporary folder");
    let out = tmp.path().join("public");
    let run = build(root, Some(&out), args);
    assert_eq!(
        run.code,
        0,
        "build of {} failed:\n{}",
        root.display(),
        run.stderr
    );
    (tmp, out)
}

/// A file of the output as text. tera's autoescape writes `/` as `&#x2F;`:
/// the same character to a browser, turned back here so tests read plainly.
fn read(out: &Path, rel: &str) -> String {
    std::fs::read_to_string(out.join(rel))
        .unwrap_or_else(|e| panic!("{rel} in the output: {e}"))
        .replace("&#x2F;", "/")
}

/// Every file of a tree, relative path to bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.expect("readable output"))
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect()
}

fn html_files(out: &Path) -> Vec<(String, String)> {
    files(out)
        .into_iter()
        .filter(|(p, _)| p.ends_with(".html"))
        .map(|(p, b)| {
            (
                p,
                String::from_utf8(b)
                    .expect("HTML is UTF-8")
                    .replace("&#x2F;", "/"),
            )
        })
        .collect()
}

/// `(attribute, value)` of every `href` and `src` in a page, entities decoded.
fn urls_in(html: &str) -> Vec<(String, String)> {
    static ATTR: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"(?i)\s(href|src)\s*=\s*(?:"([^"]*)"|'([^']*)')"#).unwrap());
    ATTR.captures_iter(html)
        .map(|c| {
            let value = c.get(2).or(c.get(3)).map_or("", |m| m.as_str());
            (c[1].to_ascii_lowercase(), unescape(value))
        })
        .collect()
}

fn unescape(s: &str) -> String {
    s.replace("&#x2F;", "/")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// True for `https:`, `mailto:`, `//host`: URLs that leave the site.
fn is_external(url: &str) -> bool {
    static SCHEME: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^[a-zA-Z][a-zA-Z0-9+.-]*:").unwrap());
    SCHEME.is_match(url) || url.starts_with("//")
}

/// The ids (and names) of the elements of a page: what fragments may point at.
fn anchors(html: &str) -> BTreeSet<String> {
    static ID: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r#"\s(?:id|name)="([^"]*)""#).unwrap());
    ID.captures_iter(html).map(|c| unescape(&c[1])).collect()
}

/// Follows every internal `href` and `src` of every page of the site in `out`,
/// whose links start with `base` (`/` or `/kb/`), and returns what is wrong: a
/// link to no file, a fragment with no element of that id, an absolute link
/// outside `base`. URL lists outside HTML (the sitemap, the feed, the search
/// index, the API) are followed too.
fn crawl(out: &Path, base: &str, origin: &str) -> Vec<String> {
    let pages: HashMap<String, String> = html_files(out).into_iter().collect();
    let mut problems = vec![];
    let check = |from: &str, url: &str| -> Option<String> {
        let (path, fragment) = match url.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (url, None),
        };
        let path = path.split('?').next().unwrap_or("");
        let target: String = if path.is_empty() {
            from.to_string()
        } else if let Some(abs) = path.strip_prefix('/') {
            match format!("/{abs}").strip_prefix(base) {
                Some(rest) => percent_decode(rest),
                None => return Some(format!("{from}: `{url}` is outside the base path {base}")),
            }
        } else {
            // Relative to the page's folder.
            let mut parts: Vec<&str> = from.split('/').collect();
            parts.pop();
            for seg in path.split('/') {
                match seg {
                    "" | "." => {}
                    ".." => {
                        parts.pop();
                    }
                    s => parts.push(s),
                }
            }
            let mut joined = parts.join("/");
            if path.ends_with('/') {
                joined.push('/');
            }
            percent_decode(&joined)
        };
        let file = if target.is_empty() || target.ends_with('/') || out.join(&target).is_dir() {
            format!("{}/index.html", target.trim_end_matches('/'))
                .trim_start_matches('/')
                .to_string()
        } else {
            target
        };
        if !out.join(&file).is_file() {
            return Some(format!(
                "{from}: `{url}` points at {file}, which is not in the site"
            ));
        }
        let fragment = fragment.filter(|f| !f.is_empty())?;
        let html = pages.get(&file)?;
        (!anchors(html).contains(&percent_decode(fragment)))
            .then(|| format!("{from}: `{url}`: {file} has no element with id `{fragment}`"))
    };
    for (page, html) in &pages {
        for (_, url) in urls_in(html) {
            if !is_external(&url) {
                problems.extend(check(page, &url));
            }
        }
    }
    // Absolute URLs of the site in the sitemap and the feed; site paths in JSON.
    let locs = Regex::new(r#"<loc>([^<]*)</loc>|<link href="([^"]*)"|<id>([^<]*)</id>"#).unwrap();
    for xml in ["sitemap.xml", "feed.xml"] {
        for c in locs.captures_iter(&read(out, xml)) {
            let url = unescape(c.get(1).or(c.get(2)).or(c.get(3)).unwrap().as_str());
            match url.strip_prefix(origin) {
                Some(path) if path.starts_with('/') => problems.extend(check(xml, path)),
                _ => problems.push(format!("{xml}: `{url}` does not start with {origin}{base}")),
            }
        }
    }
    let index: serde_json::Value = serde_json::from_str(&read(out, "search-index.json")).unwrap();
    for doc in index["docs"].as_array().unwrap() {
        problems.extend(check("search-index.json", doc[3].as_str().unwrap()));
    }
    let api: serde_json::Value = serde_json::from_str(&read(out, "api/incidents.json")).unwrap();
    for inc in api["incidents"].as_array().unwrap() {
        problems.extend(check("api/incidents.json", inc["url"].as_str().unwrap()));
    }
    problems
}

fn assert_no_dead_links(out: &Path, base: &str, origin: &str) {
    let problems = crawl(out, base, origin);
    assert!(
        problems.is_empty(),
        "{} dead links:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

/// Nothing is loaded from outside the site: no external `src`, stylesheet,
/// preload, icon or CSS `url()`/`@import`.
fn assert_self_contained(out: &Path) {
    let link_tag = Regex::new(r"(?is)<link\b[^>]*>").unwrap();
    let css_url = Regex::new(r#"url\(\s*['"]?(https?:)?//"#).unwrap();
    let mut problems = vec![];
    for (page, html) in html_files(out) {
        for (attr, url) in urls_in(&html) {
            if attr == "src" && is_external(&url) {
                problems.push(format!("{page}: src `{url}`"));
            }
        }
        for tag in link_tag.find_iter(&html) {
            let tag = tag.as_str();
            let loads = [
                "stylesheet",
                "preload",
                "icon",
                "modulepreload",
                "prefetch",
                "manifest",
            ]
            .iter()
            .any(|r| tag.contains(&format!("rel=\"{r}")));
            if loads && urls_in(tag).iter().any(|(_, u)| is_external(u)) {
                problems.push(format!("{page}: {tag}"));
            }
        }
        if html.contains("@import") || css_url.is_match(&html) {
            problems.push(format!("{page}: inline CSS loads from elsewhere"));
        }
    }
    for (path, bytes) in files(out)
        .into_iter()
        .filter(|(p, _)| p.ends_with(".css") || p.ends_with(".js"))
    {
        let text = String::from_utf8_lossy(&bytes);
        if css_url.is_match(&text)
            || text.contains("@import")
            || text.contains("http://")
            || text.contains("https://")
        {
            problems.push(format!("{path} refers to another site"));
        }
    }
    assert!(
        problems.is_empty(),
        "the site loads from outside:\n{}",
        problems.join("\n")
    );
}

/// The page of every document, worked out from the sources, not from the
/// builder: `content/KIND-folder/…/x.md` with `id: X` becomes `KIND-folder/x/`.
fn expected_document_pages(root: &Path, drafts: bool) -> Vec<String> {
    let id = Regex::new(r"(?m)^id:\s*(\S+)\s*$").unwrap();
    let draft = Regex::new(r"(?m)^status:\s*draft\s*$").unwrap();
    let mut pages = vec![];
    for e in walkdir::WalkDir::new(root.join("content"))
        .into_iter()
        .map(Result::unwrap)
    {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "md") {
            continue;
        }
        let text = std::fs::read_to_string(p).unwrap();
        let front = text.split("\n---").next().unwrap();
        let section = p
            .strip_prefix(root.join("content"))
            .unwrap()
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .to_string();
        if section == "postmortems" && !drafts && draft.is_match(front) {
            continue;
        }
        let id = id.captures(front).map_or_else(
            || p.file_stem().unwrap().to_string_lossy().to_string(),
            |c| c[1].trim_matches('"').to_string(),
        );
        pages.push(format!("{section}/{}/index.html", id.to_lowercase()));
    }
    assert!(!pages.is_empty(), "no documents under {}", root.display());
    pages
}

const SITE_PAGES: [&str; 17] = [
    "index.html",
    "incidents/index.html",
    "postmortems/index.html",
    "runbooks/index.html",
    "services/index.html",
    "tags/index.html",
    "search/index.html",
    "404.html",
    "feed.xml",
    "sitemap.xml",
    "api/incidents.json",
    "search-index.json",
    "static/style.css",
    "static/highlight.css",
    "static/search.js",
    "static/filter.js",
    "static/favicon.svg",
];

fn assert_pages(out: &Path, pages: &[String]) {
    let missing: Vec<&String> = pages.iter().filter(|p| !out.join(p).is_file()).collect();
    assert!(missing.is_empty(), "missing from the site: {missing:?}");
}

#[test]
fn example_site_has_every_page_and_no_dead_link() {
    let root = repo_root();
    let (_tmp, out) = build_ok(&root, &[]);
    let mut pages: Vec<String> = SITE_PAGES.iter().map(|s| s.to_string()).collect();
    pages.extend(expected_document_pages(&root, false));
    pages.extend(
        [
            "tags/database/index.html",
            "tags/waf/index.html",
            ".hindsight-output",
        ]
        .map(String::from),
    );
    assert_pages(&out, &pages);
    assert!(
        !out.join("postmortems/pm-2026-009").exists(),
        "the example's draft postmortem is left out"
    );
    // Every tag of every page has its page.
    for (page, html) in html_files(&out) {
        for (_, url) in urls_in(&html)
            .into_iter()
            .filter(|(_, u)| u.starts_with("/tags/"))
        {
            assert!(
                out.join(url.trim_start_matches('/'))
                    .join("index.html")
                    .is_file(),
                "{page}: {url}"
            );
        }
    }
    let index = read(&out, "incidents/index.html");
    assert!(
        index.contains("INC-2026-004") && index.contains("data-severity=\"SEV1\""),
        "the incidents index lists incidents"
    );
    assert_no_dead_links(&out, "/", "");
    assert_self_contained(&out);
    // The feed and the sitemap are well formed enough to list every page.
    let sitemap = read(&out, "sitemap.xml");
    assert!(
        sitemap.contains("<loc>/postmortems/pm-2026-003/</loc>"),
        "{sitemap}"
    );
    assert!(read(&out, "feed.xml").contains("<entry>"));
}

#[test]
fn metrics_page_agrees_with_stats() {
    let root = repo_root();
    let (_tmp, out) = build_ok(&root, &[]);
    let page = read(&out, "metrics/index.html");
    let stats = stats_json(&root);
    // Time to publish is in days (it once printed 6.7 days as `7m`).
    let days = stats["postmortems"]["days_to_publish"]["median"]
        .as_f64()
        .expect("the example has published postmortems");
    let line = format!("Median time from resolution to publication: {days:.1} days.");
    assert!(page.contains(&line), "{line} not in the metrics page");
}

#[test]
fn a_draft_left_out_of_the_site_still_counts_as_written() {
    // The example's draft PM-2026-009 is the only postmortem of INC-2026-011;
    // made SEV2, that incident needs one, due long before TODAY.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_dir(&repo_root().join("content"), &root.join("content"));
    std::fs::copy(
        repo_root().join("hindsight.yaml"),
        root.join("hindsight.yaml"),
    )
    .unwrap();
    edit(
        &root.join("content/incidents/inc-2026-011-mobile-login-key-rotation.md"),
        "severity: SEV3",
        "severity: SEV2",
    );
    let (_out_tmp, out) = build_ok(root, &[]);
    assert!(
        !out.join("postmortems/pm-2026-009").exists(),
        "drafts are left out"
    );
    let built: serde_json::Value = serde_json::from_str(&read(&out, "api/metrics.json")).unwrap();
    let stats = stats_json(root);
    // `check` passed (build_ok), so nothing is overdue; the exports agree.
    assert_eq!(built["postmortems"]["overdue"], serde_json::json!([]));
    assert_eq!(built["postmortems"], stats["postmortems"]);
    assert!(!read(&out, "metrics/index.html").contains("INC-2026-011"));
}

#[test]
fn example_site_works_under_a_sub_path() {
    let root = repo_root();
    let (_tmp, out) = build_ok(&root, &["--base-url", "https://acme.github.io/kb/"]);
    for (page, html) in html_files(&out) {
        for (attr, url) in urls_in(&html) {
            if !is_external(&url) && !url.starts_with('#') {
                assert!(
                    url.starts_with("/kb/"),
                    "{page}: {attr}=\"{url}\" does not start with /kb/"
                );
            }
        }
        assert!(
            html.contains("data-base=\"/kb/\""),
            "{page}: search.js needs the base path"
        );
    }
    assert_no_dead_links(&out, "/kb/", "https://acme.github.io");
    assert_self_contained(&out);
    let sitemap = read(&out, "sitemap.xml");
    assert!(
        sitemap.contains("<loc>https://acme.github.io/kb/incidents/inc-2026-004/</loc>"),
        "{sitemap}"
    );
    let feed = read(&out, "feed.xml");
    assert!(
        feed.contains("<link href=\"https://acme.github.io/kb/postmortems/"),
        "{feed}"
    );
    let index: serde_json::Value = serde_json::from_str(&read(&out, "search-index.json")).unwrap();
    assert!(index["docs"]
        .as_array()
        .unwrap()
        .iter()
        .all(|d| d[3].as_str().unwrap().starts_with("/kb/")));
}

#[test]
fn fixture_sites_have_no_dead_links() {
    // `valid` has base_url /kb/ in its config, a custom kind and nested folders.
    let (_tmp, out) = build_ok(&fixture("valid"), &[]);
    let mut pages: Vec<String> = SITE_PAGES.iter().map(|s| s.to_string()).collect();
    pages.extend(expected_document_pages(&fixture("valid"), false));
    pages.extend(
        [
            "decisions/index.html",
            "tags/deploy/index.html",
            "tags/tier-1/index.html",
        ]
        .map(String::from),
    );
    assert_pages(&out, &pages);
    assert_no_dead_links(&out, "/kb/", "");
    assert_self_contained(&out);

    let (_tmp, out) = build_ok(&fixture("site"), &[]);
    let mut pages: Vec<String> = SITE_PAGES.iter().map(|s| s.to_string()).collect();
    pages.extend(expected_document_pages(&fixture("site"), false));
    pages.extend(
        [
            "tags/deploy/index.html",
            "tags/on-call/index.html",
            "tags/tier-1/index.html",
        ]
        .map(String::from),
    );
    assert_pages(&out, &pages);
    assert_no_dead_links(&out, "/", "");
    assert_self_contained(&out);
}

#[test]
fn files_beside_documents_and_static_files_are_copied() {
    let root = fixture("site");
    let (_tmp, out) = build_ok(&root, &["--base-url", "/kb/"]);
    let png = std::fs::read(root.join("content/incidents/img/error-rate.png")).unwrap();
    assert_eq!(
        std::fs::read(out.join("incidents/img/error-rate.png")).unwrap(),
        png,
        "the image beside its Markdown is copied as is"
    );
    assert_eq!(
        read(&out, "cheatsheet.txt"),
        read(&root, "static/cheatsheet.txt"),
        "static/ lands at the site root"
    );
    let page = read(&out, "incidents/inc-2026-001/index.html");
    assert!(
        page.contains("src=\"/kb/incidents/img/error-rate.png\""),
        "{page}"
    );
    assert!(page.contains("href=\"/kb/cheatsheet.txt\""), "{page}");
    assert_no_dead_links(&out, "/kb/", "");
}

#[test]
fn links_in_timelines_and_action_items_go_to_pages() {
    let (_tmp, out) = build_ok(&fixture("site"), &[]);
    let incident = read(&out, "incidents/inc-2026-001/index.html");
    let timeline = incident
        .split("<ol class=\"timeline\">")
        .nth(1)
        .expect("a drawn timeline")
        .split("</ol>")
        .next()
        .unwrap();
    assert!(
        timeline.contains("href=\"/runbooks/rb-rollback/#mitigation\""),
        "{timeline}"
    );
    assert!(
        timeline.contains("&lt;b&gt;not bold&lt;/b&gt;"),
        "raw HTML in a timeline entry is text: {timeline}"
    );
    let pm = read(&out, "postmortems/pm-2026-001/index.html");
    let items = pm
        .split("<table class=\"items\">")
        .nth(1)
        .expect("an action item table")
        .split("</table>")
        .next()
        .unwrap();
    assert!(items.contains("href=\"/runbooks/rb-rollback/\""), "{items}");
    assert!(!items.contains(".md\""), "{items}");
    // An anchor inside an anchor is invalid HTML: browsers split the link.
    let link = Regex::new(r"<a[\s>]|</a>").unwrap();
    for (page, html) in html_files(&out) {
        let mut depth = 0i32;
        for tag in link.find_iter(&html) {
            depth += if tag.as_str() == "</a>" { -1 } else { 1 };
            assert!(
                depth <= 1,
                "{page}: a link inside a link near byte {}",
                tag.start()
            );
        }
    }
}

#[test]
fn impact_figures_are_grouped_by_thousands() {
    let (_tmp, out) = build_ok(&repo_root(), &[]);
    // users_affected: 3412, customer_minutes: 21000 in its front matter.
    let page = read(&out, "incidents/inc-2026-007/index.html");
    assert!(
        page.contains("<dt>Impact</dt><dd>3,412 users · 21,000 customer-minutes</dd>"),
        "{}",
        page.split("<dl class=\"facts\">").nth(1).unwrap_or(&page)
    );
}

#[test]
fn a_drawn_timeline_names_the_offset_of_its_times() {
    let (_tmp, out) = build_ok(&repo_root(), &[]);
    // Its incident started at 09:31+02:00: the entries are read there.
    let page = read(&out, "postmortems/pm-2026-006/index.html");
    let block = page
        .split("<section class=\"timeline-block\"")
        .nth(1)
        .expect("a drawn timeline");
    assert!(block.contains("Times are UTC+02:00."), "{block}");
    assert!(block.contains("<time>2026-07-14 09:42</time>"), "{block}");
    let page = read(&out, "postmortems/pm-2026-001/index.html");
    assert!(page.contains("Times are UTC."), "an offset of zero is UTC");
}

#[test]
fn root_relative_md_links_go_to_pages_under_the_base_url() {
    let kb = scratch_copy("valid"); // base_url: /kb/
    let pm = kb
        .path()
        .join("content/postmortems/pm-2026-001-checkout-outage.md");
    let runbook = "/content/runbooks/rb-checkout-rollback.md";
    edit(
        &pm,
        "](../runbooks/rb-checkout-rollback.md)",
        &format!("]({runbook}#mitigation)"),
    );
    edit(
        &pm,
        "- 23:50 — @dana acknowledges.",
        &format!("- 23:50 — @dana acknowledges, opens [the runbook]({runbook})."),
    );
    edit(
        &pm,
        "- [ ] Alert on cache miss ratio",
        &format!("- [ ] Alert on cache miss ratio ([how]({runbook}#diagnosis))"),
    );
    let (_tmp, out) = build_ok(kb.path(), &[]);
    let page = read(&out, "postmortems/pm-2026-001/index.html");
    let page_url = "/kb/runbooks/rb-checkout-rollback/";
    let section = |start: &str, end: &str| {
        page.split(start)
            .nth(1)
            .unwrap_or_else(|| panic!("no {start} in {page}"))
            .split(end)
            .next()
            .unwrap()
            .to_string()
    };
    let body = section("<div class=\"prose\">", "</div>");
    assert!(
        body.contains(&format!(
            "the <a href=\"{page_url}#mitigation\">rollback runbook</a>"
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!("opens <a href=\"{page_url}\">the runbook</a>")),
        "{body}"
    );
    // The drawn timeline and the action item table render these lines again.
    let timeline = section("<ol class=\"timeline\">", "</ol>");
    assert!(
        timeline.contains(&format!("<a href=\"{page_url}\">the runbook</a>")),
        "{timeline}"
    );
    let items = section("<table class=\"items\">", "</table>");
    assert!(
        items.contains(&format!("<a href=\"{page_url}#diagnosis\">how</a>")),
        "{items}"
    );
    assert!(!page.contains("href=\"/content/"), "{page}");
    assert_no_dead_links(&out, "/kb/", "");
}

#[test]
fn tags_differing_in_case_share_one_page() {
    let (_tmp, out) = build_ok(&fixture("site"), &[]);
    let page = read(&out, "tags/on-call/index.html");
    assert!(
        page.contains("INC-2026-001") && page.contains("INC-2026-002"),
        "`On Call` and `on-call` are one tag: {page}"
    );
    let tags = read(&out, "tags/index.html");
    assert_eq!(tags.matches("href=\"/tags/on-call/\"").count(), 1, "{tags}");
}

#[test]
fn tags_slugify_would_merge_get_pages_of_their_own() {
    // slugify makes `c` of `C++` and `C#`, and nothing of `?` or `..`.
    let kb = scratch_copy("site");
    edit(
        &kb.path().join("content/incidents/inc-2026-002-open.md"),
        "tags: [on-call]",
        "tags: [on-call, C, C++, C#, \"?\", \"..\", \"+\", \"#db\"]",
    );
    let (_tmp, out) = build_ok(kb.path(), &[]);
    for (tag, slug) in [
        ("C", "c"),
        ("C++", "c-plus-plus"),
        ("C#", "c-sharp"),
        ("?", "tag-3f"),
        ("..", "tag-2e2e"),
        ("+", "tag-2b"),
        ("#db", "db"),
    ] {
        let page = read(&out, &format!("tags/{slug}/index.html"));
        assert!(page.contains(&format!("#{tag}")), "{slug}: {page}");
        let incident = read(&out, "incidents/inc-2026-002/index.html");
        assert!(
            incident.contains(&format!("href=\"/tags/{slug}/\"")),
            "{slug}"
        );
    }
    assert_no_dead_links(&out, "/", "");
}

/// Regression: the runbook page computed its review date with its own copy of
/// the rule `check` had already made overflow-safe, and `build` panicked.
#[test]
fn a_review_interval_past_the_calendar_does_not_break_the_build() {
    let kb = scratch_copy("valid");
    let runbook = kb
        .path()
        .join("content/runbooks/payments/rb-acquirer-failover.md");
    edit(
        &runbook,
        "last_reviewed: 2026-09-15\n",
        "last_reviewed: 2026-09-15\nreview_every: 99999999d\n",
    );
    let (_tmp, out) = build_ok(kb.path(), &[]);
    let page = read(&out, "runbooks/rb-acquirer-failover/index.html");
    assert!(page.contains("review-fresh"), "{page}");
    assert!(page.contains("2026-09-15"), "{page}");
}

#[test]
fn text_fields_show_what_was_written_not_yaml_numbers() {
    let kb = scratch_copy("valid");
    let incident = kb
        .path()
        .join("content/incidents/inc-2026-002-slow-payments.md");
    // YAML reads these as the numbers 1.1 and 1000.
    edit(
        &incident,
        "title: Payments slower than their SLO in one region",
        "title: 1.10\npublic_summary: 1e3",
    );
    let runbook = kb.path().join("content/runbooks/rb-checkout-rollback.md");
    edit(
        &runbook,
        "title: Roll back a checkout or pricing deploy",
        "title: true",
    );
    let (_tmp, out) = build_ok(kb.path(), &[]);
    let page = read(&out, "incidents/inc-2026-002/index.html");
    assert!(
        page.contains(r#"<h1 class="doc-title">1.10</h1>"#),
        "{page}"
    );
    let page = read(&out, "runbooks/rb-checkout-rollback/index.html");
    assert!(
        page.contains(r#"<h1 class="doc-title">true</h1>"#),
        "{page}"
    );
    let api: serde_json::Value = serde_json::from_str(&read(&out, "api/incidents.json")).unwrap();
    let inc = api["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "INC-2026-002")
        .unwrap();
    assert_eq!(inc["title"], "1.10");
    // The front matter as templates and exports see it.
    assert_eq!(inc["fields"]["title"], "1.10");
    assert_eq!(inc["fields"]["public_summary"], "1e3");
}

#[test]
fn output_is_escaped_and_scripts_dropped() {
    let (_tmp, out) = build_ok(&fixture("site"), &[]);
    let script_url =
        Regex::new(r#"(?i)(href|src)\s*=\s*["']?\s*(javascript|vbscript|data):"#).unwrap();
    let handler = Regex::new(r"(?i)<[^>]+\son[a-z]+\s*=").unwrap();
    for (path, bytes) in files(&out)
        .into_iter()
        .filter(|(p, _)| p.ends_with(".html") || p.ends_with(".xml"))
    {
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            !text.contains("<script>alert"),
            "{path} runs a script from the content"
        );
        assert!(!text.contains("<svg onload"), "{path}: {text}");
        assert!(!text.contains("<img src=x"), "{path}");
        assert!(
            !script_url.is_match(&text),
            "{path} has a script URL: {:?}",
            script_url.find(&text)
        );
        assert!(
            !handler.is_match(&text),
            "{path} has an event handler: {:?}",
            handler.find(&text)
        );
    }
    let incident = read(&out, "incidents/inc-2026-001/index.html");
    // Front matter values are text, through the templates' autoescape.
    assert!(
        incident.contains(
            "<h1 class=\"doc-title\">&lt;script&gt;alert(1)&lt;/script&gt; checkout down</h1>"
        ),
        "{incident}"
    );
    assert!(incident.contains("<title>INC-2026-001 &lt;script&gt;alert(1)&lt;/script&gt; checkout down · Acme &amp; &lt;i&gt;Co&lt;/i&gt; SRE</title>"), "{incident}");
    assert!(
        incident.contains("#&lt;b&gt;Bold&lt;&#x2F;b&gt; tag")
            || incident.contains("#&lt;b&gt;Bold&lt;/b&gt; tag"),
        "tags are text"
    );
    // Raw HTML is sanitized: harmless markup stays, scripts and handlers go.
    assert!(
        incident.contains("<div class=\"callout\">A raw <b>callout</b>.</div>"),
        "{incident}"
    );
    assert!(
        incident.contains(">a javascript: link</a>")
            && incident.contains("href=\"#\">an uppercase one</a>"),
        "{incident}"
    );
    let runbook = read(&out, "runbooks/rb-rollback/index.html");
    assert!(
        runbook.contains("<code>&lt;b&gt;CheckoutErrorRate&lt;&#x2F;b&gt;</code>")
            || runbook.contains("<code>&lt;b&gt;CheckoutErrorRate&lt;/b&gt;</code>"),
        "{runbook}"
    );
    let pm = read(&out, "postmortems/pm-2026-001/index.html");
    assert!(
        pm.contains("<code>javascript:alert(&#x27;ticket&#x27;)</code>")
            || pm.contains("<code>javascript:alert(&#39;ticket&#39;)</code>"),
        "a script ticket is text, not a link"
    );
    assert!(
        pm.contains("<pre class=\"code hl\"><code class=\"language-rust\">"),
        "code is highlighted"
    );
    let home = read(&out, "index.html");
    assert!(
        home.contains("&lt;script&gt;alert(&#x27;description&#x27;)&lt;/script&gt;")
            || home.contains("&lt;script&gt;alert(&#39;description&#39;)"),
        "{home}"
    );
    // JSON keeps the text as it is: it is data, shown with textContent.
    let index: serde_json::Value = serde_json::from_str(&read(&out, "search-index.json")).unwrap();
    assert!(index["docs"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d[1] == "<script>alert(1)</script> checkout down"));
    let feed = read(&out, "feed.xml");
    assert!(feed.contains("&lt;/title&gt;&lt;script&gt;"), "{feed}");
}

#[test]
fn raw_html_survives_when_the_config_allows_it() {
    let kb = scratch_copy("site");
    let config = kb.path().join("hindsight.yaml");
    std::fs::write(
        &config,
        std::fs::read_to_string(&config).unwrap() + "allow_html: true\n",
    )
    .unwrap();
    let (_tmp, out) = build_ok(kb.path(), &[]);
    let incident = read(&out, "incidents/inc-2026-001/index.html");
    assert!(
        incident.contains("<script>alert('body')</script>"),
        "{incident}"
    );
    assert!(
        incident.contains("<div class=\"callout\" onclick=\"alert('onclick')\">"),
        "{incident}"
    );
    // Front matter is still text, and Markdown script links still go.
    assert!(
        incident.contains("<h1 class=\"doc-title\">&lt;script&gt;alert(1)"),
        "{incident}"
    );
    assert!(
        !Regex::new(r#"(?i)href="\s*javascript:alert\('md-link"#)
            .unwrap()
            .is_match(&incident),
        "{incident}"
    );
}

fn hashes(dir: &Path) -> BTreeMap<String, u64> {
    use std::hash::{Hash, Hasher};
    files(dir)
        .into_iter()
        .map(|(p, b)| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            b.hash(&mut h);
            (p, h.finish())
        })
        .collect()
}

fn siblings(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn a_broken_link_fails_the_build_and_keeps_the_previous_site() {
    let kb = scratch_copy("site");
    // Default output: public/ under the root.
    let first = build(kb.path(), None, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let public = kb.path().join("public");
    let before = hashes(&public);
    assert!(before.len() > 20, "{before:?}");
    let listing = siblings(kb.path());

    edit(
        &kb.path()
            .join("content/postmortems/pm-2026-001-script-title.md"),
        "## Impact\n",
        "## Impact\n\nSee the [old runbook](../runbooks/rb-gone.md).\n",
    );
    let second = build(kb.path(), None, &[]);
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(
        second.stderr.contains("broken-link") && second.stderr.contains("rb-gone.md"),
        "{}",
        second.stderr
    );
    assert!(
        second.stderr.contains("nothing was written"),
        "{}",
        second.stderr
    );
    assert_eq!(
        hashes(&public),
        before,
        "public/ changed after a failed build"
    );
    assert_eq!(
        siblings(kb.path()),
        listing,
        "no temporary folder is left behind"
    );

    // Fixed, the next build replaces the site.
    edit(
        &kb.path()
            .join("content/postmortems/pm-2026-001-script-title.md"),
        "rb-gone.md",
        "rb-rollback.md",
    );
    let third = build(kb.path(), None, &[]);
    assert_eq!(third.code, 0, "{}", third.stderr);
    assert!(read(&public, "postmortems/pm-2026-001/index.html").contains("old runbook"));
    assert_eq!(siblings(kb.path()), listing);
}

#[test]
fn a_runbook_lists_the_incidents_that_used_it() {
    let (_tmp, out) = build_ok(&fixture("site"), &[]);
    let page = read(&out, "runbooks/rb-rollback/index.html");
    let (_, table) = page
        .split_once("<h2>Used in incidents</h2>")
        .expect("the section");
    let rows = table.split("</table>").next().unwrap();
    assert!(
        rows.contains(
            r#"<td class="nowrap"><a href="/incidents/inc-2026-001/">INC-2026-001</a></td>"#
        ) && rows.contains("&lt;script&gt;alert(1)&lt;/script&gt; checkout down")
            && rows.contains(r#"<span class="badge sev-1">SEV1</span>"#),
        "{rows}"
    );
}

/// `build` writes pages into the output as it renders them; `serve` keeps
/// them in memory. Both must be the same site, file for file.
#[test]
fn the_written_site_is_the_site_serve_holds() {
    let roots = [fixture("site"), repo_root()];
    for root in &roots {
        let name = root.display();
        let (_tmp, out) = build_ok(root, &["--drafts"]);
        let mut written = files(&out);
        assert!(written.remove(".hindsight-output").is_some(), "the marker");

        let today = chrono::NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap();
        let mut kb = hindsight::kb::open(root, today).expect("opens");
        kb.read_assets();
        let theme = hindsight::theme::Theme::load(root, kb.config.theme.as_deref()).unwrap();
        let in_memory: BTreeMap<String, Vec<u8>> = hindsight::site::build(&kb, &theme)
            .expect("renders")
            .files
            .into_iter()
            .map(|(path, bytes)| (path, bytes.to_vec()))
            .collect();
        assert_eq!(
            written.keys().collect::<Vec<_>>(),
            in_memory.keys().collect::<Vec<_>>(),
            "{name}: the same files"
        );
        for (path, bytes) in &in_memory {
            assert!(written[path] == *bytes, "{name}: {path} differs");
        }
    }
}

/// After a failed write (a full disk) the pages left are not rendered: the
/// build fails anyway, and should say so soon.
#[test]
fn a_failed_write_stops_rendering() {
    let root = fixture("site");
    let today = chrono::NaiveDate::parse_from_str(TODAY, "%Y-%m-%d").unwrap();
    let mut kb = hindsight::kb::open(&root, today).expect("opens");
    kb.read_assets();
    let theme = hindsight::theme::Theme::load(&root, kb.config.theme.as_deref()).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("public");

    let healthy = hindsight::write::Staging::begin(&out, false).unwrap();
    let site = hindsight::site::build_into(&kb, &theme, &healthy).unwrap();
    let pages = |site: &hindsight::site::Site| {
        site.written
            .iter()
            .filter(|p| p.starts_with("postmortems/pm-"))
            .count()
    };
    assert!(pages(&site) > 0, "{:?}", site.written);
    drop(healthy);

    let failing = hindsight::write::Staging::begin(&out, false).unwrap();
    failing.put("x", b"a file");
    failing.put("x/y", b"cannot go under a file");
    let site = hindsight::site::build_into(&kb, &theme, &failing).unwrap();
    assert_eq!(pages(&site), 0, "{:?}", site.written);
    assert!(failing.finish(&site).is_err());
    assert!(!out.exists());
}

/// Document pages are written into the staging folder while they render: a
/// template that fails on one of them must still leave no trace.
#[test]
fn a_page_that_fails_to_render_keeps_the_previous_site() {
    let kb = scratch_copy("site");
    let first = build(kb.path(), None, &[]);
    assert_eq!(first.code, 0, "{}", first.stderr);
    let public = kb.path().join("public");
    let before = hashes(&public);

    // Fails only for runbooks, so other pages have been written by then.
    let templates = kb.path().join("themes/broken/templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("page.html"),
        "{% if page.doc.kind == \"runbook\" %}{{ page.no_such_field.x }}{% endif %}ok",
    )
    .unwrap();
    edit(
        &kb.path().join("hindsight.yaml"),
        "base_url: /\n",
        "base_url: /\ntheme: broken\n",
    );
    let listing = siblings(kb.path());
    let second = build(kb.path(), None, &[]);
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(
        second.stderr.contains("no_such_field") && second.stderr.contains("nothing was written"),
        "{}",
        second.stderr
    );
    assert_eq!(
        hashes(&public),
        before,
        "public/ changed after a failed render"
    );
    assert_eq!(
        siblings(kb.path()),
        listing,
        "the staging folder is removed"
    );
}

#[test]
fn a_folder_hindsight_did_not_create_is_not_emptied() {
    let root = fixture("site");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("docs");
    std::fs::create_dir_all(out.join("chapter")).unwrap();
    std::fs::write(out.join("thesis.tex"), "precious").unwrap();
    std::fs::write(out.join("chapter/one.tex"), "also precious").unwrap();
    let before = hashes(&out);

    let refused = build(&root, Some(&out), &[]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("--force") && refused.stderr.contains(".hindsight-output"),
        "{}",
        refused.stderr
    );
    assert_eq!(hashes(&out), before, "the folder was touched");
    assert_eq!(
        siblings(tmp.path()),
        ["docs"],
        "no temporary folder is left behind"
    );

    let forced = build(&root, Some(&out), &["--force"]);
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert!(
        !out.join("thesis.tex").exists()
            && out.join("index.html").is_file()
            && out.join(".hindsight-output").is_file()
    );
    // From now on the folder is hindsight's: no --force needed.
    assert_eq!(build(&root, Some(&out), &[]).code, 0);

    // An empty folder is fine without --force.
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(build(&root, Some(&empty), &[]).code, 0);
    assert!(empty.join("index.html").is_file());
}

#[test]
fn the_knowledge_base_itself_is_never_the_output() {
    let kb = scratch_copy("site");
    let sources = hashes(kb.path());
    for (out, why) in [
        (kb.path().to_path_buf(), "holds the knowledge base"),
        (
            kb.path().join("content/site"),
            "inside the knowledge base's content/",
        ),
    ] {
        let run = build(kb.path(), Some(&out), &["--force"]);
        assert_eq!(run.code, 2, "{}: {}", out.display(), run.stderr);
        assert!(run.stderr.contains(why), "{}", run.stderr);
        assert_eq!(
            hashes(kb.path()),
            sources,
            "--output {} changed the knowledge base",
            out.display()
        );
    }
    // A folder above the knowledge base, by a relative path.
    let inner = kb.path().join("kb");
    std::fs::create_dir(&inner).unwrap();
    copy_dir(&fixture("site"), &inner);
    let run = build(&inner, Some(Path::new("..")), &["--force"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(inner
        .join("content/incidents/inc-2026-001-script-title.md")
        .is_file());
}

#[test]
fn drafts_are_left_out_unless_asked_for() {
    let root = fixture("site");
    let (_tmp, out) = build_ok(&root, &[]);
    assert!(!out.join("postmortems/pm-2026-002").exists());
    assert!(
        !out.join("tags/draft-only").exists(),
        "a tag only drafts use has no page"
    );
    for (path, bytes) in files(&out) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("Unfinished draft") && !text.contains("PM-2026-002"),
            "{path} mentions the draft"
        );
    }
    assert_no_dead_links(&out, "/", "");

    let (_tmp, out) = build_ok(&root, &["--drafts"]);
    let page = read(&out, "postmortems/pm-2026-002/index.html");
    assert!(
        page.contains("Unfinished draft about slow payments") && page.contains("status-draft"),
        "{page}"
    );
    assert!(read(&out, "search-index.json").contains("PM-2026-002"));
    assert!(
        read(&out, "incidents/inc-2026-002/index.html").contains("/postmortems/pm-2026-002/"),
        "the incident links its draft"
    );
    assert!(out.join("tags/draft-only/index.html").is_file());
    assert_no_dead_links(&out, "/", "");
}

/// A small fixture's postmortem page, whole: template changes show in review.
#[test]
fn document_page_snapshot() {
    let (_tmp, out) = build_ok(&fixture("valid"), &[]);
    let html = read(&out, "postmortems/pm-2026-001/index.html")
        .replace(env!("CARGO_PKG_VERSION"), "[version]");
    insta::assert_snapshot!("valid_postmortem_page", html);
}

#[test]
fn timeline_entries_read_in_the_incidents_offset() {
    // `**2026-03-14 22:58 UTC** — rollback started.` in a CET incident.
    let (_tmp, out) = build_ok(&fixture("valid"), &[]);
    let page = read(&out, "postmortems/pm-2026-001/index.html");
    let times: Vec<&str> = page
        .split("<time>")
        .skip(1)
        .map(|t| t.split("</time>").next().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "2026-03-14 23:40",
            "2026-03-14 23:46",
            "2026-03-14 23:50",
            "2026-03-14 23:58",
            "2026-03-15 00:20",
            "2026-03-15 00:35",
            "2026-03-15 01:45"
        ]
    );
}

/// Builds the site fixture with a theme `NAME` whose page.html is `line3`
/// on its third line, between the lines that make it a page.
fn build_with_page_line(name: &str, line3: &str) -> (tempfile::TempDir, Built) {
    let kb = scratch_copy("site");
    let templates = kb.path().join(format!("themes/{name}/templates"));
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(
        templates.join("page.html"),
        format!("{{% extends \"base.html\" %}}\n{{% block content %}}\n{line3}\n{{% endblock content %}}\n"),
    )
    .unwrap();
    edit(
        &kb.path().join("hindsight.yaml"),
        "base_url: /\n",
        &format!("base_url: /\ntheme: {name}\n"),
    );
    let out = build(kb.path(), None, &[]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("error[theme]"), "{}", out.stderr);
    (kb, out)
}

#[test]
fn a_template_error_names_the_file_line_and_column() {
    // A tag left open.
    let (kb, out) = build_with_page_line("broken", "<p>{% if page.doc.id %</p>");
    assert!(
        out.stderr
            .contains("--> themes/broken/templates/page.html:3:23")
            && out.stderr.contains("3 | <p>{% if page.doc.id %</p>"),
        "{}",
        out.stderr
    );
    assert!(!kb.path().join("public").exists(), "nothing is written");
}

#[test]
fn a_field_a_template_misspells_is_reported_with_its_template_line() {
    let (_kb, out) = build_with_page_line("typo", "<h1>{{ page.doc.titel }}</h1>");
    assert!(
        out.stderr
            .contains("--> themes/typo/templates/page.html:3:17")
            && out.stderr.contains("`titel` is not defined"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_unknown_filter_is_reported_at_its_template_line() {
    // tera 1 had json_encode; tera 2 has not.
    let (_kb, out) = build_with_page_line("old", "<h1>{{ page.doc.title | json_encode }}</h1>");
    assert!(
        out.stderr
            .contains("error[theme]: Unknown filter `json_encode`")
            && out
                .stderr
                .contains("--> themes/old/templates/page.html:3:25"),
        "{}",
        out.stderr
    );
}

#[test]
fn dashboard_counts_read_with_their_number() {
    // The site fixture has two incidents and, drafts left out, one postmortem.
    let (_tmp, out) = build_ok(&fixture("site"), &[]);
    let index = read(&out, "index.html");
    for (count, label) in [(2, "incidents"), (1, "postmortem")] {
        let stat = format!(
            "<span class=\"stat-value\">{count}</span><span class=\"stat-label\">{label}</span>"
        );
        assert!(index.contains(&stat), "{stat} not in the dashboard");
    }
}

#[test]
fn the_feed_is_as_new_as_its_newest_entry() {
    // The site fixture's postmortem was published days after its incident's date.
    let (_tmp, out) = build_ok(&fixture("site"), &[]);
    let feed = read(&out, "feed.xml");
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = feed
        .split("<updated>")
        .skip(1)
        .map(|t| chrono::DateTime::parse_from_rfc3339(t.split('<').next().unwrap()).unwrap())
        .collect();
    let (feed_time, entries) = times.split_first().expect("the feed has a time");
    assert!(!entries.is_empty(), "{feed}");
    assert_eq!(Some(feed_time), entries.iter().max(), "{feed}");
}
