#!/usr/bin/env bash
# The clean release build of a hello-world program that depends on stowage
# with its default features, embeds the repository's migrations/ folder and
# calls MIGRATIONS.run over a postgres::Client: `cargo build --release` from
# an empty target folder, the registry already downloaded (--offline). For
# each revision named (by default 86b9e35, the stowage before its runtime was
# rebuilt around one engine with two drivers, and HEAD): the crates the build
# compiles, its wall time and its CPU time (user + system of cargo and of
# every rustc, build script and linker it runs), median of 3 runs.
#
#   ./bench/experiments/clean-build.sh [--runs N] [REVISION...]
#
# Each revision is checked out in a temporary git worktree outside the
# repository, removed at the end; the programs live beside it. Their lock
# files are resolved one after the other, so that the builds compile the same
# versions of the crates they share (checked below). The builds of the
# revisions take turns, run by run. As the driver's, they run under
# nice -n 19, each started when programs that are not niced use less than 15%
# of the CPUs (waiting up to a minute); the share the others used during each
# build is printed beside it.
set -euo pipefail
repo=$(git -C "$(dirname "${BASH_SOURCE[0]}")" rev-parse --show-toplevel)

runs=3
revisions=()
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        -h | --help) sed -n '2,/^set/{/^set/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
        *) revisions+=("$1"); shift ;;
    esac
done
[ ${#revisions[@]} -gt 0 ] || revisions=(86b9e35 HEAD)

work=$(mktemp -d "${TMPDIR:-/tmp}/stowage-clean-build-XXXXXX")
worktrees=()
cleanup() {
    for wt in "${worktrees[@]}"; do
        git -C "$repo" worktree remove --force "$wt" || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# CPU counters of /proc/stat: the busy time of programs that are not niced
# (user, system, irq, softirq, steal), and the total.
cpu_counters() {
    local _ user nice system idle iowait irq softirq steal
    read -r _ user nice system idle iowait irq softirq steal _ </proc/stat
    echo "$((user + system + irq + softirq + steal)) $((user + nice + system + idle + iowait + irq + softirq + steal))"
}
# The share, in percent, of the CPUs those programs used between two readings.
busy_between() { # busy0 total0 busy1 total1
    echo $((($3 - $1) * 100 / ($4 - $2 > 0 ? $4 - $2 : 1)))
}
quiet_starts=0
noisy_starts=0
wait_for_quiet() {
    local deadline=$((SECONDS + 60)) before after busy
    while :; do
        before=$(cpu_counters)
        sleep 0.5
        after=$(cpu_counters)
        # shellcheck disable=SC2086
        busy=$(busy_between $before $after)
        if [ "$busy" -lt 15 ]; then
            quiet_starts=$((quiet_starts + 1))
            return
        fi
        if [ $SECONDS -ge $deadline ]; then
            echo "  (going on although other programs use $busy% of the CPUs)" >&2
            noisy_starts=$((noisy_starts + 1))
            return
        fi
    done
}

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

commits=()
for i in "${!revisions[@]}"; do
    commit=$(git -C "$repo" rev-parse --short "${revisions[$i]}^{commit}")
    commits+=("$commit")
    wt=$work/stowage-$commit
    git -C "$repo" worktree add --quiet --detach "$wt" "$commit"
    worktrees+=("$wt")
    hello=$work/hello-$commit
    mkdir -p "$hello/src"
    cp -r "$wt/migrations" "$hello/migrations"
    cat >"$hello/Cargo.toml" <<EOF
[package]
name = "hello"
version = "0.1.0"
edition = "2021"
publish = false

[dependencies]
postgres = "0.19"
stowage = { path = "$wt/runtime" }

[workspace]
EOF
    cat >"$hello/src/main.rs" <<'EOF'
static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("migrations");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::var("DATABASE_URL").unwrap_or_else(|_| "host=localhost user=postgres".into());
    let mut client = postgres::Client::connect(&url, postgres::NoTls)?;
    println!("{}", MIGRATIONS.run(&mut client)?);
    Ok(())
}
EOF
    cargo fetch --quiet --manifest-path "$hello/Cargo.toml"
done

# Each registry crate of a program's lock file, with its versions.
registry_crates() {
    awk '/^name = /{n = $3} /^version = /{v = $3} /^source = "registry/{print n, v}' "$1" | tr -d '"' |
        sort | awk '$1 == n {vs = vs "," $2; next} n != "" {print n, vs} {n = $1; vs = $2} END {print n, vs}'
}
for commit in "${commits[@]:1}"; do
    differ=$(join <(registry_crates "$work/hello-${commits[0]}/Cargo.lock") \
        <(registry_crates "$work/hello-$commit/Cargo.lock") | awk '$2 != $3')
    if [ -n "$differ" ]; then
        echo "note: crates both builds compile in other versions (name, ${commits[0]}, $commit):" >&2
        echo "$differ" >&2
    fi
done

TIMEFORMAT='%R %U %S'
declare -A walls cpus crates
for run in $(seq "$runs"); do
    for commit in "${commits[@]}"; do
        hello=$work/hello-$commit
        rm -rf "$hello/target"
        wait_for_quiet
        before=$(cpu_counters)
        { time nice -n 19 cargo build --release --offline --manifest-path "$hello/Cargo.toml" \
            2>"$work/build.log"; } 2>"$work/time" || {
            cat "$work/build.log" >&2
            exit 1
        }
        after=$(cpu_counters)
        read -r wall user system <"$work/time"
        cpu=$(echo "$user $system" | awk '{printf "%.2f", $1 + $2}')
        count=$(grep -c '^ *Compiling ' "$work/build.log")
        awk '$1 == "Compiling" {print $2}' "$work/build.log" | sort >"$work/crates-$commit"
        # shellcheck disable=SC2086
        printf '  run %d: %-8s %3d crates, %7.2f s wall, %7.2f s CPU (others used %d%% of the CPUs meanwhile)\n' \
            "$run" "$commit" "$count" "$wall" "$cpu" "$(busy_between $before $after)"
        walls[$commit]+="$wall "
        cpus[$commit]+="$cpu "
        crates[$commit]=$count
    done
done

echo
echo "Clean release build of the hello-world program, median of $runs; builds started on a quiet machine: $quiet_starts of $((quiet_starts + noisy_starts))"
echo
echo "| stowage | crates compiled | wall, s | CPU, s |"
echo "|---|---:|---:|---:|"
declare -A wall_median cpu_median
for commit in "${commits[@]}"; do
    wall_median[$commit]=$(tr ' ' '\n' <<<"${walls[$commit]}" | grep . | median)
    cpu_median[$commit]=$(tr ' ' '\n' <<<"${cpus[$commit]}" | grep . | median)
    printf '| %s | %d | %.2f | %.2f |\n' "$commit" "${crates[$commit]}" "${wall_median[$commit]}" "${cpu_median[$commit]}"
done
first=${commits[0]}
for commit in "${commits[@]:1}"; do
    awk -v name="$commit against $first" -v w0="${wall_median[$first]}" -v c0="${cpu_median[$first]}" \
        -v w1="${wall_median[$commit]}" -v c1="${cpu_median[$commit]}" \
        'BEGIN {printf "\n%s: wall %+.1f%%, CPU %+.1f%%\n", name, (w1 / w0 - 1) * 100, (c1 / c0 - 1) * 100}'
    echo "compiled for $first only: $(comm -23 "$work/crates-$first" "$work/crates-$commit" | xargs)"
    echo "compiled for $commit only: $(comm -13 "$work/crates-$first" "$work/crates-$commit" | xargs)"
done
