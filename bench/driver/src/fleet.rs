//! The fleet phase: tenant schemas of one database, 20 migrations each,
//! migrated from empty by single runs one after another over one
//! connection, and by one fleet with 1, 2, 4 and 8 connections; then the
//! start of a fleet whose tenants are all up to date, timed, and counted
//! through the proxy.

use crate::programs::{Paths, Target};
use crate::proxy::{Counts, Proxy};
use crate::report::thousands;
use std::fmt::Write;
use std::process::{Command, Stdio};

/// The migrations of each tenant: the first of the generated set.
pub const MIGRATIONS: usize = 20;

/// The connections the fleet is timed with.
pub const JOBS: [usize; 4] = [1, 2, 4, 8];

/// How a run of the fleet program went.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    /// The time it reports: the fleet's run, or the single runs alone.
    pub ms: f64,
    pub applied: usize,
    /// How much its resident memory grew during the run.
    pub rss_growth_kb: u64,
}

/// How the program is run: a fleet with this many connections, or single
/// runs one after another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    Single,
    Fleet(usize),
}

impl Mode {
    pub fn label(self) -> String {
        match self {
            Mode::Single => "single runs, one connection".to_owned(),
            Mode::Fleet(1) => "fleet, 1 connection".to_owned(),
            Mode::Fleet(jobs) => format!("fleet, {jobs} connections"),
        }
    }
}

/// The fleet phase's results.
#[derive(Debug, Default)]
pub struct FleetResults {
    pub tenants: usize,
    pub runs: Vec<(Mode, Measured)>,
    /// The up-to-date starts.
    pub checks: Vec<Measured>,
    /// What an up-to-date start sent, through the proxy.
    pub check_counts: Option<Counts>,
}

/// Runs the fleet program in `mode` over `tenants` schemas of `target`.
pub fn run(paths: &Paths, mode: Mode, tenants: usize, target: &Target) -> Result<Measured, String> {
    let exe = paths.release.join("stowage-fleet");
    let (name, jobs) = match mode {
        Mode::Single => ("single", 1),
        Mode::Fleet(jobs) => ("fleet", jobs),
    };
    let output = Command::new(&exe)
        .args([name, &tenants.to_string(), &jobs.to_string()])
        .args([
            &target.host,
            &target.port.to_string(),
            &target.user,
            &target.dbname,
        ])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "stowage-fleet {name} failed ({}): {stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("fleet-result "))
        .ok_or_else(|| format!("stowage-fleet printed no result: {stdout}"))?;
    let value = |key: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .ok_or_else(|| format!("no {key} in {line}"))
    };
    let number = |key: &str| -> Result<f64, String> {
        value(key)?
            .parse()
            .map_err(|e| format!("{key} in {line}: {e}"))
    };
    Ok(Measured {
        ms: number("ms")?,
        applied: number("applied")? as usize,
        rss_growth_kb: number("rss_growth_kb")? as u64,
    })
}

/// Runs the up-to-date start once through `proxy`, and returns what it sent.
pub fn count(
    paths: &Paths,
    proxy: &Proxy,
    tenants: usize,
    target: &Target,
) -> Result<Counts, String> {
    let mut through = target.clone();
    through.host = proxy.dir().display().to_string();
    proxy.take();
    let measured = run(paths, Mode::Fleet(1), tenants, &through)?;
    if measured.applied != 0 {
        return Err(format!("the up-to-date start applied {}", measured.applied));
    }
    Ok(proxy.take())
}

fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    }
}

impl FleetResults {
    fn median(&self, mode: Mode) -> Option<f64> {
        median(
            self.runs
                .iter()
                .filter(|(m, _)| *m == mode)
                .map(|(_, r)| r.ms)
                .collect(),
        )
    }

    /// The section of the results table.
    pub fn markdown(&self, cpus: usize) -> String {
        let mut out = String::new();
        let runs = self.runs.iter().filter(|(m, _)| *m == Mode::Single).count();
        let _ = writeln!(
            out,
            "\n## Fleets\n\n{} tenant schemas of one database, {MIGRATIONS} migrations each, from empty \
             (median of {runs} runs, each on a new database; {cpus} CPUs, shared by the server and \
             the program):\n",
            thousands(self.tenants)
        );
        out.push_str(
            "| | ms | × single runs | speed-up over 1 connection |\n|---|---:|---:|---:|\n",
        );
        let single = self.median(Mode::Single);
        let one = self.median(Mode::Fleet(1));
        let modes = std::iter::once(Mode::Single).chain(JOBS.iter().map(|j| Mode::Fleet(*j)));
        for mode in modes {
            let Some(ms) = self.median(mode) else {
                continue;
            };
            let ratio = single.map_or("–".to_owned(), |s| format!("{:.2}", ms / s));
            let speed_up = match (mode, one) {
                (Mode::Fleet(_), Some(one)) => format!("{:.2}", one / ms),
                _ => "–".to_owned(),
            };
            let _ = writeln!(out, "| {} | {ms:.0} | {ratio} | {speed_up} |", mode.label());
        }
        let growth: Vec<f64> = self
            .runs
            .iter()
            .filter(|(m, _)| *m == Mode::Fleet(1))
            .map(|(_, r)| r.rss_growth_kb as f64)
            .collect();
        if let Some(kb) = median(growth) {
            let _ = writeln!(
                out,
                "\nResident memory of the program grew by {kb:.0} KiB during the fleet's run with 1 connection \
                 ({:.0} bytes per target).",
                kb * 1024.0 / self.tenants.max(1) as f64
            );
        }
        if let Some(check) = median(self.checks.iter().map(|c| c.ms).collect()) {
            let _ = writeln!(
                out,
                "\nUp-to-date start of the {} tenants (the fleet's run, connecting included; median of {}): \
                 {check:.1} ms.",
                thousands(self.tenants),
                self.checks.len()
            );
        }
        if let Some(counts) = &self.check_counts {
            let _ = writeln!(
                out,
                "It sent {} queries in {} round trips over {} connection(s) (connecting is one), {} bytes, \
                 and received {} bytes.",
                counts.queries.len(),
                counts.round_trips,
                counts.connections,
                counts.bytes_to_server,
                counts.bytes_to_client
            );
        }
        out
    }
}
