//! Build measurements: the rebuild after editing one migration, and where a
//! build's time goes (rustc's `-Z time-passes`).
//!
//! Every build runs under `nice -n 19`, so that it yields to other work on
//! the machine. Wall time then depends on that other work; the CPU time of
//! the build (user + system, of cargo and every rustc and linker it runs) is
//! reported beside it and depends far less on it.

use crate::programs::{Library, Paths};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one build took.
#[derive(Debug, Clone, Copy)]
pub struct BuildTime {
    pub wall: Duration,
    pub cpu: Duration,
}

/// `cargo build --release -p <package> [--bin <bin>]`, at low priority.
pub fn build(paths: &Paths, package: &str, bin: Option<&str>) -> Result<BuildTime, String> {
    let mut args = vec!["build", "--release", "--quiet", "-p", package];
    if let Some(bin) = bin {
        args.extend(["--bin", bin]);
    }
    cargo(paths, &args, &[]).map(|(time, _)| time)
}

/// Builds `library`'s 1,000-migration program again with `-Z time-passes` and
/// returns the seconds of each pass rustc reports (`expand_crate`,
/// `type_check_crate`, `LLVM_passes`, `link`, `total`, ...).
/// `RUSTC_BOOTSTRAP=1` lets a stable rustc take the unstable flag; cargo
/// rebuilds every dependency when it changes, so these builds use a target
/// folder of their own (built once) and leave the measured programs alone.
pub fn time_passes(paths: &Paths, library: Library) -> Result<BTreeMap<String, f64>, String> {
    let bin = library.bin(1000);
    let package = library.package();
    // Make sure the program itself is compiled, even when nothing changed.
    let source = paths
        .bench
        .join("apps")
        .join(library.name())
        .join("src/bin")
        .join(format!("{bin}.rs"));
    std::fs::File::options()
        .append(true)
        .open(&source)
        .and_then(|f| f.set_modified(std::time::SystemTime::now()))
        .map_err(|e| format!("cannot touch {}: {e}", source.display()))?;
    let target_dir = paths
        .release
        .parent()
        .unwrap_or(&paths.bench)
        .join("time-passes");
    let target_dir = target_dir.display().to_string();
    let args = [
        "rustc",
        "--release",
        "-p",
        &package,
        "--bin",
        &bin,
        "--",
        "-Z",
        "time-passes",
    ];
    let (_, stderr) = cargo(
        paths,
        &args,
        &[("RUSTC_BOOTSTRAP", "1"), ("CARGO_TARGET_DIR", &target_dir)],
    )?;
    let mut passes = BTreeMap::new();
    // Lines look like `time:   0.123; rss:   40MB ->   52MB (  +12MB)	expand_crate`.
    for line in stderr.lines() {
        let Some(rest) = line.trim_start().strip_prefix("time:") else {
            continue;
        };
        let Some((secs, tail)) = rest.split_once(';') else {
            continue;
        };
        let (Ok(secs), Some(name)) = (secs.trim().parse::<f64>(), tail.split_whitespace().last())
        else {
            continue;
        };
        // A pass can appear more than once; keep the longest.
        let entry = passes.entry(name.to_owned()).or_insert(0.0);
        if secs > *entry {
            *entry = secs;
        }
    }
    if passes.is_empty() {
        return Err(format!(
            "rustc reported no pass times; its output was:\n{stderr}"
        ));
    }
    Ok(passes)
}

/// The rebuilds of `library`'s 1,000-migration program after editing one
/// migration: each round appends a comment line to one file in the middle
/// of the folder and rebuilds, then restores the file and rebuilds. Both
/// are edits of one migration; each round gives two samples. `before_each`
/// runs before each timed build.
pub fn rebuilds_after_edit(
    paths: &Paths,
    library: Library,
    file: &Path,
    rounds: usize,
    mut before_each: impl FnMut(),
) -> Result<Vec<BuildTime>, String> {
    let bin = library.bin(1000);
    let package = library.package();
    build(paths, &package, Some(&bin))?; // start from an up-to-date program
    let edit = Edit::new(file)?;
    let mut times = Vec::new();
    for _ in 0..rounds {
        edit.apply()?;
        before_each();
        times.push(build(paths, &package, Some(&bin))?);
        edit.restore()?;
        before_each();
        times.push(build(paths, &package, Some(&bin))?);
    }
    Ok(times)
}

/// One edited migration file, put back as it was when dropped.
struct Edit {
    path: PathBuf,
    original: String,
}

impl Edit {
    fn new(path: &Path) -> Result<Edit, String> {
        let original = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(Edit {
            path: path.to_owned(),
            original,
        })
    }

    fn apply(&self) -> Result<(), String> {
        self.write(&format!(
            "{}-- edited to measure the rebuild\n",
            self.original
        ))
    }

    fn restore(&self) -> Result<(), String> {
        self.write(&self.original)
    }

    fn write(&self, text: &str) -> Result<(), String> {
        std::fs::write(&self.path, text)
            .map_err(|e| format!("cannot write {}: {e}", self.path.display()))
    }
}

impl Drop for Edit {
    fn drop(&mut self) {
        let _ = self.restore();
    }
}

/// Runs `nice -n 19 cargo <args>` in the bench workspace; returns its time
/// and its error output.
fn cargo(
    paths: &Paths,
    args: &[&str],
    env: &[(&str, &str)],
) -> Result<(BuildTime, String), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new("nice");
    command
        .args(["-n", "19", &cargo])
        .args(args)
        .current_dir(&paths.bench)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let cpu_before = children_cpu();
    let started = Instant::now();
    let output = command
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let wall = started.elapsed();
    let cpu = children_cpu().saturating_sub(cpu_before);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        return Err(format!(
            "cargo {} failed ({}):\n{stderr}",
            args.join(" "),
            output.status
        ));
    }
    Ok((BuildTime { wall, cpu }, stderr))
}

/// User + system CPU time of every child process waited for so far,
/// including their own children (rustc, the linker).
fn children_cpu() -> Duration {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes into the struct we own and reads nothing else.
    if unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) } != 0 {
        return Duration::ZERO;
    }
    let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    time(usage.ru_utime) + time(usage.ru_stime)
}
