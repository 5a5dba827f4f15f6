#!/usr/bin/env bash
# Times queries as the first one on a new connection, as an application's
# start sends them, on a throwaway server holding stowage's 1,000 migrations:
# psql's \timing, the median over 41 new connections each. Run ./run.sh first
# (it builds the programs and writes the check queries: the one stowage sent,
# and the one that computes the digest over the tracking table).
#
# The parts of the checks (the digest row and the trigger's state; the
# computed digest and the schema check) are copied from the queries of the
# stowage they were written for; see BENCHMARKS.md.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
release=$PWD/target/release

bindir=$(dirname "$(readlink -f "$(command -v initdb || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")")
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
dir=$(mktemp -d /dev/shm/stowage-cold-XXXXXX 2>/dev/null || mktemp -d)
[ "$(id -u)" = 0 ] && chown postgres "$dir"
trap 'as_postgres "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
as_postgres "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >/dev/null
as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start \
    -o "-c listen_addresses='' -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null

psql() { "$bindir/psql" -X -q -h "$dir" -U postgres "$@"; }
psql -d postgres -c "CREATE DATABASE cold"
"$release/stowage-1000" "$dir" 5432 postgres cold

# The median time of the n-th query of a script run on 41 new connections.
median() { # n, script
    for _ in $(seq 41); do
        printf '\\timing on\n%s' "$2" | psql -d cold | grep '^Time' | sed -n "$1p" | awk '{print $2}'
    done | sort -n | awk '{t[NR] = $1} END {print t[int((NR + 1) / 2)]}'
}

check=$(cat "$release/check-current.sql")
computed=$(cat "$release/check-computed.sql")
aggregate="SELECT encode(sha256(convert_to(coalesce(string_agg(version::text || ' ' || checksum, E'\\n' ORDER BY version) FILTER (WHERE success), ''), 'UTF8')), 'hex'), coalesce(bool_and(success), true) FROM stowage_migrations"
schema="SELECT c.relnamespace = (SELECT oid FROM pg_catalog.pg_namespace WHERE nspname = current_schema()) FROM pg_catalog.pg_class c WHERE c.oid = '\"stowage_migrations\"'::regclass"

row="SELECT tracking, schema, digest, current_schema(), to_regclass('\"stowage_migrations\"')::oid FROM stowage_digest"
trigger="SELECT (SELECT tgenabled FROM pg_catalog.pg_trigger WHERE tgrelid = to_regclass('\"stowage_migrations\"') AND tgname = 'stowage_digest_clear')"

printf '%-58s %s ms\n' "SELECT 1" "$(median 1 "SELECT 1;")"
printf '%-58s %s ms\n' "stowage's check: the digest row and the trigger's state" "$(median 1 "$check;")"
printf '%-58s %s ms\n' "the same, the second time on the connection" "$(median 2 "$check;
$check;")"
printf '%-58s %s ms\n' "its digest row alone (the check before the trigger's)" "$(median 1 "$row;")"
printf '%-58s %s ms\n' "its trigger's state alone" "$(median 1 "$trigger;")"
printf '%-58s %s ms\n' "the trigger's state after the digest row" "$(median 2 "$row;
$trigger;")"
printf '%-58s %s ms\n' "the computed check (no digest row)" "$(median 1 "$computed;")"
printf '%-58s %s ms\n' "the computed check, the second time on the connection" "$(median 2 "$computed;
$computed;")"
printf '%-58s %s ms\n' "its digest of the table alone" "$(median 1 "$aggregate;")"
printf '%-58s %s ms\n' "its schema check alone" "$(median 1 "$schema;")"
