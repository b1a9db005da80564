//! The integration test binary: runs `hindsight` on fixture knowledge bases
//! under `tests/fixtures/` and on hostile input made at run time, and property
//! tests over the parsers. One binary, so cargo links once.
//!
//! - `authoring`: `init`, `new`, filling in until `check` passes, `--changed-since`, `explain`.
//! - `check`: the `valid` and `mistakes` fixtures, in all three formats (snapshots).
//! - `cli`: `check FILE...`, `--deny-warnings`, exit code 2 for bad setups.
//! - `hostile`: input meant to crash or hang the checker.
//! - `example`: the example knowledge base at the repository root stays clean.
//! - `props`: the parsers and the per-document pipeline never panic.
//! - `rules`: one test per diagnostic code: where it points, and its fix.
//! - `serve`: the preview server over HTTP and in Chromium; incremental = full builds.
//! - `site`: `build` output: every page, no dead link (also under a sub-path), escaping, safe swaps.
//! - `browser`: the built example site in headless chromium: search, filters, console, screenshots.

mod authoring;
mod browser;
mod check;
mod cli;
mod example;
mod hostile;
mod props;
mod reports;
mod rules;
mod serve;
mod site;
mod support;
