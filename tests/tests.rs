//! Porchlight's integration tests: one binary, a module per feature. Most tests call the app
//! in-process (`util::TestApp`); the `http_*`, `cli` and `connection` modules start the real
//! binary. The browser tests are a binary of their own (`tests/browser/`), so that they can be
//! reported as ignored on a machine without Chromium.

mod smtp;
mod util;

mod attachments;
mod auth;
mod cli;
mod connection;
mod email;
mod http_flow;
mod lists;
mod matrix;
mod operations;
mod permissions;
mod portals;
mod share;
mod workspace;
