//! A throwaway server, started with `initdb` and `pg_ctl` in a temporary
//! folder, listening only on a Unix socket there. Unix-only: elsewhere,
//! tests use the server of `DATABASE_URL`.

use super::{BINDIR_VAR, TestError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};

/// A server this process started with `initdb` and `pg_ctl`.
pub(super) struct LocalServer {
    pub(super) root: PathBuf,
    pub(super) bindir: PathBuf,
    as_root: bool,
    watchdog: Option<(Child, ChildStdin)>,
}

impl LocalServer {
    pub(super) fn start() -> Result<LocalServer, TestError> {
        let bindir = find_bindir()?;
        let as_root = is_root();
        // Kept when this value is gone: the watchdog removes it once the
        // server has stopped, whenever this process ends.
        let root = tempfile::Builder::new()
            .prefix("stowage-pg-")
            .tempdir()
            .map_err(|e| TestError::with("cannot create a temporary folder for the server", e))?
            .keep();
        if as_root {
            let (uid, gid) = postgres_user()?;
            std::os::unix::fs::chown(&root, Some(uid), Some(gid)).map_err(|e| {
                TestError::with(
                    format!("cannot give {} to the postgres user", root.display()),
                    e,
                )
            })?;
        }
        let data = root.join("data");
        let mut server = LocalServer {
            root: root.clone(),
            bindir: bindir.clone(),
            as_root,
            watchdog: None,
        };
        run(
            as_root,
            &bindir.join("initdb"),
            &[
                "-D".as_ref(),
                data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
                "--locale=C".as_ref(),
                "--no-sync".as_ref(),
            ],
        )?;
        // From here on the watchdog stops the server when this process ends.
        server.watchdog = Some(watchdog(as_root, &bindir, &data, &root)?);
        server.pg_ctl_start()?;
        Ok(server)
    }

    /// The connection settings of its `postgres` database, over its socket.
    pub(super) fn config(&self) -> tokio_postgres::Config {
        let mut config = tokio_postgres::Config::new();
        config
            .host_path(&self.root)
            .user("postgres")
            .dbname("postgres");
        config
    }

    fn data(&self) -> PathBuf {
        self.root.join("data")
    }

    /// `pg_ctl start`, waiting until the server accepts connections.
    pub(super) fn pg_ctl_start(&self) -> Result<(), TestError> {
        let options = format!(
            "-c listen_addresses='' -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
             -c max_connections=200",
            self.root.display()
        );
        run(
            self.as_root,
            &self.bindir.join("pg_ctl"),
            &[
                "-D".as_ref(),
                self.data().as_os_str(),
                "-l".as_ref(),
                self.root.join("server.log").as_os_str(),
                "-o".as_ref(),
                options.as_ref(),
                "-w".as_ref(),
                "start".as_ref(),
            ],
        )
        .map_err(|e| {
            let log = std::fs::read_to_string(self.root.join("server.log")).unwrap_or_default();
            TestError::new(format!("{e}\nserver log:\n{log}"))
        })
    }

    /// `pg_ctl stop -m immediate`, waiting until the server has exited.
    pub(super) fn pg_ctl_stop_immediately(&self) -> Result<(), TestError> {
        run(
            self.as_root,
            &self.bindir.join("pg_ctl"),
            &[
                "-D".as_ref(),
                self.data().as_os_str(),
                "-m".as_ref(),
                "immediate".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        )
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        if let Some((mut child, stdin)) = self.watchdog.take() {
            drop(stdin); // the watchdog sees the end of its input and stops the server
            let _ = child.wait();
        }
    }
}

/// A process that waits until this one closes its input (by exiting, or by
/// dropping the server), then stops the server and removes its folder.
fn watchdog(
    as_root: bool,
    bindir: &Path,
    data: &Path,
    root: &Path,
) -> Result<(Child, ChildStdin), TestError> {
    let script =
        r#"cat >/dev/null; "$0" -D "$1" -m immediate -w stop >/dev/null 2>&1; rm -rf "$2""#;
    let mut command = as_postgres(as_root, Path::new("sh"));
    command
        .arg("-c")
        .arg(script)
        .arg(bindir.join("pg_ctl"))
        .arg(data)
        .arg(root)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = command
        .spawn()
        .map_err(|e| TestError::with("cannot start the server's watchdog", e))?;
    let mut stdin = child
        .stdin
        .take()
        .ok_or_else(|| TestError::new("the watchdog has no input pipe"))?;
    let _ = stdin.flush();
    Ok((child, stdin))
}

fn as_postgres(as_root: bool, program: &Path) -> Command {
    if as_root {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn run(as_root: bool, program: &Path, args: &[&std::ffi::OsStr]) -> Result<(), TestError> {
    let output = as_postgres(as_root, program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| TestError::with(format!("cannot run {}", program.display()), e))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(TestError::new(format!(
            "{} failed ({}): {}{}",
            program.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )))
    }
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

fn postgres_user() -> Result<(u32, u32), TestError> {
    let id = |flag: &str| -> Result<u32, TestError> {
        let out = Command::new("id")
            .args([flag, "postgres"])
            .output()
            .map_err(|e| TestError::with("cannot run `id`", e))?;
        String::from_utf8_lossy(&out.stdout).trim().parse().map_err(|_| {
            TestError::new(
                "running as root, but there is no `postgres` user to run the server as \
                 (PostgreSQL refuses to run as root); install PostgreSQL's server package or set DATABASE_URL",
            )
        })
    };
    Ok((id("-u")?, id("-g")?))
}

/// The folder holding `initdb` and `pg_ctl`.
fn find_bindir() -> Result<PathBuf, TestError> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Some(dir) = std::env::var_os(BINDIR_VAR) {
        let dir = PathBuf::from(dir);
        return if has_tools(&dir) {
            Ok(dir)
        } else {
            Err(TestError::new(format!(
                "{BINDIR_VAR}={} holds no initdb and pg_ctl",
                dir.display()
            )))
        };
    }
    let on_path = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .filter_map(|dir| {
            // Follow a symlinked initdb (as Debian's /usr/bin wrappers are not)
            // to the folder that also has pg_ctl.
            let initdb = dir.join("initdb");
            let real = std::fs::canonicalize(&initdb).ok()?;
            [dir, real.parent()?.to_path_buf()]
                .into_iter()
                .find(|d| has_tools(d))
        });
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse().ok()?;
            Some((version, e.path().join("bin")))
        })
        .filter(|(_, dir)| has_tools(dir))
        .collect();
    versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    on_path
        .chain(versioned.into_iter().map(|(_, dir)| dir))
        .next()
        .ok_or_else(|| {
            TestError::new(
                "no PostgreSQL server binaries found (initdb and pg_ctl: looked in STOWAGE_PG_BINDIR, PATH \
                 and /usr/lib/postgresql/*/bin); install them (Debian: apt-get install postgresql) \
                 or set DATABASE_URL",
            )
        })
}
