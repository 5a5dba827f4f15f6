#!/usr/bin/env bash
# Takes stowage's rebuild apart: compiles the code that embed_migrations!
# expands to for the 1,000 set, as plain source (no macro to run), and times
# that build against the real one, and against the real one with the macro
# and its build-time crate compiled optimized. Run ./run.sh first (it
# generates the migrations and builds the time-passes target folder this
# reuses).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bench=$PWD
work=$bench/target/experiments/rebuild-parts
mkdir -p "$work/src/bin"

touch apps/stowage/src/bin/stowage-1000.rs
RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/time-passes nice -n 19 \
    cargo rustc --release --quiet -p bench-stowage --bin stowage-1000 -- -Zunpretty=expanded \
    >"$work/expanded.rs"

# The expansion as a crate of its own: the same dependencies, no macro.
cat >"$work/Cargo.toml" <<TOML
[package]
name = "rebuild-parts"
version = "0.0.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
stowage = { path = "$bench/../runtime" }
bench-common = { path = "$bench/apps/common", features = ["postgres"] }
TOML
perl -0pe 's/#!\[feature\(prelude_import\)\]\n//; s/extern crate std;\n//; s/#\[prelude_import\]\nuse std::prelude::rust_2021::\*;\n//' \
    "$work/expanded.rs" >"$work/src/bin/expanded.rs"

(cd "$work" && nice -n 19 cargo build --release --quiet)
CARGO_PROFILE_RELEASE_BUILD_OVERRIDE_OPT_LEVEL=3 CARGO_TARGET_DIR=$work/target-optimized-macro \
    nice -n 19 cargo build --release --quiet -p bench-stowage --bin stowage-1000

time_build() { # label, folder, cargo arguments...
    local label=$1 dir=$2
    shift 2
    local start end
    start=$(date +%s%N)
    (cd "$dir" && nice -n 19 cargo build --release --quiet "$@")
    end=$(date +%s%N)
    printf '%-40s %6d ms\n' "$label" $(((end - start) / 1000000))
}

for round in 1 2 3; do
    echo "round $round"
    touch "$bench/apps/stowage/src/bin/stowage-1000.rs"
    time_build "with the macro (as users build it)" "$bench" -p bench-stowage --bin stowage-1000
    touch "$work/src/bin/expanded.rs"
    time_build "its expansion, no macro to run" "$work" --bin expanded
    touch "$bench/apps/stowage/src/bin/stowage-1000.rs"
    CARGO_PROFILE_RELEASE_BUILD_OVERRIDE_OPT_LEVEL=3 CARGO_TARGET_DIR=$work/target-optimized-macro \
        time_build "with the macro built optimized" "$bench" -p bench-stowage --bin stowage-1000
done
