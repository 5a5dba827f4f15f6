#!/usr/bin/env bash
# What a large migrations folder costs the build: a real `cargo build
# --release` of a program that embeds it with `stowage::embed_migrations!`
# and prints how many migrations it holds. Two folders:
#
# - one no-transaction migration of 50 MB (520,001 statements, each on a
#   line of its own);
# - 10,000 small transactional migrations.
#
# The program's dependencies are built first, with a one-migration folder;
# each measured build then compiles the program alone (the macro reads,
# checks and expands the folder; rustc compiles what it expanded to), as
# cargo does after the folder changed. For each: the wall time and the peak
# memory of the largest process of the build (GNU time's maximum resident
# set size of cargo and its children), median of 3 runs.
#
#   ./bench/experiments/build-cost.sh [--runs N]
set -euo pipefail
repo=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)

runs=3
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        -h | --help) sed -n '2,/^set/{/^set/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done
[ -x /usr/bin/time ] || { echo "needs GNU time (Debian: apt-get install time)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/stowage-build-cost-XXXXXX")
trap 'rm -rf "$work"' EXIT
# The program's own target folder, wherever cargo's default is set.
unset CARGO_TARGET_DIR

mkdir -p "$work/app/src" "$work/app/migrations"
cat >"$work/app/Cargo.toml" <<EOF
[package]
name = "build-cost"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
stowage = { path = "$repo/runtime" }

[workspace]
EOF
cat >"$work/app/src/main.rs" <<'EOF'
static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("migrations");

fn main() {
    println!("{} migrations", MIGRATIONS.len());
}
EOF
cat >"$work/app/build.rs" <<'EOF'
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
EOF

folder() { # fill the folder with one of the sets
    rm -rf "$work/app/migrations"
    mkdir "$work/app/migrations"
    case $1 in
        one) echo "CREATE TABLE t (id integer);" >"$work/app/migrations/1_t.sql" ;;
        large-file)
            {
                echo "-- stowage:no-transaction"
                echo "CREATE TABLE big (id integer, note text);"
                seq 1 520000 | sed "s/.*/INSERT INTO big VALUES (&, 'row & of the large migration, lines of a common length');/"
            } >"$work/app/migrations/1_big.sql"
            ;;
        many-files)
            for i in $(seq 1 10000); do
                echo "CREATE TABLE t$i (id integer PRIMARY KEY, note text NOT NULL DEFAULT '');" \
                    >"$work/app/migrations/${i}_t$i.sql"
            done
            ;;
    esac
}

build() {
    (cd "$work/app" && cargo build --release --offline --quiet)
}

echo "==> the dependencies"
folder one
build

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

printf '\n| folder | text, MiB | wall, s (median of %d) | peak memory, MB |\n|---|---:|---:|---:|\n' "$runs"
for set in large-file many-files; do
    folder "$set"
    size=$(cat "$work/app/migrations"/* | wc -c | awk '{ printf "%.1f", $1 / 1048576 }')
    walls=()
    peaks=()
    for _ in $(seq 1 "$runs"); do
        touch "$work/app/src/main.rs" "$work/app/migrations"
        /usr/bin/time -f '%e %M' -o "$work/time" bash -c "cd '$work/app' && cargo build --release --offline --quiet"
        read -r wall peak <"$work/time"
        walls+=("$wall")
        peaks+=("$peak")
    done
    "$work/app/target/release/build-cost" >/dev/null
    wall=$(printf '%s\n' "${walls[@]}" | median)
    peak=$(printf '%s\n' "${peaks[@]}" | median)
    printf '| %s | %s | %s | %d |\n' "$set" "$size" "$wall" $((peak / 1024))
done
