//! What every measured program shares: where to connect, from its arguments.

/// The server and database to connect to: `<host> <port> <user> <dbname>`,
/// the last arguments on the command line. A host starting with `/` is the folder of a Unix
/// socket. The password, if the server wants one, comes from `PGPASSWORD`.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub dbname: String,
    pub password: Option<String>,
}

/// The target named by the program's arguments; exits with a usage message
/// if they are wrong.
pub fn target() -> Target {
    arguments(0).1
}

/// The program's first `leading` arguments, and the target named by the
/// four after them; exits with a usage message if they are wrong.
pub fn arguments(leading: usize) -> (Vec<String>, Target) {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let port = args.get(leading + 1).and_then(|p| p.parse().ok());
    match (args.len() == leading + 4, port) {
        (true, Some(port)) => {
            let rest = args.split_off(leading);
            let target = Target {
                host: rest[0].clone(),
                port,
                user: rest[2].clone(),
                dbname: rest[3].clone(),
                password: std::env::var("PGPASSWORD").ok(),
            };
            (args, target)
        }
        _ => {
            let program = std::env::args().next().unwrap_or_default();
            let leading = if leading > 0 { "<argument>... " } else { "" };
            eprintln!("usage: {program} {leading}<host> <port> <user> <dbname>");
            std::process::exit(2);
        }
    }
}

/// The value, or the end of the program with the error.
pub fn or_exit<T, E: std::fmt::Display>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| {
        eprintln!("error: {e}");
        std::process::exit(1)
    })
}

/// A sync `postgres::Client` connected to the target, without TLS.
#[cfg(feature = "postgres")]
pub fn postgres_client(target: &Target) -> Result<postgres::Client, postgres::Error> {
    let mut config = postgres::Config::new();
    config
        .host(&target.host)
        .port(target.port)
        .user(&target.user)
        .dbname(&target.dbname);
    if let Some(password) = &target.password {
        config.password(password);
    }
    config.connect(postgres::NoTls)
}

/// One sqlx connection (no pool) to the target.
#[cfg(feature = "sqlx")]
pub async fn sqlx_connection(target: &Target) -> Result<sqlx::PgConnection, sqlx::Error> {
    use sqlx::ConnectOptions;
    let mut options = sqlx::postgres::PgConnectOptions::new_without_pgpass()
        .port(target.port)
        .username(&target.user)
        .database(&target.dbname);
    options = if target.host.starts_with('/') {
        options.socket(&target.host)
    } else {
        options.host(&target.host)
    };
    if let Some(password) = &target.password {
        options = options.password(password);
    }
    options.connect().await
}

/// A `tokio_postgres::Client` connected to the target, without TLS, and its
/// connection, spawned on the current tokio runtime. Drop the client and
/// await the connection to close it as the sync client does when dropped
/// (with a `Terminate`).
#[cfg(feature = "tokio-postgres")]
pub async fn tokio_postgres_client(
    target: &Target,
) -> Result<
    (
        tokio_postgres::Client,
        tokio::task::JoinHandle<Result<(), tokio_postgres::Error>>,
    ),
    tokio_postgres::Error,
> {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&target.host)
        .port(target.port)
        .user(&target.user)
        .dbname(&target.dbname);
    if let Some(password) = &target.password {
        config.password(password);
    }
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    Ok((client, tokio::spawn(connection)))
}
