//! The built example site in a real browser: Debian's headless `chromium`,
//! driven over the DevTools protocol (headless_chrome), loading the site from
//! a plain static file server started here. Search answers in the header box
//! and on /search/, the index filters hide rows, the console stays clean,
//! nothing is requested from outside the site, pages fit a phone's width, and
//! it all works under a sub-path `base_url` too.
//!
//! Screenshots go to `target/screenshots/` for a person to look at.

use crate::site::build_ok;
use crate::support::repo_root;
use headless_chrome::browser::tab::Tab;
use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::{Emulation, Log, Page, Runtime};
use headless_chrome::{Browser, LaunchOptions};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";

/// A static file server for a folder, mounted at a path (`/` or `/kb/`), on
/// 127.0.0.1 at a free port: what GitHub Pages or `python -m http.server` do.
struct StaticServer {
    origin: String,
    server: Arc<tiny_http::Server>,
    thread: Option<JoinHandle<()>>,
    /// Every request: (path, status).
    log: Arc<Mutex<Vec<(String, u16)>>>,
}

fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(OsStr::to_str).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

impl StaticServer {
    fn start(dir: &Path, mount: &'static str) -> StaticServer {
        let server =
            Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("a free port on loopback"));
        let port = server.server_addr().to_ip().expect("an IP address").port();
        let log = Arc::new(Mutex::new(vec![]));
        let (dir, srv, requests) = (dir.to_path_buf(), server.clone(), log.clone());
        let thread = std::thread::spawn(move || {
            for request in srv.incoming_requests() {
                let path = request
                    .url()
                    .split(['?', '#'])
                    .next()
                    .unwrap_or("/")
                    .to_string();
                let (status, body, kind, location) = answer(&dir, mount, &path);
                requests.lock().unwrap().push((path, status));
                let mut response = tiny_http::Response::from_data(body).with_status_code(status);
                response.add_header(tiny_http::Header::from_bytes("Content-Type", kind).unwrap());
                if let Some(location) = location {
                    response
                        .add_header(tiny_http::Header::from_bytes("Location", location).unwrap());
                }
                let _ = request.respond(response);
            }
        });
        StaticServer {
            origin: format!("http://127.0.0.1:{port}"),
            server,
            thread: Some(thread),
            log,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin)
    }

    /// Requests that were not answered with 200 (redirects to a folder's slash are fine).
    fn failures(&self) -> Vec<(String, u16)> {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| *s != 200 && *s != 301)
            .cloned()
            .collect()
    }
}

