//! Applies the 100 generated migrations with stowage's async driver
//! (`run_async` over tokio-postgres, on a current-thread runtime).

use bench_common::{or_exit, target, tokio_postgres_client};

static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("../../generated/stowage/100");

fn main() {
    let runtime = or_exit(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    );
    runtime.block_on(async {
        let (mut client, connection) = or_exit(tokio_postgres_client(&target()).await);
        or_exit(MIGRATIONS.run_async(&mut client).await);
        drop(client);
        let _ = connection.await;
    });
}
