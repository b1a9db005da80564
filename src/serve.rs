//! `hindsight serve`: build into memory, serve with tiny_http, watch with
//! notify, rebuild only what changed, and reload open pages over
//! Server-Sent Events. A change that brings errors keeps the last good site
//! served and shows the errors in an overlay until the next good build.
//! Before the first good build there is no site: pages answer with the
//! errors instead (`no_site_page`) and reload into the site once it builds.
//!
//! Nothing here writes to disk.

use crate::cli::Common;
use crate::diagnostic::{self, Diagnostic, Severity};
use crate::kb::{self, KnowledgeBase};
use crate::load;
use crate::model::SourceFile;
use crate::site::{self, Cache, Site};
use crate::theme::Theme;
use crate::validate;
use clap::Args;
use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{mpsc, Arc, Condvar, Mutex, RwLock};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub common: Common,
    #[arg(long, default_value_t = 1111)]
    pub port: u16,
    /// Address to listen on; loopback unless you mean to share the preview.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: String,
    /// Open the site in the default browser.
    #[arg(long)]
    pub open: bool,
    /// Poll the file system instead of native events (network drives, containers).
    #[arg(long)]
    pub poll: bool,
    /// Leave out drafts, as `build` does (the preview shows them by default:
    /// a draft is what an author previews).
    #[arg(long)]
    pub no_drafts: bool,
}

/// What a changed path means for the site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeKind {
    /// A document under content/ (or an asset there).
    Content,
    /// A template under templates/: every document is validated again.
    Template,
    /// The theme: every page is rendered again, nothing is parsed.
    Theme,
    /// hindsight.yaml: everything is loaded again.
    Config,
    /// A file under static/.
    Static,
}

/// Decides what a changed path means; `None` for paths that never matter:
/// editor swap and backup files, the output folder, `.git`, hidden files.
pub fn classify(root: &Path, output: Option<&Path>, path: &Path) -> Option<ChangeKind> {
    let rel = path.strip_prefix(root).ok()?;
    if let Some(out) = output {
        if path.starts_with(out) || out.file_name().is_some_and(|n| rel.starts_with(n)) {
            return None;
        }
    }
    let name = rel.file_name()?.to_string_lossy();
    let editor_junk = name.starts_with('.')
        || name.starts_with('#')
        || name.ends_with('~')
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".swo")
        || name.ends_with(".tmp")
        || name.ends_with(".bak")
        || name.ends_with(".orig")
        || name.contains(".goutputstream")
        || name == "4913"; // vim's probe file
    if editor_junk {
        return None;
    }
    let mut parts = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().to_string());
    let first = parts.next()?;
    if rel
        .components()
        .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
    {
        return None;
    }
    match first.as_str() {
        "content" => Some(ChangeKind::Content),
        "templates" if name.ends_with(".md") => Some(ChangeKind::Template),
        "themes" => Some(ChangeKind::Theme),
        "static" => Some(ChangeKind::Static),
        crate::config::CONFIG_FILE if rel.components().count() == 1 => Some(ChangeKind::Config),
        _ => None,
    }
}

/// The knowledge base kept in memory between rebuilds, with what each file said.
pub struct Workspace {
    pub kb: KnowledgeBase,
    /// Diagnostics of each file from load, parse and validate, by path.
    file_diags: HashMap<String, Vec<Diagnostic>>,
    /// Problems not tied to a document (templates, unreadable files…).
    other_diags: Vec<Diagnostic>,
    theme: Theme,
    pub cache: Cache,
    /// Pages two documents would share (`site::collisions`), made again only
    /// when paths, ids or kinds changed.
    collisions: Vec<Diagnostic>,
    drafts: bool,
    /// When each step of the last `apply` ended, from its start.
    pub timings: Vec<(&'static str, Duration)>,
}

/// The result of a (re)build: the site to serve, or the errors to overlay.
pub struct BuildOutcome {
    pub site: Option<Site>,
    pub errors: Vec<Diagnostic>,
    pub elapsed: Duration,
}

impl Workspace {
    pub fn open(
        root: &Path,
        today: chrono::NaiveDate,
        drafts: bool,
    ) -> Result<Workspace, kb::SetupError> {
        let mut kb = kb::open(root, today)?;
        // The preview is served at the root, whatever the published base_url.
        kb.config.base_url = "/".into();
        let asset_diags = kb.read_assets();
        kb.diagnostics.extend(asset_diags.iter().cloned());
        let theme = Theme::load(root, kb.config.theme.as_deref()).map_err(kb::SetupError::from)?;
        let mut file_diags: HashMap<String, Vec<Diagnostic>> = HashMap::new();
        let mut other_diags = vec![];
        // Per-file diagnostics are kept until their file changes; the
        // cross-document ones are recomputed by every relink.
        for d in kb.file_diagnostics.iter().chain(&asset_diags) {
            if d.file.starts_with("content/") {
                file_diags
                    .entry(d.file.clone())
                    .or_default()
                    .push(d.clone());
            } else {
                other_diags.push(d.clone());
            }
        }
        let collisions = site::collisions(&kb);
        Ok(Workspace {
            kb,
            collisions,
            file_diags,
            other_diags,
            theme,
            cache: Cache::incremental(),
            drafts,
            timings: vec![],
        })
    }

    /// Builds the site from the current state, reusing the cache: the pages,
    /// then what `finish` adds, as one site.
    pub fn build(&self) -> BuildOutcome {
        let mut outcome = self.build_pages();
        if let Some(site) = &mut outcome.site {
            match self.finish() {
                Ok(files) => site.files.extend(files),
                Err(e) => {
                    outcome.site = None;
                    outcome.errors = vec![e];
                }
            }
        }
        outcome
    }