impl Drop for StaticServer {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Status, body, content type and redirect for one path, like a plain static host.
fn answer(dir: &Path, mount: &str, path: &str) -> (u16, Vec<u8>, &'static str, Option<String>) {
    let not_found = || {
        (
            404,
            std::fs::read(dir.join("404.html")).unwrap_or_default(),
            "text/html; charset=utf-8",
            None,
        )
    };
    let decoded = percent_decode(path);
    let rest = match decoded.strip_prefix(mount) {
        Some(rest) => rest.to_string(),
        None if format!("{decoded}/") == mount => {
            return (301, vec![], "text/plain", Some(mount.to_string()))
        }
        None => return not_found(),
    };
    if rest.split('/').any(|s| s == "..") {
        return (403, b"forbidden".to_vec(), "text/plain", None);
    }
    let mut file = dir.join(&rest);
    if file.is_dir() {
        if !path.ends_with('/') {
            return (301, vec![], "text/plain", Some(format!("{path}/")));
        }
        file = file.join("index.html");
    }
    match std::fs::read(&file) {
        Ok(bytes) => (200, bytes, content_type(&file), None),
        Err(_) => not_found(),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        match (
            b[i],
            s.get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok()),
        ) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Debian's chromium, headless. Missing, the test fails: CI installs it.
/// The preview server's browser tests (serve.rs) use it too.
pub(crate) fn chromium() -> Browser {
    assert!(
        Path::new(CHROMIUM).is_file(),
        "the browser test needs Debian's chromium at {CHROMIUM}: `apt-get install chromium` (.ci/run installs it when missing)"
    );
    let args: Vec<&OsStr> = [
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
    ]
    .into_iter()
    .map(OsStr::new)
    .collect();
    let options = LaunchOptions::default_builder()
        .path(Some(PathBuf::from(CHROMIUM)))
        .headless(true)
        .sandbox(false)
        .window_size(Some((1280, 900)))
        .idle_browser_timeout(Duration::from_secs(300))
        .args(args)
        .build()
        .expect("launch options");
    Browser::new(options).unwrap_or_else(|e| panic!("{CHROMIUM} does not start: {e}"))
}

/// Console errors, failed loads and uncaught exceptions of a tab, as text.
fn collect_errors(tab: &Tab) -> Arc<Mutex<Vec<String>>> {
    let errors = Arc::new(Mutex::new(vec![]));
    let sink = errors.clone();
    tab.add_event_listener(Arc::new(move |event: &Event| {
        let message = match event {
            Event::LogEntryAdded(e)
                if matches!(
                    e.params.entry.level,
                    Log::LogEntryLevel::Error | Log::LogEntryLevel::Warning
                ) =>
            {
                Some(format!(
                    "console {:?}: {} ({})",
                    e.params.entry.level,
                    e.params.entry.text,
                    e.params.entry.url.clone().unwrap_or_default()
                ))
            }
            Event::RuntimeExceptionThrown(e) => {
                let d = &e.params.exception_details;
                let what = d
                    .exception
                    .as_ref()
                    .and_then(|x| x.description.clone())
                    .unwrap_or_else(|| d.text.clone());
                Some(format!(
                    "exception: {what} at {}:{}",
                    d.url.clone().unwrap_or_default(),
                    d.line_number
                ))
            }
            Event::RuntimeConsoleAPICalled(e)
                if matches!(
                    e.params.Type,
                    Runtime::ConsoleAPICalledEventTypeOption::Error
                        | Runtime::ConsoleAPICalledEventTypeOption::Warning
                ) =>
            {
                let args: Vec<String> = e
                    .params
                    .args
                    .iter()
                    .map(|a| {
                        a.value.as_ref().map_or_else(
                            || a.description.clone().unwrap_or_default(),
                            |v| v.to_string(),
                        )
                    })
                    .collect();
                Some(format!("console.{:?}: {}", e.params.Type, args.join(" ")))
            }
            _ => None,
        };
        if let Some(m) = message {
            sink.lock().unwrap().push(m);
        }
    }))
    .expect("an event listener");
    tab.enable_log().expect("Log.enable");
    tab.enable_runtime().expect("Runtime.enable");
    errors
}

pub(crate) fn open(tab: &Tab, url: &str) {
    tab.navigate_to(url)
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    tab.wait_until_navigated()
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    wait_for(tab, "document.readyState === 'complete'", url);
}

fn eval(tab: &Tab, js: &str) -> serde_json::Value {
    let wrapped = format!("JSON.stringify((() => {{ return {js}; }})())");
    let v = tab
        .evaluate(&wrapped, false)
        .unwrap_or_else(|e| panic!("{js}: {e}"));
    match v.value {
        Some(serde_json::Value::String(s)) => {
            serde_json::from_str(&s).unwrap_or(serde_json::Value::Null)
        }
        _ => serde_json::Value::Null,
    }
}

/// Waits until a JavaScript condition holds (at most 10 s).
fn wait_for(tab: &Tab, condition: &str, what: &str) {
    let start = Instant::now();
    while eval(tab, condition) != serde_json::Value::Bool(true) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "timed out waiting for {what}: `{condition}` on {}",
            tab.get_url()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Types into the header search box and returns the dropdown's links (href, text).
fn header_search(tab: &Tab, query: &str) -> Vec<(String, String)> {
    eval(tab, "(() => { const b = document.getElementById('site-search'); b.value = ''; b.focus(); return true; })()");
    tab.type_str(query).expect("typing");
    let q = serde_json::to_string(query).unwrap();
    wait_for(
        tab,
        &format!("document.getElementById('site-search').value === {q} && !document.getElementById('search-dropdown').hidden && document.querySelectorAll('#search-dropdown a').length > 0"),
        &format!("results for {query}"),
    );
    let links = eval(tab, "[...document.querySelectorAll('#search-dropdown a')].map(a => [a.getAttribute('href'), a.textContent])");
    links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l[0].as_str().unwrap().to_string(),
                l[1].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn screenshots_dir() -> PathBuf {
    let dir = repo_root().join("target/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The whole page, not only the window, as a PNG in target/screenshots/.
fn screenshot(tab: &Tab, name: &str) {
    let size = eval(
        tab,
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]",
    );
    let (w, h) = (
        size[0].as_f64().unwrap(),
        size[1].as_f64().unwrap().min(6000.0),
    );
    let shot = tab
        .call_method(Page::CaptureScreenshot {
            format: Some(Page::CaptureScreenshotFormatOption::Png),
            quality: None,
            clip: Some(Page::Viewport {
                x: 0.0,
                y: 0.0,
                width: w,
                height: h,
                scale: 1.0,
            }),
            from_surface: Some(true),
            capture_beyond_viewport: Some(true),
            optimize_for_speed: None,
        })
        .expect("a screenshot");
    let png = base64_decode(&shot.data);
    assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
    std::fs::write(screenshots_dir().join(format!("{name}.png")), png).unwrap();
}

/// Standard base64, as the DevTools protocol sends screenshots.
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c}"),
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .map(value)
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &d)| n | (u32::from(d) << (18 - 6 * i)));
        out.extend_from_slice(&n.to_be_bytes()[1..chunk.len()]);
    }
    out
}

