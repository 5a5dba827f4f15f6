//! Applies the 1000 generated migrations with diesel (`embed_migrations!`,
//! over libpq). Measured for its build only: see BENCHMARKS.md.

use bench_common::{or_exit, target};
use diesel::{Connection, PgConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../generated/diesel/1000");

fn main() {
    let t = target();
    let url = format!(
        "host={} port={} user={} dbname={}",
        t.host, t.port, t.user, t.dbname
    );
    let mut connection = or_exit(PgConnection::establish(&url));
    or_exit(connection.run_pending_migrations(MIGRATIONS));
}
