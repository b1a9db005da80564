//! The pipeline up to a checked knowledge base: load -> parse -> validate ->
//! link -> policies. `check` stops here; `build` and `serve` go on to render.

use crate::config::Config;
use crate::diagnostic::{self, Diagnostic};
use crate::link::{self, LinkGraph};
use crate::load::{self, Inputs};
use crate::model::Document;
use crate::template::Templates;
use crate::{parse, policy, validate};
use chrono::NaiveDate;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A loaded, validated and linked knowledge base: plain data, all in memory.
#[derive(Debug)]
pub struct KnowledgeBase {
    pub root: PathBuf,
    pub config: Config,
    pub templates: Templates,
    /// Sorted by path, so every later stage is deterministic.
    pub documents: Vec<Document>,
    pub graph: LinkGraph,
    /// What linking found per document, for the next `relink` (see `link::Memo`).
    pub link_memo: link::Memo,
    /// Timeline diagnostics per document, for the next `relink`.
    pub timeline_memo: policy::TimelineMemo,
    /// The diagnostics of single files (load, parse, validate), which `relink`
    /// keeps; `serve` keeps them per file until the file changes.
    pub file_diagnostics: Vec<Diagnostic>,
    /// Paths of the files copied into the site as they are (see `load::Inputs`).
    pub asset_paths: Vec<String>,
    /// Their contents by site path, once `read_assets` ran (build and serve only).
    pub assets: Vec<(String, std::sync::Arc<Vec<u8>>)>,
    pub diagnostics: Vec<Diagnostic>,
    pub today: NaiveDate,
    pub timings: Vec<(&'static str, Duration)>,
    /// Incidents with a draft postmortem that `build::without_drafts` left
    /// out: the metrics still count them as written, as `check` does.
    pub draft_postmortem_of: Vec<String>,
}

/// A problem that stops the run before content is looked at (exit code 2).
#[derive(Debug)]
pub struct SetupError {
    /// Every problem found (all in one file: `hindsight.yaml` has several
    /// values to check), in file order.
    pub diagnostics: Vec<Diagnostic>,
    /// The text of the file the diagnostics point into, when it was read
    /// (`hindsight.yaml`), so that their snippets quote the lines.
    pub source: Option<String>,
}

impl From<Diagnostic> for SetupError {
    fn from(diagnostic: Diagnostic) -> Self {
        SetupError {
            diagnostics: vec![diagnostic],
            source: None,
        }
    }
}

impl SetupError {
    /// The diagnostics' file and its text, for `diagnostic::render`.
    pub fn sources(&self) -> diagnostic::Sources<'_> {
        self.source
            .iter()
            .zip(&self.diagnostics)
            .map(|(text, d)| (d.file.as_str(), text.as_str()))
            .collect()
    }
}

pub fn today_utc() -> NaiveDate {
    chrono::Utc::now().date_naive()
}

pub fn open(root: &Path, today: NaiveDate) -> Result<KnowledgeBase, SetupError> {
    if !root.join(load::CONTENT_DIR).is_dir() {
        return Err(SetupError::from(
            Diagnostic::error(
                "no-content",
                &root.display().to_string(),
                diagnostic::Pos::file_start(),
                "no `content/` folder here",
            )
            .with_hint("run hindsight in a knowledge base, or pass `--root DIR`; `hindsight init` creates one"),
        ));
    }
    let config = match Config::read(root)? {
        Some(text) => {
            // The theme folder is looked for here, where the root is known.
            match Config::load(root, &text) {
                Ok(config) => config,
                Err(diagnostics) => {
                    return Err(SetupError {
                        diagnostics,
                        source: Some(text),
                    })
                }
            }
        }
        None => Config::default(),
    };
    let mut timings = vec![];
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, Duration)>| {
        timings.push((name, clock.elapsed()));
        clock = Instant::now();
    };
    let inputs = load::load(root, config.max_file_size);
    lap("load", &mut timings);
    let kb = from_inputs(root, config, inputs, today, timings, &mut lap);
    Ok(kb)
}

