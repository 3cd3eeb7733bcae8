//! The `porchlight` binary: parse the command line, dispatch, map the outcome to an exit code.

use std::process::ExitCode;

// Why: measured on the inbox page, glibc malloc/free took ~12% of the CPU (many small strings
// per rendered row); mimalloc is a drop-in, builds from source with the crate, no system library.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    porchlight::cli::main()
}
