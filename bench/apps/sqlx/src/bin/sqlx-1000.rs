//! Applies the 1000 generated migrations with sqlx (`migrate!`, one connection, tokio).

use bench_common::{or_exit, sqlx_connection, target};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../generated/sqlx/1000");

fn main() {
    let runtime = or_exit(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    );
    runtime.block_on(async {
        let mut connection = or_exit(sqlx_connection(&target()).await);
        or_exit(MIGRATOR.run(&mut connection).await);
    });
}
