//! Connect with the sync `postgres` client, run the query read from a file,
//! exit: `one-query <file> <host> <port> <user> <dbname>`. Times a query as
//! a whole process, the way a no-op start is timed.

use bench_common::{arguments, or_exit, postgres_client};

fn main() {
    let (leading, target) = arguments(1);
    let query = or_exit(std::fs::read_to_string(&leading[0]));
    let mut client = or_exit(postgres_client(&target));
    or_exit(client.simple_query(&query));
}