fn phone(tab: &Tab, on: bool) {
    if on {
        tab.call_method(Emulation::SetDeviceMetricsOverride {
            width: 390,
            height: 844,
            device_scale_factor: 2.0,
            mobile: true,
            scale: None,
            screen_width: None,
            screen_height: None,
            position_x: None,
            position_y: None,
            dont_set_visible_size: None,
            screen_orientation: None,
            viewport: None,
            display_feature: None,
            device_posture: None,
        })
        .expect("phone metrics");
    } else {
        tab.call_method(Emulation::ClearDeviceMetricsOverride(None))
            .expect("desktop metrics");
    }
}

fn color_scheme(tab: &Tab, scheme: &str) {
    tab.call_method(Emulation::SetEmulatedMedia {
        media: None,
        features: Some(vec![Emulation::MediaFeature {
            name: "prefers-color-scheme".into(),
            value: scheme.into(),
        }]),
    })
    .expect("emulated color scheme");
}

/// Every resource the page loaded came from the site's own origin.
fn assert_same_origin(tab: &Tab, origin: &str) {
    let names = eval(
        tab,
        "performance.getEntriesByType('resource').map(e => e.name)",
    );
    for n in names.as_array().unwrap() {
        assert!(
            n.as_str().unwrap().starts_with(origin),
            "{} loaded {n}",
            tab.get_url()
        );
    }
}

fn assert_no_errors(errors: &Mutex<Vec<String>>, server: &StaticServer) {
    let errors = errors.lock().unwrap();
    assert!(
        errors.is_empty(),
        "the console reported:\n{}",
        errors.join("\n")
    );
    assert_eq!(server.failures(), vec![], "requests that failed");
}

