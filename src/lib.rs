//! Porchlight: a self-hosted customer portal for small agencies — one binary, one SQLite file.
//!
//! Layers, one direction: `web` (routes, forms, rendering) → `policy` (who may do what) →
//! `store` (all SQL) → SQLite. `server` is the connection layer under `web`; `cli` is the
//! operator's entry point. See DESIGN.md for the product and README.md for running it.

pub mod accounts;
pub mod app;
pub mod auth;
pub mod background;
pub mod body;
pub mod cli;
pub mod clock;
pub mod config;
pub mod datadir;
pub mod demo;
pub mod domain;
pub mod error;
pub mod files;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod net;
pub mod notify;
pub mod policy;
pub mod render;
pub mod restore;
pub mod server;
pub mod store;
pub mod validation;
pub mod web;