    /// Builds every page; the search index, the incidents API and the
    /// metrics stay as they were until `finish` (the first build makes all).
    pub fn build_pages(&self) -> BuildOutcome {
        let started = Instant::now();
        self.cache
            .rendered
            .store(0, std::sync::atomic::Ordering::Relaxed);
        let mut errors: Vec<Diagnostic> = self
            .kb
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .cloned()
            .collect();
        errors.extend(self.collisions.iter().cloned());
        if !errors.is_empty() {
            return BuildOutcome {
                site: None,
                errors,
                elapsed: started.elapsed(),
            };
        }
        match self.with_site_kb(|kb| site::build_with(kb, &self.theme, &self.cache)) {
            Ok(site) => BuildOutcome {
                site: Some(site),
                errors: vec![],
                elapsed: started.elapsed(),
            },
            Err(e) => BuildOutcome {
                site: None,
                errors: vec![e],
                elapsed: started.elapsed(),
            },
        }
    }

    /// After a good `build_pages`: the files it left for later (see `site::finish`).
    pub fn finish(&self) -> Result<Vec<(String, site::Bytes)>, Diagnostic> {
        self.with_site_kb(|kb| site::finish(kb, &self.theme, &self.cache))
    }

    /// One step of `finish`; None when nothing is left.
    pub fn finish_step(&self) -> Result<Option<Vec<(String, site::Bytes)>>, Diagnostic> {
        self.with_site_kb(|kb| site::finish_step(kb, &self.theme, &self.cache))
    }

    /// Runs `f` on the knowledge base the site is built from (drafts left out
    /// unless the preview shows them).
    fn with_site_kb<R>(&self, f: impl FnOnce(&KnowledgeBase) -> R) -> R {
        if self.drafts {
            f(&self.kb)
        } else {
            let mut kb = self.kb.clone_for_build();
            crate::build::without_drafts(&mut kb);
            f(&kb)
        }
    }

    /// Applies changed paths: re-reads and re-parses only the documents that
    /// changed, then recomputes links and policies (cheap) for everything.
    pub fn apply(&mut self, changes: &[(PathBuf, ChangeKind)]) -> Result<(), kb::SetupError> {
        let started = Instant::now();
        self.timings.clear();
        let kinds: BTreeSet<ChangeKind> = changes.iter().map(|(_, k)| *k).collect();
        if kinds.contains(&ChangeKind::Config) {
            let root = self.kb.root.clone();
            *self = Workspace::open(&root, self.kb.today, self.drafts)?;
            return Ok(());
        }
        if kinds.contains(&ChangeKind::Theme) {
            self.theme = Theme::load(&self.kb.root, self.kb.config.theme.as_deref())
                .map_err(kb::SetupError::from)?;
            self.cache.clear_pages();
        }
        let root = self.kb.root.clone();
        if kinds.contains(&ChangeKind::Template) {
            // Templates decide validation: reload them, then read and validate every document again.
            let inputs = load::load(&root, self.kb.config.max_file_size);
            let (templates, template_diags) = crate::template::Templates::load(&inputs.templates);
            self.kb.templates = templates;
            self.other_diags = inputs
                .diagnostics
                .into_iter()
                .filter(|d| !d.file.starts_with("content/"))
                .chain(template_diags)
                .collect();
            let paths: Vec<String> = self
                .kb
                .documents
                .iter()
                .map(|d| d.rel_path.clone())
                .collect();
            for p in paths {
                self.reload(&root.join(&p));
            }
        }
        for (path, kind) in changes {
            if *kind == ChangeKind::Content {
                for path in self.affected(path) {
                    self.reload(&path);
                }
            }
        }
        // A path neither there now nor holding a known asset changes no asset:
        // it is an editor's temporary file (`sed -i` writes one and renames it
        // over the document), and walking the tree for it would cost more than
        // the rebuild.
        let known = |p: &Path| {
            p.exists()
                || self
                    .kb
                    .asset_paths
                    .iter()
                    .any(|a| root.join(a).starts_with(p))
        };
        let is_asset = |(p, k): &(PathBuf, ChangeKind)| {
            (*k == ChangeKind::Static
                || (*k == ChangeKind::Content && p.extension().is_none_or(|e| e != "md")))
                && known(p)
        };
        if changes.iter().any(is_asset) {
            let mut ignored = vec![];
            self.kb.asset_paths = load::asset_paths(&root, &mut ignored);
            // Unreadable assets were reported at start; a preview skips them.
            self.kb.read_assets();
        }
        self.timings.push(("read+parse", started.elapsed()));
        // Every file's diagnostics, documents' and those of files that failed
        // to load alike; `relink` sorts them.
        let mut diags: Vec<Diagnostic> = self.other_diags.clone();
        diags.extend(self.file_diags.values().flatten().cloned());
        self.timings.push(("diagnostics", started.elapsed()));
        self.kb.relink(diags);
        if self.kb.link_memo.keys_changed() || !self.collisions.is_empty() {
            self.collisions = site::collisions(&self.kb);
        }
        self.timings.push(("relink", started.elapsed()));
        Ok(())
    }

