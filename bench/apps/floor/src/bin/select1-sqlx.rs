//! The floor of a start with sqlx: a tokio runtime, one connection, `SELECT 1`.

use bench_common::{or_exit, sqlx_connection, target};
use sqlx::Executor;

fn main() {
    let runtime = or_exit(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    );
    runtime.block_on(async {
        let mut connection = or_exit(sqlx_connection(&target()).await);
        or_exit(connection.execute("SELECT 1").await);
    });
}