#[test]
fn example_site_in_headless_chromium() {
    let (_tmp, out) = build_ok(&repo_root(), &[]);
    let server = StaticServer::start(&out, "/");
    let browser = chromium();
    let tab = browser.new_tab().expect("a tab");
    tab.set_default_timeout(Duration::from_secs(10));
    let errors = collect_errors(&tab);
    color_scheme(&tab, "light");

    // The dashboard, and search from its header box.
    open(&tab, &server.url("/"));
    assert_eq!(
        eval(&tab, "document.querySelector('.page-title').textContent"),
        "Northwind Cloud SRE Knowledge Base"
    );
    assert_eq!(
        eval(
            &tab,
            "getComputedStyle(document.querySelector('.site-header')).position"
        ),
        "sticky",
        "style.css is loaded"
    );
    screenshot(&tab, "dashboard");
    let hits = header_search(&tab, "INC-2026-004");
    assert_eq!(hits[0].0, "/incidents/inc-2026-004/", "{hits:?}");
    assert!(
        hits[0]
            .1
            .contains("WAF rule with catastrophic regex backtracking"),
        "{hits:?}"
    );
    let hits = header_search(&tab, "regex");
    assert_eq!(hits[0].0, "/incidents/inc-2026-004/", "{hits:?}");
    assert!(
        hits.iter().any(|(h, _)| h == "/postmortems/pm-2026-004/"),
        "the postmortem mentions regex too: {hits:?}"
    );
    assert!(hits.len() <= 8, "the dropdown shows the top results only");
    let hits = header_search(&tab, "orders-db");
    assert!(
        hits.iter().any(|(h, _)| h == "/services/orders-db/"),
        "services are found by id: {hits:?}"
    );
    let none = {
        eval(&tab, "(() => { const b = document.getElementById('site-search'); b.value = ''; b.focus(); return true; })()");
        tab.type_str("zzqxv").unwrap();
        wait_for(
            &tab,
            "document.querySelector('#search-dropdown .muted') !== null",
            "the no-result line",
        );
        eval(
            &tab,
            "document.getElementById('search-dropdown').textContent",
        )
    };
    assert_eq!(none, "No results");
    // Keyboard: down arrow and Enter open the first result.
    header_search(&tab, "INC-2026-004");
    tab.press_key("ArrowDown")
        .unwrap()
        .press_key("Enter")
        .unwrap();
    wait_for(
        &tab,
        "location.pathname === '/incidents/inc-2026-004/' && document.readyState === 'complete'",
        "the result page",
    );
    assert!(
        eval(&tab, "document.querySelector('h1.doc-title').textContent")
            .as_str()
            .unwrap()
            .starts_with("WAF rule")
    );

    // The search page, from a query in the URL and from typing.
    open(&tab, &server.url("/search/?q=regex"));
    wait_for(
        &tab,
        "document.querySelectorAll('#search-results li').length > 0",
        "search page results",
    );
    assert_eq!(
        eval(
            &tab,
            "document.querySelector('#search-results li a').getAttribute('href')"
        ),
        "/incidents/inc-2026-004/"
    );
    let status = eval(&tab, "document.getElementById('search-status').textContent");
    assert!(status.as_str().unwrap().ends_with("results"), "{status}");
    screenshot(&tab, "search");
    eval(&tab, "(() => { const i = document.getElementById('search-page-input'); i.value = ''; i.focus(); return true; })()");
    tab.type_str("drain").unwrap();
    wait_for(&tab, "location.search === '?q=drain' && document.querySelectorAll('#search-results li').length > 0", "results for drain");
    let first = eval(
        &tab,
        "document.querySelector('#search-results li a').getAttribute('href')",
    );
    assert!(
        ["/incidents/inc-2026-008/", "/postmortems/pm-2026-007/"]
            .contains(&first.as_str().unwrap()),
        "{first}"
    );

    // Filters on an index hide what does not match, and live in the URL.
    open(&tab, &server.url("/incidents/"));
    let rows = eval(
        &tab,
        "document.querySelectorAll('table[data-filterable] tbody tr').length",
    )
    .as_u64()
    .unwrap();
    eval(&tab, "(() => { const s = document.querySelector('select[data-filter=severity]'); s.value = 'SEV1'; s.dispatchEvent(new Event('change')); return true; })()");
    let shown = eval(&tab, "[...document.querySelectorAll('table[data-filterable] tbody tr')].filter(r => !r.hidden && r.offsetParent !== null).map(r => r.dataset.severity)");
    let shown: Vec<&str> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        !shown.is_empty() && shown.iter().all(|s| *s == "SEV1"),
        "{shown:?}"
    );
    assert!((shown.len() as u64) < rows, "some rows are hidden");
    assert_eq!(eval(&tab, "location.search"), "?severity=SEV1");
    assert_eq!(
        eval(
            &tab,
            "document.querySelector('[data-filter-count]').textContent"
        ),
        format!("{} of {rows} shown", shown.len())
    );
    open(&tab, &server.url("/incidents/?severity=SEV1"));
    let visible = eval(&tab, "[...document.querySelectorAll('table[data-filterable] tbody tr')].filter(r => r.offsetParent !== null).length");
    assert_eq!(
        visible.as_u64().unwrap(),
        shown.len() as u64,
        "a shared filtered link filters on load"
    );

    // A postmortem page: the drawn timeline, action items, highlighted code.
    open(&tab, &server.url("/postmortems/pm-2026-003/"));
    assert!(
        eval(&tab, "document.querySelectorAll('ol.timeline li').length")
            .as_u64()
            .unwrap()
            > 3
    );
    assert_same_origin(&tab, &server.origin);
    screenshot(&tab, "postmortem");
    color_scheme(&tab, "dark");
    assert_eq!(
        eval(&tab, "getComputedStyle(document.body).backgroundColor"),
        "rgb(17, 20, 23)",
        "dark colours apply"
    );
    screenshot(&tab, "postmortem-dark");
    open(&tab, &server.url("/"));
    screenshot(&tab, "dashboard-dark");
    color_scheme(&tab, "light");

    // At a phone's width nothing is wider than the screen.
    phone(&tab, true);
    for path in [
        "/",
        "/incidents/",
        "/postmortems/pm-2026-003/",
        "/incidents/inc-2026-004/",
        "/services/orders-db/",
        "/search/?q=db",
    ] {
        open(&tab, &server.url(path));
        let overflow = eval(
            &tab,
            // Inside a box that scrolls sideways (wide tables, code, the menu) is fine.
            "[...document.querySelectorAll('body *')].filter(e => { \
                for (let a = e.parentElement; a; a = a.parentElement) { if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(a).overflowX)) return false; } \
                return e.getBoundingClientRect().right > innerWidth + 1; \
             }).map(e => e.tagName + '.' + e.className).slice(0, 5)",
        );
        assert_eq!(
            overflow,
            serde_json::json!([]),
            "{path} is wider than a phone"
        );
        assert!(
            eval(&tab, "document.documentElement.scrollWidth <= innerWidth")
                .as_bool()
                .unwrap(),
            "{path} scrolls sideways on a phone"
        );
    }
    open(&tab, &server.url("/postmortems/pm-2026-003/"));
    screenshot(&tab, "postmortem-phone");
    open(&tab, &server.url("/"));
    screenshot(&tab, "dashboard-phone");
    phone(&tab, false);

    // The 404 page is styled wherever it is served.
    open(&tab, &server.url("/no/such/page/"));
    assert_eq!(
        eval(&tab, "document.querySelector('.page-title').textContent"),
        "Page not found"
    );
    assert_eq!(
        eval(
            &tab,
            "getComputedStyle(document.querySelector('.site-header')).position"
        ),
        "sticky"
    );
    let missing: Vec<(String, u16)> = server
        .log
        .lock()
        .unwrap()
        .drain(..)
        .filter(|(p, s)| *s != 200 && p != "/no/such/page/")
        .collect();
    assert_eq!(missing, vec![], "only the page asked for is missing");
    let console: Vec<String> = errors
        .lock()
        .unwrap()
        .drain(..)
        .filter(|e| !e.contains("404"))
        .collect();
    assert_eq!(console, Vec::<String>::new());

    assert_no_errors(&errors, &server);
}