    /// The files a changed path under content/ stands for: itself, or for a
    /// folder (renamed, moved in or out: one event for all its files) the
    /// documents known under it and the Markdown files in it now.
    fn affected(&self, path: &Path) -> Vec<PathBuf> {
        if path.extension().is_some_and(|e| e == "md") && !path.is_dir() {
            return vec![path.to_path_buf()];
        }
        let root = &self.kb.root;
        let Ok(rel) = path.strip_prefix(root) else {
            return vec![];
        };
        let mut prefix = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        prefix.push('/');
        let mut paths: Vec<PathBuf> = self
            .kb
            .documents
            .iter()
            .map(|d| d.rel_path.as_str())
            .chain(self.file_diags.keys().map(String::as_str))
            .filter(|p| p.starts_with(&prefix))
            .map(|p| root.join(p))
            .collect();
        if path.is_dir() {
            // As `load` walks: links followed, hidden files skipped.
            paths.extend(
                walkdir::WalkDir::new(path)
                    .follow_links(true)
                    .into_iter()
                    .filter_map(Result::ok)
                    .filter(|e| {
                        let name = e.file_name().to_string_lossy();
                        e.file_type().is_file() && name.ends_with(".md") && !name.starts_with('.')
                    })
                    .map(walkdir::DirEntry::into_path),
            );
        }
        paths.sort();
        paths.dedup();
        paths
    }

    /// Re-reads one path under content/: replaces, adds or removes its document.
    fn reload(&mut self, path: &Path) {
        let root = &self.kb.root;
        let Ok(rel) = path.strip_prefix(root) else {
            return;
        };
        let rel = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        if !rel.ends_with(".md") {
            return;
        }
        let position = self
            .kb
            .documents
            .binary_search_by(|d| d.rel_path.as_str().cmp(&rel));
        self.file_diags.remove(&rel);
        let read = load::reread(root, &rel, self.kb.config.max_file_size);
        match read {
            None => {
                if let Ok(i) = position {
                    self.kb.documents.remove(i);
                }
            }
            Some(Err(d)) => {
                if let Ok(i) = position {
                    self.kb.documents.remove(i);
                }
                self.file_diags.insert(rel, vec![d]);
            }
            Some(Ok(file)) => {
                let ctx = validate::Context {
                    config: &self.kb.config,
                    templates: &self.kb.templates,
                    today: self.kb.today,
                };
                let (doc, d) = kb::parse_file(
                    SourceFile {
                        rel_path: rel.clone(),
                        text: file.text,
                    },
                    &ctx,
                );
                match position {
                    Ok(i) => self.kb.documents[i] = doc,
                    Err(i) => self.kb.documents.insert(i, doc),
                }
                if !d.is_empty() {
                    self.file_diags.insert(rel, d);
                }
            }
        }
    }
}

impl KnowledgeBase {
    /// A copy for a build that drops drafts, leaving the workspace untouched.
    pub fn clone_for_build(&self) -> KnowledgeBase {
        KnowledgeBase {
            root: self.root.clone(),
            config: self.config.clone(),
            templates: self.templates.clone(),
            documents: self.documents.clone(),
            graph: self.graph.clone(),
            link_memo: Default::default(),
            timeline_memo: Default::default(),
            file_diagnostics: vec![],
            asset_paths: self.asset_paths.clone(),
            assets: self.assets.clone(),
            diagnostics: vec![],
            today: self.today,
            timings: vec![],
            draft_postmortem_of: self.draft_postmortem_of.clone(),
        }
    }
}

/// What the server shares between its threads.
pub struct Shared {
    pub site: RwLock<Arc<Site>>,
    pub state: Mutex<State>,
    pub changed: Condvar,
    pub sources: Mutex<HashMap<String, String>>,
}

impl Shared {
    /// Whether a build has succeeded: a built site always has pages.
    fn has_site(&self) -> bool {
        !self.site.read().unwrap().files.is_empty()
    }

    /// Adds files to the current site; pages among them are reloaded.
    fn add_files(&self, files: Vec<(String, site::Bytes)>) {
        if files.is_empty() {
            return;
        }
        let mut state = self.state.lock().unwrap();
        let old = self.site.read().unwrap().clone();
        let mut next = Site {
            files: old.files.clone(),
            ..Site::default()
        };
        next.files.extend(files);
        let pages = changed_pages(&old, &next);
        *self.site.write().unwrap() = Arc::new(next);
        if pages.as_ref().is_some_and(|p| p.is_empty()) {
            return; // no page changed: nothing to reload
        }
        state.build += 1;
        state.pages = pages.map(Arc::new);
        self.changed.notify_all();
    }