/// Everything after `load`, from plain data: also used by `serve` and by tests.
fn from_inputs(
    root: &Path,
    config: Config,
    inputs: Inputs,
    today: NaiveDate,
    mut timings: Vec<(&'static str, Duration)>,
    lap: &mut impl FnMut(&'static str, &mut Vec<(&'static str, Duration)>),
) -> KnowledgeBase {
    let Inputs {
        documents: files,
        templates: template_files,
        assets,
        diagnostics: load_diags,
    } = inputs;
    let (templates, template_diags) = Templates::load(&template_files);
    let ctx = validate::Context {
        config: &config,
        templates: &templates,
        today,
    };
    let results: Vec<(Document, Vec<Diagnostic>)> = files
        .into_par_iter()
        .with_max_len(crate::PAR_CHUNK)
        .map(|file| parse_file(file, &ctx))
        .collect();
    let mut documents = Vec::with_capacity(results.len());
    let mut file_diags: Vec<Diagnostic> = load_diags.into_iter().chain(template_diags).collect();
    for (doc, d) in results {
        documents.push(doc);
        file_diags.extend(d);
    }
    lap("parse+validate", &mut timings);
    let mut kb = KnowledgeBase {
        root: root.to_path_buf(),
        config,
        templates,
        documents,
        graph: LinkGraph::default(),
        link_memo: link::Memo::default(),
        timeline_memo: policy::TimelineMemo::default(),
        file_diagnostics: vec![],
        asset_paths: assets,
        assets: vec![],
        diagnostics: vec![],
        today,
        timings: vec![],
        draft_postmortem_of: vec![],
    };
    kb.relink(file_diags);
    lap("link+policies", &mut timings);
    kb.timings = timings;
    kb
}

/// Parses and validates one file: the per-file part of the pipeline.
pub fn parse_file(
    file: crate::model::SourceFile,
    ctx: &validate::Context,
) -> (Document, Vec<Diagnostic>) {
    let (mut doc, mut d) = parse::parse(file);
    d.extend(validate::validate(&mut doc, ctx));
    (doc, d)
}

impl KnowledgeBase {
    /// Recomputes everything that spans documents (the link graph, timelines
    /// against incidents, policies) after documents changed. `file_diags` are
    /// the per-file diagnostics (load, parse, validate), kept by the caller.
    pub fn relink(&mut self, file_diags: Vec<Diagnostic>) {
        let mut diags = file_diags.clone();
        self.file_diagnostics = file_diags;
        let previous = std::mem::take(&mut self.graph);
        let (graph, link_diags) = link::link_again(&self.documents, previous, &mut self.link_memo);
        diags.extend(link_diags);
        diags.extend(policy::check_timelines_again(
            &self.documents,
            &graph,
            &mut self.timeline_memo,
        ));
        diags.extend(policy::check_postmortems(
            &self.documents,
            &graph,
            &self.config,
            self.today,
        ));
        diagnostic::sort(&mut diags);
        self.graph = graph;
        self.diagnostics = diags;
    }

    /// Reads the asset files for a build; unreadable ones are errors.
    pub fn read_assets(&mut self) -> Vec<Diagnostic> {
        let mut diags = vec![];
        self.assets = load::read_assets(&self.root, &self.asset_paths, &mut diags);
        diags
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == diagnostic::Severity::Error)
    }

    /// Source texts by path, for rendering diagnostics with their lines.
    pub fn sources(&self) -> diagnostic::Sources<'_> {
        self.documents
            .iter()
            .map(|d| (d.rel_path.as_str(), d.text.as_str()))
            .collect()
    }

    pub fn doc(&self, id: &str) -> Option<&Document> {
        self.graph.get(id).map(|i| &self.documents[i])
    }
}
