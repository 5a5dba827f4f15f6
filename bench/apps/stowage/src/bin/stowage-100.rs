//! Applies the 100 generated migrations with stowage.

use bench_common::{or_exit, postgres_client, target};

static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../../generated/stowage/100");

fn main() {
    let mut client = or_exit(postgres_client(&target()));
    or_exit(MIGRATIONS.run(&mut client));
}