    fn publish(&self, outcome: BuildOutcome) {
        let mut state = self.state.lock().unwrap();
        state.pages = None;
        if let Some(site) = outcome.site {
            let old = self.site.read().unwrap().clone();
            state.pages = changed_pages(&old, &site).map(Arc::new);
            *self.site.write().unwrap() = Arc::new(site);
        }
        state.build += 1;
        state.errors = Arc::new(outcome.errors);
        self.changed.notify_all();
    }
}

/// What the server tells open pages after a build.
#[derive(Default)]
pub struct State {
    pub build: u64,
    /// The current errors: empty when the site is good.
    pub errors: Arc<Vec<Diagnostic>>,
    /// The URL paths of the pages that changed since the build before, when
    /// known and few; a page not among them does not reload.
    pub pages: Option<Arc<Vec<String>>>,
}

/// The URL paths of the pages that differ between two sites, or None when
/// there are too many to list (a page that is not sure reloads).
fn changed_pages(old: &Site, new: &Site) -> Option<Vec<String>> {
    const MOST: usize = 500;
    // Both maps are sorted: one walk over them side by side, rather than a
    // lookup of each of 10,000 paths.
    let mut pages: Vec<&String> = vec![];
    let mut gone: Vec<&String> = vec![];
    let mut old_files = old.files.iter().peekable();
    for (path, content) in &new.files {
        while let Some((o, _)) = old_files.next_if(|(o, _)| *o < path) {
            gone.push(o);
        }
        let same = old_files
            .next_if(|(o, _)| *o == path)
            .is_some_and(|(_, o)| Arc::ptr_eq(o, content) || o == content);
        if !same {
            pages.push(path);
        }
    }
    gone.extend(old_files.map(|(o, _)| o));
    let html = |p: &&String| p.ends_with(".html");
    let pages: Vec<&String> = pages
        .into_iter()
        .filter(html)
        .chain(gone.into_iter().filter(html))
        .collect();
    if pages.len() > MOST {
        return None;
    }
    Some(
        pages
            .into_iter()
            .map(|p| format!("/{}", p.strip_suffix("index.html").unwrap_or(p)))
            .collect(),
    )
}

pub fn run(args: ServeArgs) -> ExitCode {
    let today = args.common.today.unwrap_or_else(kb::today_utc);
    let root = args
        .common
        .root
        .canonicalize()
        .unwrap_or_else(|_| args.common.root.clone());
    let started = Instant::now();
    // Watch before reading anything, so no save is missed between the two.
    let watching = watch(&root, args.poll);
    let workspace = match Workspace::open(&root, today, !args.no_drafts) {
        Ok(w) => w,
        Err(e) => return crate::cli::setup_failed(e, crate::diagnostic::Format::Human),
    };
    let (watcher, changes) = match watching {
        Ok(w) => w,
        Err(msg) => {
            eprintln!("error[serve]: {msg}");
            return ExitCode::from(2);
        }
    };
    let first = workspace.build();
    eprintln!(
        "built {} documents in {} ms{}",
        workspace.kb.documents.len(),
        started.elapsed().as_millis(),
        if first.errors.is_empty() {
            String::new()
        } else {
            let n = first.errors.len();
            format!(" with {n} error{}", if n == 1 { "" } else { "s" })
        }
    );
    let listener = match bind(&args.bind, args.port) {
        Ok(l) => l,
        Err(msg) => {
            eprintln!("error[serve]: {msg}");
            return ExitCode::from(2);
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or_default();
    let local = listener.local_addr().ok();
    let server = match tiny_http::Server::from_listener(listener, None) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("error[serve]: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(local) = local {
        unstick_connections(local);
    }
    let shared = Arc::new(Shared {
        site: RwLock::new(Arc::new(Site::default())),
        state: Mutex::new(State::default()),
        changed: Condvar::new(),
        sources: Mutex::new(HashMap::new()),
    });
    report_errors(&first.errors, &workspace, &shared);
    remember_sources(&shared, &first.errors, &workspace, vec![]);
    shared.publish(first);
    let url = format!("http://{addr}/");
    eprintln!("serving {} at {url} (Ctrl-C to stop)", root.display());
    if args.open {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else {
            "xdg-open"
        };
        let _ = std::process::Command::new(opener).arg(&url).spawn();
    }
    for _ in 0..4 {
        let (server, shared) = (server.clone(), shared.clone());
        std::thread::spawn(move || loop {
            match server.recv() {
                Ok(request) => handle(request, &shared),
                Err(_) => return,
            }
        });
    }
    watch_and_rebuild(
        &root,
        watcher,
        changes,
        workspace,
        &shared,
        args.common.timings,
    )
}

/// tiny_http gives each connection a pool thread for its whole life, and its
/// pool can queue a connection behind busy threads when several arrive at
/// once (a page and its assets, a few tabs). With event streams and idle
/// keep-alive connections holding every thread, the queued one waited until
/// some connection closed. A connection that closes at once frees a thread,
/// which then serves the queue: one every 250 ms bounds the wait.
fn unstick_connections(mut local: std::net::SocketAddr) {
    if local.ip().is_unspecified() {
        local.set_ip(match local {
            std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
            std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
        });
    }
    std::thread::spawn(move || loop {
        std::thread::sleep(Duration::from_millis(250));
        let _ = std::net::TcpStream::connect_timeout(&local, Duration::from_secs(1));
    });
}

/// Binds, or says which port to try instead.
fn bind(host: &str, port: u16) -> Result<TcpListener, String> {
    match TcpListener::bind((host, port)) {
        Ok(l) => {
            no_delay(&l);
            Ok(l)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let free = (port.saturating_add(1)..port.saturating_add(100))
                .find(|p| TcpListener::bind((host, *p)).is_ok());
            Err(match free {
                Some(p) => format!("port {port} is in use; try `--port {p}`"),
                None => format!("port {port} is in use"),
            })
        }
        Err(e) => Err(format!("cannot listen on {host}:{port}: {e}")),
    }
}

/// Turns off Nagle's algorithm for every connection the listener accepts
/// (they inherit it). tiny_http writes a response in pieces through a 1 KB
/// buffer; with Nagle, a keep-alive client waited for its delayed ACK, 40 ms,
/// on every response over 1 KB. tiny_http has no option for it.
#[cfg(unix)]
fn no_delay(listener: &TcpListener) {
    use std::ffi::{c_int, c_void};
    use std::os::fd::AsRawFd;
    extern "C" {
        fn setsockopt(
            fd: c_int,
            level: c_int,
            name: c_int,
            value: *const c_void,
            len: u32,
        ) -> c_int;
    }
    const IPPROTO_TCP: c_int = 6;
    const TCP_NODELAY: c_int = 1; // the same on Linux, macOS and the BSDs
    let on: c_int = 1;
    // SAFETY: a valid socket, a pointer to a live c_int and its size. Failure only costs speed.
    unsafe {
        setsockopt(
            listener.as_raw_fd(),
            IPPROTO_TCP,
            TCP_NODELAY,
            std::ptr::from_ref(&on).cast(),
            std::mem::size_of::<c_int>() as u32,
        );
    }
}

#[cfg(not(unix))]
fn no_delay(_: &TcpListener) {}

/// Prints a failed build's errors and what is served meanwhile: the last
/// good site, or, before any, the errors themselves.
fn report_errors(errors: &[Diagnostic], workspace: &Workspace, shared: &Shared) {
    if !errors.is_empty() {
        print_errors(errors, &workspace.kb, &[]);
        if shared.has_site() {
            eprintln!("the last good site is still served; fix the errors above");
        } else {
            eprintln!(
                "no site could be built yet; fix the errors above \
                 (pages show them until then, and reload into the site once it builds)"
            );
        }
    }
}

/// `texts`: files the errors quote that are not documents (`hindsight.yaml`).
fn print_errors(errors: &[Diagnostic], kb: &KnowledgeBase, texts: &[(String, String)]) {
    eprint!("{}", crate::build::render_errors(errors, kb, texts));
}

/// Keeps the texts of the files `errors` are in, for the overlay to quote
/// their lines; `texts` are those that are not documents (`hindsight.yaml`).
fn remember_sources(
    shared: &Shared,
    errors: &[Diagnostic],
    workspace: &Workspace,
    texts: Vec<(String, String)>,
) {
    let mut kept = shared.sources.lock().unwrap();
    kept.clear();
    if errors.is_empty() {
        return;
    }
    kept.extend(texts);
    let sources = workspace.kb.sources();
    for e in errors {
        if let Some(text) = sources.get(e.file.as_str()) {
            kept.insert(e.file.clone(), text.to_string());
        }
    }
    kept.extend(crate::theme::template_texts(&workspace.kb.root, errors));
}

/// Debounce: an editor's save is several events within a few milliseconds.
/// A rebuild starts once events pause for `QUIET`, or for `DEBOUNCE` while a
/// changed document is missing or empty (see `mid_save`).
const QUIET: Duration = Duration::from_millis(5);
const DEBOUNCE: Duration = Duration::from_millis(40);

/// True when `events` may stop halfway through a save: a document they name
/// is gone (vim renames the original away before writing the new one) or
/// empty (truncated before written). Deleting a document waits `DEBOUNCE`.
fn mid_save(root: &Path, output: &Path, events: &[notify::Result<notify::Event>]) -> bool {
    events
        .iter()
        .filter_map(|e| e.as_ref().ok())
        .flat_map(|e| &e.paths)
        .filter(|p| classify(root, Some(output), p) == Some(ChangeKind::Content))
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .any(|p| std::fs::metadata(p).map_or(true, |m| m.len() == 0))
}

type Events = std::sync::mpsc::Receiver<notify::Result<notify::Event>>;

/// Starts watching `root`; events queue up until `watch_and_rebuild` reads them.
fn watch(root: &Path, poll: bool) -> Result<(Box<dyn notify::Watcher>, Events), String> {
    let (tx, rx) = std::sync::mpsc::channel::<notify::Result<notify::Event>>();
    let watcher: notify::Result<Box<dyn notify::Watcher>> = if poll {
        let config = notify::Config::default().with_poll_interval(Duration::from_millis(500));
        notify::PollWatcher::new(tx, config).map(|w| Box::new(w) as Box<dyn notify::Watcher>)
    } else {
        notify::recommended_watcher(tx).map(|w| Box::new(w) as Box<dyn notify::Watcher>)
    };
    let mut watcher = watcher.map_err(|e| format!("cannot watch files: {e} (try --poll)"))?;
    watcher
        .watch(root, notify::RecursiveMode::Recursive)
        .map_err(|e| format!("cannot watch {}: {e} (try --poll)", root.display()))?;
    Ok((watcher, rx))
}

fn watch_and_rebuild(
    root: &Path,
    _watcher: Box<dyn notify::Watcher>,
    rx: Events,
    mut workspace: Workspace,
    shared: &Shared,
    timings: bool,
) -> ExitCode {
    let output = root.join("public");
    // Whether the last good build left work for later (`Workspace::finish`).
    let mut unfinished = false;
    loop {
        let first = if unfinished {
            // Later work waits for a quiet moment, and yields to the next
            // edit between its steps: a save is never queued behind it.
            match rx.recv_timeout(IDLE) {
                Ok(event) => event,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    let t = Instant::now();
                    match workspace.finish_step() {
                        Ok(Some(files)) => {
                            if timings {
                                eprintln!(
                                    "timings (ms): after serving {:.1} ({} files)",
                                    t.elapsed().as_secs_f64() * 1000.0,
                                    files.len()
                                );
                            }
                            shared.add_files(files);
                        }
                        Ok(None) => unfinished = false,
                        Err(e) => {
                            print_errors(&[e], &workspace.kb, &[]);
                            unfinished = false;
                        }
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return ExitCode::SUCCESS,
            }
        } else {
            let Ok(first) = rx.recv() else {
                return ExitCode::SUCCESS;
            };
            first
        };
        let mut events = vec![first];
        // Collect until the file system is quiet (see `QUIET`, `mid_save`).
        loop {
            while let Ok(ev) = rx.recv_timeout(QUIET) {
                events.push(ev);
            }
            if !mid_save(root, &output, &events) {
                break;
            }
            match rx.recv_timeout(DEBOUNCE) {
                Ok(ev) => events.push(ev),
                Err(_) => break,
            }
        }
        let mut changes: Vec<(PathBuf, ChangeKind)> = events
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| !matches!(e.kind, notify::EventKind::Access(_)))
            .flat_map(|e| e.paths)
            .filter_map(|p| classify(root, Some(&output), &p).map(|k| (p, k)))
            .collect();
        changes.sort();
        changes.dedup();
        if changes.is_empty() {
            continue;
        }
        let started = Instant::now();
        if let Err(e) = workspace.apply(&changes) {
            // A broken hindsight.yaml is no document: its text comes with the error.
            let texts: Vec<(String, String)> = e
                .sources()
                .into_iter()
                .map(|(file, text)| (file.to_string(), text.to_string()))
                .collect();
            let errors = e.diagnostics;
            print_errors(&errors, &workspace.kb, &texts);
            remember_sources(shared, &errors, &workspace, texts);
            let outcome = BuildOutcome {
                site: None,
                errors,
                elapsed: started.elapsed(),
            };
            shared.publish(outcome);
            continue;
        }
        let applied = started.elapsed();
        let outcome = workspace.build_pages();
        if timings {
            let stages: Vec<String> = workspace
                .timings
                .iter()
                .copied()
                .chain(std::iter::once(("apply", applied)))
                .chain(outcome.site.iter().flat_map(|s| s.timings.iter().copied()))
                .map(|(stage, t)| format!("{stage} {:.1}", t.as_secs_f64() * 1000.0))
                .collect();
            eprintln!("timings (ms): {}", stages.join(", "));
        }
        let names: Vec<String> = changes
            .iter()
            .map(|(p, _)| p.strip_prefix(root).unwrap_or(p).display().to_string())
            .collect();
        if outcome.errors.is_empty() {
            eprintln!(
                "rebuilt in {:.1} ms ({} pages rendered) after {}",
                started.elapsed().as_secs_f64() * 1000.0,
                workspace
                    .cache
                    .rendered
                    .load(std::sync::atomic::Ordering::Relaxed),
                names.join(", ")
            );
        } else {
            report_errors(&outcome.errors, &workspace, shared);
        }
        remember_sources(shared, &outcome.errors, &workspace, vec![]);
        unfinished = outcome.site.is_some();
        shared.publish(outcome);
    }
}

/// How long the watcher waits for another edit before it does later work.
const IDLE: Duration = Duration::from_millis(1000);

const RELOAD_JS: &str = include_str!("../themes/default/static/reload.js");

/// Maps a request path to a site file, refusing anything that could escape it.
pub fn resolve_path(site: &Site, url: &str) -> Result<String, u16> {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let decoded = percent_decode(path).ok_or(400u16)?;
    if !decoded.starts_with('/') {
        return Err(400);
    }
    // `//host` would also make the 301 below an open redirect.
    if decoded.contains('\\') || decoded.contains('\0') || decoded.starts_with("//") {
        return Err(403);
    }
    let mut segments = vec![];
    for seg in decoded.split('/') {
        match seg {
            "" | "." => {}
            ".." => return Err(403),
            s if s.contains(':') => return Err(403),
            s => segments.push(s),
        }
    }
    let joined = segments.join("/");
    let candidates = if decoded.ends_with('/') || joined.is_empty() {
        vec![format!(
            "{joined}{}index.html",
            if joined.is_empty() { "" } else { "/" }
        )]
    } else {
        vec![joined.clone()]
    };
    for c in candidates {
        if site.files.contains_key(&c) {
            return Ok(c);
        }
    }
    if !joined.is_empty() && site.files.contains_key(&format!("{joined}/index.html")) {
        return Err(301);
    }
    Err(404)
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

pub fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn header(name: &str, value: &str) -> tiny_http::Header {
    tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("static header")
}

/// Adds the live-reload script to an HTML page (served copies only; the built site has none).
fn inject_reload(html: &[u8], build: u64) -> Vec<u8> {
    let tag = format!("<script src=\"/__hindsight/reload.js\" data-build=\"{build}\"></script>");
    let text = String::from_utf8_lossy(html);
    match text.rfind("</body>") {
        Some(i) => format!("{}{tag}{}", &text[..i], &text[i..]).into_bytes(),
        None => format!("{text}{tag}").into_bytes(),
    }
}

fn handle(request: tiny_http::Request, shared: &Arc<Shared>) {
    let url = request.url().to_string();
    if request.method() != &tiny_http::Method::Get && request.method() != &tiny_http::Method::Head {
        let _ = request
            .respond(tiny_http::Response::from_string("method not allowed").with_status_code(405));
        return;
    }
    match url.split('?').next().unwrap_or("") {
        "/__hindsight/events" => {
            // An event stream lasts as long as its page: give it its own
            // thread, or a few open tabs would take every worker.
            let shared = shared.clone();
            std::thread::spawn(move || events(request, &shared));
            return;
        }
        "/__hindsight/reload.js" => {
            let _ = request.respond(
                tiny_http::Response::from_string(RELOAD_JS)
                    .with_header(header("Content-Type", "text/javascript; charset=utf-8")),
            );
            return;
        }
        "/__hindsight/errors.json" => {
            let body = errors_json(shared);
            let _ = request.respond(
                tiny_http::Response::from_string(body)
                    .with_header(header("Content-Type", "application/json")),
            );
            return;
        }
        _ => {}
    }
    // The build number first: `publish` stores the site, then counts the
    // build, so a page is never marked newer than what it shows (an older
    // mark only makes it reload once more).
    let build = shared.state.lock().unwrap().build;
    let site = shared.site.read().unwrap().clone();
    let no_cache = header("Cache-Control", "no-store");
    match resolve_path(&site, &url) {
        Ok(path) => {
            let bytes = &site.files[&path];
            let body = if path.ends_with(".html") {
                inject_reload(bytes, build)
            } else {
                bytes.to_vec()
            };
            let response = tiny_http::Response::from_data(body)
                .with_header(header("Content-Type", content_type(&path)))
                .with_header(no_cache);
            let _ = request.respond(response);
        }
        Err(301) => {
            let location = format!("{}/", url.split('?').next().unwrap_or(""));
            let _ = request.respond(
                tiny_http::Response::empty(301).with_header(header("Location", &location)),
            );
        }
        Err(404) if site.files.is_empty() && names_page(&url) => {
            let response = tiny_http::Response::from_data(no_site_page(shared, build))
                .with_status_code(500)
                .with_header(header("Content-Type", "text/html; charset=utf-8"))
                .with_header(no_cache);
            let _ = request.respond(response);
        }
        Err(code) => {
            let body = match (code, site.files.get("404.html")) {
                (404, Some(page)) => inject_reload(page, build),
                _ => format!("{code}").into_bytes(),
            };
            let response = tiny_http::Response::from_data(body)
                .with_status_code(code)
                .with_header(header("Content-Type", "text/html; charset=utf-8"))
                .with_header(no_cache);
            let _ = request.respond(response);
        }
    }
}

/// Whether a request path asks for a page (`/`, `/incidents/`, `/a.html`,
/// `/a`) rather than another file (`/feed.xml`, `/static/style.css`).
fn names_page(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or("/");
    let last = path.rsplit('/').next().unwrap_or("");
    last.is_empty() || last.ends_with(".html") || !last.contains('.')
}

/// What a page request gets while no build has succeeded, so there is no last
/// good site to overlay: the errors as the terminal shows them, and the reload
/// script, which reloads this page on every build (into the site once one is
/// good). Served with status 500: the page asked for could not be made.
/// `build` is the one the request saw with the empty site: a later one
/// makes the page reload into it.
fn no_site_page(shared: &Shared, build: u64) -> Vec<u8> {
    let errors = shared.state.lock().unwrap().errors.clone();
    let report = {
        let kept = shared.sources.lock().unwrap();
        let sources: diagnostic::Sources =
            kept.iter().map(|(f, t)| (f.as_str(), t.as_str())).collect();
        diagnostic::render_human(&errors, &sources)
    };
    // Styled inline like the overlay: no theme file is served yet.
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>No site yet · hindsight serve</title></head>\n\
         <body style=\"margin:0;background:#1c1f23;color:#f3f4f6;\
         font:14px/1.5 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace\">\n\
         <main id=\"hindsight-no-site\" role=\"alert\" style=\"max-width:60rem;\
         margin:2rem auto;padding:0 1.25rem;border-left:6px solid #e5484d\">\n\
         <h1 style=\"font-size:1.25rem;color:#ff9592\">No site could be built yet</h1>\n\
         <p>Fix the errors below and save: this page reloads by itself, \
         and shows the site once it builds.</p>\n\
         <pre style=\"white-space:pre-wrap;color:#c9d1d9\">{}</pre>\n</main>\n</body>\n</html>\n",
        crate::render::escape(&report)
    );
    inject_reload(page.as_bytes(), build)
}

fn errors_json(shared: &Shared) -> String {
    let (build, errors) = {
        let state = shared.state.lock().unwrap();
        (state.build, state.errors.clone())
    };
    let sources = shared.sources.lock().unwrap();
    let errors: Vec<serde_json::Value> = errors
        .iter()
        .map(|d| {
            let line = sources.get(&d.file).map(|t| diagnostic::LineIndex::new(t).line_text(t, d.line).to_string());
            serde_json::json!({"file": d.file, "line": d.line, "column": d.column, "message": d.message, "hint": d.hint, "source": line, "code": d.code})
        })
        .collect();
    serde_json::json!({"build": build, "errors": errors}).to_string()
}

/// Server-Sent Events: one `build` event per finished build, with the build
/// number and whether it has errors. tiny_http has no WebSocket; SSE needs none.
fn events(request: tiny_http::Request, shared: &Shared) {
    let mut seen = shared.state.lock().unwrap().build;
    let mut out = request.into_writer();
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: keep-alive\r\n\r\n";
    let hello = format!(
        "retry: 500\ndata: {{\"build\":{seen},\"errors\":{}}}\n\n",
        !shared.state.lock().unwrap().errors.is_empty()
    );
    if out
        .write_all(head.as_bytes())
        .and_then(|()| out.write_all(hello.as_bytes()))
        .and_then(|()| out.flush())
        .is_err()
    {
        return;
    }
    loop {
        let state = shared.state.lock().unwrap();
        let (state, _) = shared
            .changed
            .wait_timeout_while(state, Duration::from_secs(15), |s| s.build == seen)
            .unwrap();
        let message = if state.build != seen {
            seen = state.build;
            // `from`: the build the list of changed pages is relative to.
            let pages = state
                .pages
                .as_ref()
                .map(|p| {
                    format!(
                        ",\"from\":{},\"pages\":{}",
                        seen - 1,
                        serde_json::json!(**p)
                    )
                })
                .unwrap_or_default();
            format!(
                "data: {{\"build\":{seen},\"errors\":{}{pages}}}\n\n",
                !state.errors.is_empty()
            )
        } else {
            ": keep-alive\n\n".to_string() // also finds closed connections
        };
        drop(state);
        if out
            .write_all(message.as_bytes())
            .and_then(|()| out.flush())
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_save_is_unfinished_while_a_document_is_gone_or_empty() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let docs = root.join("content/postmortems");
        std::fs::create_dir_all(&docs).unwrap();
        let event =
            |name: &str| Ok(notify::Event::new(notify::EventKind::Any).add_path(docs.join(name)));
        let out = root.join("public");
        std::fs::write(docs.join("written.md"), "---\nid: PM-1\n---\n").unwrap();
        std::fs::write(docs.join("empty.md"), "").unwrap();
        assert!(!mid_save(root, &out, &[event("written.md")]));
        // vim between renaming the original away and writing the new file.
        assert!(mid_save(
            root,
            &out,
            &[event("written.md"), event("gone.md")]
        ));
        // Truncated, not yet written.
        assert!(mid_save(root, &out, &[event("empty.md")]));
        // A temporary file that is gone is not a document.
        assert!(!mid_save(
            root,
            &out,
            &[event(".written.md.tmp"), event("sedX1a2")]
        ));
    }

    #[test]
    fn classify_sorts_paths_and_ignores_editor_files() {
        let root = Path::new("/kb");
        let out = Path::new("/kb/public");
        let c = |p: &str| classify(root, Some(out), Path::new(p));
        assert_eq!(c("/kb/content/postmortems/a.md"), Some(ChangeKind::Content));
        assert_eq!(c("/kb/content/img/graph.png"), Some(ChangeKind::Content));
        assert_eq!(c("/kb/templates/postmortem.md"), Some(ChangeKind::Template));
        assert_eq!(
            c("/kb/themes/dark/templates/page.html"),
            Some(ChangeKind::Theme)
        );
        assert_eq!(c("/kb/hindsight.yaml"), Some(ChangeKind::Config));
        assert_eq!(c("/kb/static/logo.svg"), Some(ChangeKind::Static));
        for junk in [
            "/kb/content/postmortems/.a.md.swp",
            "/kb/content/postmortems/a.md~",
            "/kb/content/postmortems/4913",
            "/kb/content/postmortems/#a.md#",
            "/kb/content/postmortems/.#a.md",
            "/kb/content/.git/index",
            "/kb/.git/HEAD",
            "/kb/public/index.html",
            "/kb/target/debug/x",
            "/kb/README.md",
            "/elsewhere/content/a.md",
        ] {
            assert_eq!(c(junk), None, "{junk}");
        }
    }

    fn site(paths: &[&str]) -> Site {
        Site {
            files: paths
                .iter()
                .map(|p| (p.to_string(), Arc::new(b"x".to_vec())))
                .collect(),
            ..Site::default()
        }
    }

    #[test]
    fn changed_pages_are_those_added_changed_or_gone() {
        let old = site(&["a/index.html", "b.html", "c.css", "d.html", "z.html"]);
        let mut new = site(&["b.html", "b2/index.html", "c.css", "d.html"]);
        // The same bytes in another buffer are no change; other bytes are.
        new.files.insert("c.css".into(), Arc::new(b"y".to_vec()));
        new.files.insert("d.html".into(), Arc::new(b"y".to_vec()));
        assert_eq!(
            changed_pages(&old, &new),
            Some(vec![
                "/b2/".to_string(),
                "/d.html".into(),
                "/a/".into(),
                "/z.html".into()
            ])
        );
        assert_eq!(changed_pages(&new, &new), Some(vec![]));
    }

    #[test]
    fn paths_never_escape_the_site() {
        let s = site(&["index.html", "incidents/index.html", "static/style.css"]);
        assert_eq!(resolve_path(&s, "/"), Ok("index.html".into()));
        assert_eq!(
            resolve_path(&s, "/incidents/?q=1"),
            Ok("incidents/index.html".into())
        );
        assert_eq!(resolve_path(&s, "/incidents"), Err(301));
        assert_eq!(
            resolve_path(&s, "/static/style.css"),
            Ok("static/style.css".into())
        );
        assert_eq!(
            resolve_path(&s, "/%73tatic/style.css"),
            Ok("static/style.css".into())
        );
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/static/%2E%2E/%2e%2e/x",
            "/..%2fetc",
            "/a\\..\\b",
            "//etc/passwd",
            "/C:/x",
        ] {
            assert!(
                matches!(resolve_path(&s, bad), Err(400 | 403 | 404)),
                "{bad}"
            );
        }
        assert_eq!(resolve_path(&s, "/nope.html"), Err(404));
        assert_eq!(resolve_path(&s, "/%zz"), Err(400));
    }

    #[test]
    fn pages_are_paths_to_html_or_without_an_extension() {
        for page in [
            "/",
            "/incidents/",
            "/postmortems/pm-1",
            "/a.html?x=1",
            "/b/#top",
        ] {
            assert!(names_page(page), "{page}");
        }
        for file in ["/feed.xml", "/static/style.css", "/api/incidents.json?x"] {
            assert!(!names_page(file), "{file}");
        }
    }

    #[test]
    fn reload_script_goes_before_body_end() {
        let html = inject_reload(b"<html><body><p>x</p></body></html>", 7);
        let html = String::from_utf8(html).unwrap();
        assert!(
            html.ends_with(
                "<script src=\"/__hindsight/reload.js\" data-build=\"7\"></script></body></html>"
            ),
            "{html}"
        );
    }
}
