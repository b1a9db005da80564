//! hindsight: incidents, postmortems and runbooks as a validated, cross-linked
//! static knowledge base. The pipeline, one module per stage:
//! `load` -> `parse` -> `validate` -> `link` -> `policy` (together: `kb`).
//! See ARCHITECTURE.md for the map.

pub mod aggregate;
pub mod build;
pub mod changed;
pub mod charts;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod kb;
pub mod link;
pub mod load;
pub mod model;
pub mod parse;
pub mod policy;
pub mod render;
pub mod report;
pub mod rules;
pub mod scaffold;
pub mod search;
pub mod serve;
pub mod site;
pub mod site_metrics;
pub mod template;
pub mod theme;
pub mod validate;
pub mod write;
pub mod yaml;

/// The most documents one rayon task takes on in a stage's parallel loop.
/// rayon splits a loop into a few large pieces unless told otherwise, and a
/// thread that finishes early cannot take from a piece another thread is in:
/// at 10,000 documents the last piece kept one of two cores idle for 0.2 s.
pub const PAR_CHUNK: usize = 32;
