//! `hindsight build`: check, render the site in memory, write it with a swap.
//! With errors nothing is written, so a broken link never reaches the site.

use crate::cli::Common;
use crate::diagnostic::{self, Format};
use crate::kb::{self, KnowledgeBase};
use crate::site;
use crate::theme::{self, Theme};
use crate::write;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Args, Debug)]
pub struct BuildArgs {
    #[command(flatten)]
    pub common: Common,
    /// Where to write the site (default: public/ under the root).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Override `base_url` from hindsight.yaml (e.g. https://acme.github.io/kb/).
    #[arg(long)]
    pub base_url: Option<String>,
    /// Include documents with `status: draft`.
    #[arg(long)]
    pub drafts: bool,
    /// Replace the output folder even if hindsight did not create it.
    #[arg(long)]
    pub force: bool,
}

/// Diagnostics as `check` prints them; those of templates show their line
/// of the template, and `texts` (file and text) holds any other file they
/// quote that is not a document (`hindsight.yaml`). `build` and `serve`
/// print with it.
pub fn render_errors(
    diags: &[diagnostic::Diagnostic],
    kb: &KnowledgeBase,
    texts: &[(String, String)],
) -> String {
    let templates = theme::template_texts(&kb.root, diags);
    let mut sources = kb.sources();
    sources.extend(
        templates
            .iter()
            .chain(texts)
            .map(|(f, t)| (f.as_str(), t.as_str())),
    );
    diagnostic::render(diags, Format::Human, &sources)
}

/// Checks that the knowledge base can be built, and loads its theme.
fn buildable_theme(kb: &KnowledgeBase) -> Result<Theme, Vec<diagnostic::Diagnostic>> {
    let mut problems: Vec<_> = kb
        .diagnostics
        .iter()
        .filter(|d| d.severity == diagnostic::Severity::Error)
        .cloned()
        .collect();
    problems.extend(site::collisions(kb));
    if !problems.is_empty() {
        return Err(problems);
    }
    Theme::load(&kb.root, kb.config.theme.as_deref()).map_err(|d| vec![d])
}

/// Drops drafts unless asked for: they stay out of every page, index and
/// export. Only the fact that an incident has one is kept, for the metrics'
/// postmortem coverage and overdue list, which agree with `check` that a
/// draft is written on time.
pub fn without_drafts(kb: &mut KnowledgeBase) {
    let drafts: Vec<bool> = kb
        .documents
        .iter()
        .map(|d| d.kind == "postmortem" && d.meta.status.as_deref() == Some("draft"))
        .collect();
    if drafts.iter().any(|&d| d) {
        kb.draft_postmortem_of = (0..kb.documents.len())
            .filter(|&j| kb.graph.postmortems[j].iter().any(|&p| drafts[p]))
            .map(|j| kb.documents[j].id.clone())
            .collect();
        kb.draft_postmortem_of.sort();
        let mut i = 0;
        kb.documents.retain(|_| {
            i += 1;
            !drafts[i - 1]
        });
        kb.graph = crate::link::graph(&kb.documents);
    }
}

/// An output folder that would swallow the knowledge base: its root, a folder
/// above it, or one inside its sources. Replacing it would delete them, so
/// this is refused even with --force.
pub fn overlaps_sources(root: &Path, output: &Path) -> Option<String> {
    let (root, out) = (absolute(root), absolute(output));
    if root.starts_with(&out) {
        return Some(format!(
            "the output folder {} holds the knowledge base",
            out.display()
        ));
    }
    ["content", "templates", "static", "themes"]
        .iter()
        .find(|dir| out.starts_with(root.join(dir)))
        .map(|dir| {
            format!(
                "the output folder {} is inside the knowledge base's {dir}/",
                out.display()
            )
        })
}

/// `path` made absolute with symbolic links resolved, also when it does not exist yet.
fn absolute(path: &Path) -> PathBuf {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut existing = path.as_path();
    let mut missing = vec![];
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                missing.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut out = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_path_buf());
    out.extend(missing.iter().rev());
    out
}

pub fn run(args: BuildArgs) -> ExitCode {
    let today = args.common.today.unwrap_or_else(kb::today_utc);
    let started = Instant::now();
    let mut kb = match kb::open(&args.common.root, today) {
        Ok(kb) => kb,
        Err(e) => return crate::cli::setup_failed(e, Format::Human),
    };
    if let Some(url) = &args.base_url {
        kb.config.base_url = url.clone();
    }
    let asset_diags = kb.read_assets();
    kb.diagnostics.extend(asset_diags);
    let sources_kb_diags = kb.diagnostics.clone();
    let render_start = Instant::now();
    if !args.drafts && !kb.has_errors() {
        without_drafts(&mut kb);
    }
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| args.common.root.join("public"));
    if let Some(problem) = overlaps_sources(&args.common.root, &output) {
        eprintln!("error[output]: {problem}; choose another --output");
        return ExitCode::from(2);
    }
    let failed = |errors: Vec<diagnostic::Diagnostic>| {
        let mut all = sources_kb_diags.clone();
        for e in errors {
            if !all.contains(&e) {
                all.push(e);
            }
        }
        diagnostic::sort(&mut all);
        eprint!("{}", render_errors(&all, &kb, &[]));
        eprintln!("build failed: nothing was written");
        ExitCode::from(1)
    };
    let theme = match buildable_theme(&kb) {
        Ok(theme) => theme,
        Err(errors) => return failed(errors),
    };
    // Pages and exports go into the staging folder as they are made. Unless
    // the whole site is made, it is removed and the output left as it was.
    let staging = match write::Staging::begin(&output, args.force) {
        Ok(staging) => staging,
        Err(e) => {
            eprintln!("error[output]: {e}");
            return ExitCode::from(2);
        }
    };
    let site = match site::build_into(&kb, &theme, &staging) {
        Ok(site) => site,
        Err(e) => return failed(vec![e]),
    };
    let render_time = render_start.elapsed();
    let sources = kb.sources();
    let warnings: Vec<_> = sources_kb_diags
        .into_iter()
        .filter(|d| d.severity == diagnostic::Severity::Warning)
        .collect();
    if !warnings.is_empty() {
        eprint!("{}", diagnostic::render(&warnings, Format::Human, &sources));
    }
    let write_start = Instant::now();
    if let Err(e) = staging.finish(&site) {
        eprintln!("error[output]: {e}");
        return ExitCode::from(2);
    }
    if args.common.timings {
        for (stage, t) in kb.timings.iter().chain(&site.timings) {
            eprintln!("{stage:>16}: {:>8.1} ms", t.as_secs_f64() * 1000.0);
        }
        eprintln!(
            "{:>16}: {:>8.1} ms",
            "render (total)",
            render_time.as_secs_f64() * 1000.0
        );
        eprintln!(
            "{:>16}: {:>8.1} ms",
            "write",
            write_start.elapsed().as_secs_f64() * 1000.0
        );
    }
    eprintln!(
        "built {} pages ({} files) into {} in {:.0} ms",
        site.paths().filter(|p| p.ends_with(".html")).count(),
        site.paths().count(),
        output.display(),
        started.elapsed().as_secs_f64() * 1000.0
    );
    std::mem::forget(kb);
    std::mem::forget(site);
    ExitCode::SUCCESS
}