#[test]
fn sub_path_site_in_headless_chromium() {
    // GitHub Pages project site: everything under /kb/, served from /kb/.
    let (_tmp, out) = build_ok(&repo_root(), &["--base-url", "https://acme.github.io/kb/"]);
    let server = StaticServer::start(&out, "/kb/");
    let browser = chromium();
    let tab = browser.new_tab().expect("a tab");
    tab.set_default_timeout(Duration::from_secs(10));
    let errors = collect_errors(&tab);

    open(&tab, &server.url("/kb/"));
    assert_eq!(
        eval(
            &tab,
            "getComputedStyle(document.querySelector('.site-header')).position"
        ),
        "sticky",
        "style.css is loaded"
    );
    let hits = header_search(&tab, "INC-2026-004");
    assert_eq!(hits[0].0, "/kb/incidents/inc-2026-004/", "{hits:?}");
    open(&tab, &server.url("/kb/search/?q=failover"));
    wait_for(
        &tab,
        "document.querySelectorAll('#search-results li').length > 0",
        "search page results",
    );
    let hrefs = eval(
        &tab,
        "[...document.querySelectorAll('#search-results a')].map(a => a.getAttribute('href'))",
    );
    assert!(
        hrefs
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h.as_str().unwrap().starts_with("/kb/")),
        "{hrefs}"
    );
    open(&tab, &server.url("/kb/incidents/"));
    eval(&tab, "(() => { const s = document.querySelector('select[data-filter=severity]'); s.value = 'SEV2'; s.dispatchEvent(new Event('change')); return true; })()");
    assert_eq!(
        eval(&tab, "location.pathname + location.search"),
        "/kb/incidents/?severity=SEV2"
    );
    // Follow every page link of the dashboard and the menu: each page loads,
    // styled, from the site alone. (Feeds and JSON are not pages: a browser
    // shows them with its own viewer, which asks for /favicon.ico.)
    open(&tab, &server.url("/kb/"));
    let links = eval(&tab, "[...new Set([...document.querySelectorAll('a[href^=\"/\"]')].map(a => a.getAttribute('href').split('#')[0]))].filter(h => h.endsWith('/'))");
    assert!(links.as_array().unwrap().len() > 10, "{links}");
    for href in links.as_array().unwrap() {
        open(&tab, &server.url(href.as_str().unwrap()));
        assert_eq!(
            eval(
                &tab,
                "document.querySelector('.page-title, .doc-title') !== null"
            ),
            true,
            "{href}"
        );
        assert_eq!(
            eval(
                &tab,
                "getComputedStyle(document.querySelector('.site-header')).position"
            ),
            "sticky",
            "{href}"
        );
        assert_same_origin(&tab, &server.origin);
    }
    assert_no_errors(&errors, &server);
}
