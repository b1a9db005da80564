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
