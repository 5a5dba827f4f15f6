//! The floor of a start: connect with the sync `postgres` client (as stowage
//! and refinery do), run `SELECT 1`, exit.

use bench_common::{or_exit, postgres_client, target};

fn main() {
    let mut client = or_exit(postgres_client(&target()));
    or_exit(client.simple_query("SELECT 1"));
}
