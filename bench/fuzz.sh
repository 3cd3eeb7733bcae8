#!/usr/bin/env bash
# Bounded fuzzing of what reads untrusted bytes: the multipart path every upload takes, the
# url-encoded form decoder and the image metadata stripper (fuzz/fuzz_targets). Not part of CI (it needs nightly and minutes);
# run it after touching src/body.rs or src/web/forms.rs:
#
#   bash bench/fuzz.sh            # 60 s a target
#   SECS=600 bash bench/fuzz.sh   # longer
#
# New inputs that reach new code are added to fuzz/corpus/<target>/ — commit the small ones. A
# crash leaves its input in fuzz/artifacts/<target>/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${SECS:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz
for target in multipart form image; do
  echo "== $target, $SECS s" >&2
  cargo +nightly fuzz run "$target" "fuzz/corpus/$target" -- \
    -max_total_time="$SECS" -max_len=65536 -timeout=10 -print_final_stats=1
done
