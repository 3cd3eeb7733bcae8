#!/usr/bin/env bash
# Power cuts during writes, simulated: `porchlight serve` runs under an LD_PRELOAD shim that logs
# every write and fsync to its data files while 16 clients create tickets and send visitor
# submissions; it is killed at a random moment, and the data folder is rebuilt as a power cut
# would leave it (only what an fsync that finished covered; also torn random subsets). Each
# rebuild must pass `integrity_check`, hold every write a client was told succeeded, keep the
# search index whole, and reopen with /healthz answering. Three more cycles run with
# synchronous=normal, where acknowledged writes must be seen lost (or the simulator is not
# strict enough). Needs gcc and python3; about two minutes and a few GB in a temporary folder.
#
#   bash bench/powercut/run.sh        # 10 cycles + 3 sanity cycles
#   bash bench/powercut/run.sh 3      # 3 cycles + 3 sanity cycles
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet --bin porchlight
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
PCUT_SHIM="$WORK/shim.so" PCUT_BIN="$PWD/target/release/porchlight" \
  python3 bench/powercut/pcut.py all --cycles "${1:-10}" --workdir "$WORK/runs"
