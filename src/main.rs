//! The `porchlight` binary: parse the command line, dispatch, map the outcome to an exit code.

use std::process::ExitCode;

fn main() -> ExitCode {
    porchlight::cli::main()
}
