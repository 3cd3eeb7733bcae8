//! Porchlight's integration tests: one binary, a module per feature. Most tests call the app
//! in-process (`util::TestApp`); the `http_*`, `cli` and `browser` modules start the real binary.

mod util;

mod auth;
mod browser;
mod cli;
mod connection;
mod http_flow;
mod share;
mod workspace;
