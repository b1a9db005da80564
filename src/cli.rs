//! The command line: a thin layer over the pipeline. Exit codes mean something:
//! 0 clean (warnings allowed), 1 problems in content, 2 bad usage or config.

use crate::diagnostic::{self, Format};
use crate::kb::{self, SetupError};
use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "hindsight",
    version,
    about = "Incidents, postmortems and runbooks as a validated static knowledge base"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct Common {
    /// The knowledge base's root, where hindsight.yaml and content/ are.
    #[arg(long, global = true, default_value = ".")]
    pub root: PathBuf,
    /// The date policies are judged against (YYYY-MM-DD; default: today, UTC).
    #[arg(long, global = true)]
    pub today: Option<NaiveDate>,
    /// Print how long each stage took, on stderr.
    #[arg(long, global = true)]
    pub timings: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate the knowledge base and report every problem.
    Check(CheckArgs),
    /// Check, then write the static site (public/ by default).
    Build(crate::build::BuildArgs),
    /// Preview the site with live reload while you write.
    Serve(crate::serve::ServeArgs),
    /// Create a knowledge base: config, templates, examples, CI workflow. Never overwrites.
    Init(crate::scaffold::InitArgs),
    /// Write a new document from its template with the next free id; prints its path.
    New(crate::scaffold::NewArgs),
    /// Explain a diagnostic code (or list them all).
    Explain(crate::rules::ExplainArgs),
    /// List action items for a stand-up: open and overdue ones, by owner or service.
    Actions(crate::report::ActionsArgs),
    /// Print the headline metrics: MTTD, MTTR, postmortem coverage, action items.
    Stats(crate::report::StatsArgs),
}

#[derive(Args, Debug)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: Common,
    /// Output format of the diagnostics.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Exit 1 on warnings too.
    #[arg(long)]
    pub deny_warnings: bool,
    /// Report only on these files (links still resolve against everything).
    pub files: Vec<PathBuf>,
    /// Report overdue action items as errors (`action-item-overdue`).
    #[arg(long)]
    pub deny_overdue: bool,
    /// Report only on files changed since this git ref (and the documents they link to).
    #[arg(long, value_name = "REF")]
    pub changed_since: Option<String>,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check(args) => check(args),
        Command::Build(args) => crate::build::run(args),
        Command::Serve(args) => crate::serve::run(args),
        Command::Init(args) => crate::scaffold::run_init(args),
        Command::New(args) => crate::scaffold::run_new(args),
        Command::Explain(args) => crate::rules::run_explain(args),
        Command::Actions(args) => crate::report::actions(args),
        Command::Stats(args) => crate::report::stats(args),
    }
}

/// Reports a problem that stopped the run, in `format` like every other
/// diagnostic (a broken `hindsight.yaml` quotes its line), and exits 2.
pub fn setup_failed(e: SetupError, format: Format) -> ExitCode {
    // Without a text to quote (no content folder, an unreadable file), the
    // human renderer shows the place alone.
    print_diagnostics(&e.diagnostics, format, &e.sources());
    ExitCode::from(2)
}

/// Diagnostics in `format`: human text on stderr, the others on stdout.
fn print_diagnostics(
    diags: &[diagnostic::Diagnostic],
    format: Format,
    sources: &diagnostic::Sources,
) {
    let out = diagnostic::render(diags, format, sources);
    let written = if format == Format::Human {
        std::io::stderr().write_all(out.as_bytes())
    } else {
        std::io::stdout().write_all(out.as_bytes())
    };
    // A closed pipe (`| head`) is not an error worth a panic.
    let _ = written;
}

fn print_timings(kb: &kb::KnowledgeBase) {
    for (stage, t) in &kb.timings {
        eprintln!("{stage:>16}: {:>8.1} ms", t.as_secs_f64() * 1000.0);
    }
}

pub fn check(args: CheckArgs) -> ExitCode {
    let today = args.common.today.unwrap_or_else(kb::today_utc);
    let root = &args.common.root;
    let changed = match &args.changed_since {
        Some(git_ref) => match crate::changed::changed_files(root, git_ref) {
            Ok(files) => Some(files),
            Err(e) => {
                eprintln!("error[git]: --changed-since {git_ref}: {e}");
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let kb = match kb::open(root, today) {
        Ok(kb) => kb,
        Err(e) => return setup_failed(e, args.format),
    };
    if args.common.timings {
        print_timings(&kb);
    }
    let scope = changed.map(|files| crate::changed::scope(&kb, &files));
    let mut wanted = vec![];
    for f in &args.files {
        match relative_to_root(root, f) {
            Some(rel) => wanted.push(rel),
            None => {
                eprintln!(
                    "error[usage]: {} is not a file inside the knowledge base {}",
                    f.display(),
                    root.display()
                );
                return ExitCode::from(2);
            }
        }
    }
    let overdue = if args.deny_overdue {
        crate::aggregate::overdue_action_items(&kb)
    } else {
        vec![]
    };
    // Pages two documents would share fail `build`: CI should see them first.
    let collisions = crate::site::collisions(&kb);
    let mut diags: Vec<_> = kb
        .diagnostics
        .iter()
        .chain(&collisions)
        .chain(&overdue)
        .filter(|d| match &scope {
            Some(scope) => scope.includes(d) || wanted.contains(&d.file),
            None => wanted.is_empty() || wanted.contains(&d.file),
        })
        .cloned()
        .collect();
    diagnostic::sort(&mut diags);
    print_diagnostics(&diags, args.format, &kb.sources());
    let (errors, warnings) = diagnostic::count(&diags);
    // The process ends here: freeing a whole knowledge base piece by piece is wasted time.
    std::mem::forget(kb);
    if errors > 0 || (args.deny_warnings && warnings > 0) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// A path given on the command line, relative to the knowledge-base root.
fn relative_to_root(root: &Path, file: &Path) -> Option<String> {
    let root = root.canonicalize().ok()?;
    let file = file.canonicalize().ok()?;
    let rel = file.strip_prefix(&root).ok()?;
    Some(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
    )
}
