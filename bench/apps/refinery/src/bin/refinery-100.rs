//! Applies the 100 generated migrations with refinery (sync, `postgres` feature).

use bench_common::{or_exit, postgres_client, target};

mod embedded {
    refinery::embed_migrations!("../../generated/refinery/100");
}

fn main() {
    let mut client = or_exit(postgres_client(&target()));
    or_exit(embedded::migrations::runner().run(&mut client));
}
