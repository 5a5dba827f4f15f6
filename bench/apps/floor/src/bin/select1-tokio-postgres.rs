//! The floor of a start with tokio-postgres, as stowage's async driver
//! connects: a current-thread tokio runtime, one connection, `SELECT 1`.

use bench_common::{or_exit, target, tokio_postgres_client};

fn main() {
    let runtime = or_exit(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    );
    runtime.block_on(async {
        let (client, connection) = or_exit(tokio_postgres_client(&target()).await);
        or_exit(client.simple_query("SELECT 1").await);
        drop(client);
        let _ = connection.await;
    });
}
