//! The results, and the table they are printed as.

use crate::builds::BuildTime;
use crate::programs::{Check, Library, Program};
use crate::proxy::Counts;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::Duration;

/// Summary of a set of timings.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub median: Duration,
    pub min: Duration,
    pub mean: Duration,
}

impl Stats {
    pub fn of(times: &[Duration]) -> Stats {
        let mut sorted = times.to_vec();
        sorted.sort();
        let n = sorted.len().max(1);
        let median = match sorted.len() {
            0 => Duration::ZERO,
            len if len % 2 == 1 => sorted[len / 2],
            len => (sorted[len / 2 - 1] + sorted[len / 2]) / 2,
        };
        Stats {
            median,
            min: sorted.first().copied().unwrap_or_default(),
            mean: sorted.iter().sum::<Duration>() / n as u32,
        }
    }
}

/// What one counted run sent: the proxy's counts, and the statements the
/// server logged (when its log is readable).
#[derive(Debug, Clone)]
pub struct Counted {
    pub counts: Counts,
    pub logged: Option<u64>,
}

impl Counted {
    /// Statements as the server logged them, else as the proxy saw them.
    pub fn statements(&self) -> u64 {
        self.logged.unwrap_or_else(|| self.counts.statements())
    }
}

#[derive(Debug, Default)]
pub struct Results {
    pub machine: String,
    pub stowage_version: String,
    pub load_at_start: String,
    pub load_at_end: String,
    /// Timings started with other programs quiet, and without waiting longer.
    pub quiet_starts: usize,
    pub noisy_starts: usize,
    pub server_version: String,
    pub apply_runs: usize,
    pub noop_runs: usize,
    pub noop_timer: String,
    pub apply: BTreeMap<Program, Vec<Duration>>,
    pub noop: BTreeMap<Program, Stats>,
    pub apply_counts: BTreeMap<Program, Counted>,
    pub noop_counts: BTreeMap<Program, Counted>,
    pub rebuilds: BTreeMap<Library, Vec<BuildTime>>,
    pub passes: BTreeMap<Library, BTreeMap<String, f64>>,
    pub sizes: BTreeMap<Program, u64>,
    /// Runs of each program at each latency of the slow link.
    pub slow_link_runs: usize,
    /// Wall times over the slow link, by its round trip and the program.
    pub slow_link: BTreeMap<(Duration, Program), Vec<Duration>>,
    /// What each of those runs sent, as the proxy counted it.
    pub slow_link_counts: BTreeMap<(Duration, Program), Vec<Counts>>,
    pub schema: Option<crate::schema::SchemaTimes>,
}

/// The columns of the table: the libraries (stowage with each of its
/// drivers), then the floors.
#[derive(Clone, Copy)]
enum Column {
    Library(Library),
    Psql,
    Select1,
    Select1Sqlx,
    Select1TokioPostgres,
}

const COLUMNS: [Column; 9] = [
    Column::Library(Library::Stowage),
    Column::Library(Library::StowageAsync),
    Column::Library(Library::Refinery),
    Column::Library(Library::Sqlx),
    Column::Library(Library::Diesel),
    Column::Psql,
    Column::Select1,
    Column::Select1Sqlx,
    Column::Select1TokioPostgres,
];

const DASH: &str = "–";

impl Results {
    pub fn new(apply_runs: usize, noop_runs: usize) -> Results {
        Results {
            apply_runs,
            noop_runs,
            ..Results::default()
        }
    }

    fn apply_median(&self, program: &Program) -> Option<Duration> {
        self.apply.get(program).map(|t| Stats::of(t).median)
    }

    fn noop_median(&self, program: &Program) -> Option<Duration> {
        self.noop.get(program).map(|s| s.median)
    }

    /// The program a column runs for a measurement of `size` migrations.
    fn program(column: Column, size: usize) -> Program {
        match column {
            Column::Library(library) => Program::Library(library, size),
            Column::Psql => Program::Psql(size),
            Column::Select1 => Program::Select1,
            Column::Select1Sqlx => Program::Select1Sqlx,
            Column::Select1TokioPostgres => Program::Select1TokioPostgres,
        }
    }

    /// One row: a label and a cell per column.
    fn row(out: &mut String, label: &str, cell: impl Fn(Column) -> Option<String>) {
        let cells: Vec<String> = COLUMNS
            .iter()
            .map(|c| cell(*c).unwrap_or_else(|| DASH.to_owned()))
            .collect();
        let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
    }

    /// The lines above a table: the machine, its load, the server, stowage's
    /// commit; `timed` names the timed runs.
    pub fn header(&self, out: &mut String, timed: &str) {
        let _ = writeln!(out, "Machine: {}", self.machine);
        let _ = writeln!(
            out,
            "Load average (1, 5, 15 min) at the start: {}; at the end: {}",
            self.load_at_start, self.load_at_end
        );
        let _ = writeln!(
            out,
            "Timed runs ({timed}) started on a quiet machine: {} of {}",
            self.quiet_starts,
            self.quiet_starts + self.noisy_starts
        );
        let _ = writeln!(out, "Server: {}", self.server_version);
        let _ = writeln!(out, "stowage: commit {}", self.stowage_version);
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        self.header(&mut out, "applies, no-op passes, rebuilds");
        let _ = writeln!(
            out,
            "Apply: median of {} runs, each on a new database. No-op start: median of {} runs ({}).\n",
            self.apply_runs, self.noop_runs, self.noop_timer
        );
        out.push_str("| | stowage | stowage, async (tokio-postgres) | refinery | sqlx | diesel (build only) | psql, one connection | connect + `SELECT 1` (postgres) | connect + `SELECT 1` (sqlx) | connect + `SELECT 1` (tokio-postgres) |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");

        for size in [100, 1000] {
            Self::row(
                &mut out,
                &format!("apply {} into an empty database, ms", thousands(size)),
                |c| {
                    self.apply_median(&Self::program(c, size))
                        .map(|d| format!("{:.0}", ms(d)))
                },
            );
        }
        let psql = self.apply_median(&Program::Psql(1000));
        Self::row(&mut out, "apply 1,000, × psql", |c| match (c, psql) {
            (Column::Library(_) | Column::Psql, Some(psql)) => self
                .apply_median(&Self::program(c, 1000))
                .map(|d| format!("{:.2}", d.as_secs_f64() / psql.as_secs_f64())),
            _ => None,
        });
        for size in [100, 1000] {
            Self::row(
                &mut out,
                &format!("no-op start, {} applied, ms", thousands(size)),
                |c| match c {
                    Column::Psql => None,
                    _ => self
                        .noop_median(&Self::program(c, size))
                        .map(|d| format!("{:.2}", ms(d))),
                },
            );
        }
        let floor = self.noop_median(&Program::Select1);
        Self::row(
            &mut out,
            "no-op start, 1,000 applied, above connect + `SELECT 1` (postgres), ms",
            |c| match (c, floor) {
                (
                    Column::Library(_) | Column::Select1Sqlx | Column::Select1TokioPostgres,
                    Some(floor),
                ) => self
                    .noop_median(&Self::program(c, 1000))
                    .map(|d| format!("{:+.2}", ms(d) - ms(floor))),
                _ => None,
            },
        );
        Self::row(
            &mut out,
            "no-op start, 1,000 applied: statements / round trips",
            |c| {
                let counted = self.noop_counts.get(&Self::program(c, 1000))?;
                Some(format!(
                    "{} / {}",
                    counted.statements(),
                    counted.counts.round_trips
                ))
            },
        );
        Self::row(
            &mut out,
            "no-op start: bytes sent / received, 100 → 1,000 applied",
            |c| {
                let small = self.noop_counts.get(&Self::program(c, 100))?;
                let large = self.noop_counts.get(&Self::program(c, 1000))?;
                Some(if matches!(c, Column::Library(_)) {
                    format!(
                        "{} / {} → {} / {}",
                        small.counts.bytes_to_server,
                        small.counts.bytes_to_client,
                        large.counts.bytes_to_server,
                        large.counts.bytes_to_client
                    )
                } else {
                    format!(
                        "{} / {}",
                        large.counts.bytes_to_server, large.counts.bytes_to_client
                    )
                })
            },
        );
        Self::row(
            &mut out,
            "statements per applied migration (applying 1,000: all ÷ 1,000)",
            |c| {
                let counted = self.apply_counts.get(&Self::program(c, 1000))?;
                Some(format!("{:.2}", counted.statements() as f64 / 1000.0))
            },
        );
        Self::row(
            &mut out,
            "round trips per applied migration (applying 1,000: all ÷ 1,000)",
            |c| {
                let counted = self.apply_counts.get(&Self::program(c, 1000))?;
                Some(format!("{:.2}", counted.counts.round_trips as f64 / 1000.0))
            },
        );
        Self::row(&mut out, "per migration beyond the first 100: statements / round trips ((1,000 run − 100 run) ÷ 900)", |c| {
            let small = self.apply_counts.get(&Self::program(c, 100))?;
            let large = self.apply_counts.get(&Self::program(c, 1000))?;
            let per = |a: u64, b: u64| (b as f64 - a as f64) / 900.0;
            Some(format!(
                "{:.2} / {:.2}",
                per(small.statements(), large.statements()),
                per(small.counts.round_trips, large.counts.round_trips)
            ))
        });
        Self::row(
            &mut out,
            "rebuild after editing 1 of 1,000 migrations, s: wall / CPU (median)",
            |c| {
                let Column::Library(library) = c else {
                    return None;
                };
                let times = self.rebuilds.get(&library)?;
                let wall = Stats::of(&times.iter().map(|t| t.wall).collect::<Vec<_>>()).median;
                let cpu = Stats::of(&times.iter().map(|t| t.cpu).collect::<Vec<_>>()).median;
                Some(format!(
                    "{:.2} / {:.2}",
                    wall.as_secs_f64(),
                    cpu.as_secs_f64()
                ))
            },
        );
        Self::row(
            &mut out,
            "of which rustc on the program, s: macro expansion / all (`-Z time-passes`)",
            |c| {
                let Column::Library(library) = c else {
                    return None;
                };
                let passes = self.passes.get(&library)?;
                Some(format!(
                    "{:.2} / {:.2}",
                    passes.get("expand_crate").copied().unwrap_or(f64::NAN),
                    passes.get("total").copied().unwrap_or(f64::NAN)
                ))
            },
        );
        for size in [1000, 100] {
            Self::row(
                &mut out,
                &format!("release binary, {} migrations, MiB", thousands(size)),
                |c| match c {
                    Column::Psql => None,
                    _ => self
                        .sizes
                        .get(&Self::program(c, size))
                        .map(|b| format!("{:.2}", *b as f64 / 1048576.0)),
                },
            );
        }

        if let Some(floor) = floor {
            out.push_str("\nThe no-op start with 1,000 applied, taken apart (median ms; above = minus connect + `SELECT 1`):\n\n");
            out.push_str("| program | median, ms | above the floor, ms |\n|---|---:|---:|\n");
            let rows = [
                (
                    Program::Select1,
                    "connect + `SELECT 1` (postgres): the floor",
                ),
                (
                    Program::Select1TokioPostgres,
                    "connect + `SELECT 1` (tokio-postgres, on a current-thread runtime)",
                ),
                (
                    Program::Library(Library::Stowage, 1000),
                    "stowage, 1,000 applied",
                ),
                (
                    Program::Library(Library::StowageAsync, 1000),
                    "stowage's async driver (tokio-postgres), 1,000 applied",
                ),
                (
                    Program::Check(Check::Current),
                    "connect + stowage's check query, from a minimal program",
                ),
                (
                    Program::StowageWithoutDigest,
                    "stowage, 1,000 applied, without the digest table (the check computes the digest)",
                ),
                (
                    Program::Check(Check::Computed),
                    "connect + the query that computes the digest over the table, from a minimal program",
                ),
                (Program::Library(Library::Sqlx, 1000), "sqlx, 1,000 applied"),
                (
                    Program::Library(Library::Refinery, 1000),
                    "refinery, 1,000 applied",
                ),
            ];
            for (program, label) in rows {
                if let Some(median) = self.noop_median(&program) {
                    let _ = writeln!(
                        out,
                        "| {label} | {:.2} | {:+.2} |",
                        ms(median),
                        ms(median) - ms(floor)
                    );
                }
            }
        }

        out.push_str("\nApplying, fastest run (ms): ");
        let minima: Vec<String> = self
            .apply
            .iter()
            .map(|(program, times)| format!("{} {:.0}", program.label(), ms(Stats::of(times).min)))
            .collect();
        out.push_str(&minima.join(", "));
        out.push('\n');

        out.push_str("\nMessages the client sent (proxy; Q = simple query, P/B/E/S = parse/bind/execute/sync):\n\n");
        for (what, counts) in [
            ("applying 1,000", &self.apply_counts),
            ("no-op, 1,000 applied", &self.noop_counts),
        ] {
            for library in Library::ALL {
                if let Some(c) = counts.get(&Program::Library(library, 1000)) {
                    let _ = writeln!(
                        out,
                        "- {} {what}: {} (statements logged by the server: {})",
                        library.name(),
                        c.counts.message_summary(),
                        c.logged
                            .map_or_else(|| "not read".into(), |n| n.to_string())
                    );
                }
            }
        }
        if !self.passes.is_empty() {
            out.push_str(
                "\nrustc passes of the 1,000-migration program (`-Z time-passes`, seconds):\n\n",
            );
            for (library, passes) in &self.passes {
                let _ = writeln!(out, "- {}: {}", library.name(), passes_summary(passes));
            }
        }
        if let Some(schema) = &self.schema {
            let _ = write!(out, "\n{}", schema.rows());
        }
        out
    }
}

/// The columns of the slow link's table.
const SLOW_LINK_COLUMNS: [Column; 6] = [
    Column::Library(Library::Stowage),
    Column::Library(Library::StowageAsync),
    Column::Library(Library::Refinery),
    Column::Library(Library::Sqlx),
    Column::Psql,
    Column::Select1,
];

impl Results {
    /// The program of a column in the slow link's rows of `size`: connect +
    /// `SELECT 1` is shown once, in the rows of 100.
    fn slow_link_program(column: Column, size: usize) -> Option<Program> {
        match column {
            Column::Select1 if size != 100 => None,
            _ => Some(Self::program(column, size)),
        }
    }

    fn slow_link_median(&self, latency: Duration, column: Column, size: usize) -> Option<Duration> {
        let program = Self::slow_link_program(column, size)?;
        self.slow_link
            .get(&(latency, program))
            .map(|t| Stats::of(t).median)
    }

    /// A count of every run of `program` at every latency, as `n`, or
    /// `least–most` if they differed.
    fn slow_link_count(&self, program: &Program, count: impl Fn(&Counts) -> u64) -> Option<String> {
        let counts: Vec<u64> = self
            .slow_link_counts
            .iter()
            .filter(|((_, p), _)| p == program)
            .flat_map(|(_, c)| c.iter().map(&count))
            .collect();
        let (least, most) = (counts.iter().min()?, counts.iter().max()?);
        Some(if least == most {
            least.to_string()
        } else {
            format!("{least}–{most}")
        })
    }

    /// The table of applying over a slow link.
    pub fn slow_link_markdown(&self) -> String {
        let mut out = String::new();
        self.header(&mut out, "applies over the slow link");
        let _ = writeln!(
            out,
            "Whole processes through the proxy, half the round trip each way; median of {} runs, each apply on a new database.\n",
            self.slow_link_runs
        );
        out.push_str("| | stowage | stowage, async (tokio-postgres) | refinery | sqlx | psql, one connection | connect + `SELECT 1` (postgres) |\n");
        out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
        let latencies: Vec<Duration> = self
            .slow_link
            .keys()
            .map(|(latency, _)| *latency)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let row = |out: &mut String, label: &str, cell: &dyn Fn(Column) -> Option<String>| {
            let cells: Vec<String> = SLOW_LINK_COLUMNS
                .iter()
                .map(|c| cell(*c).unwrap_or_else(|| DASH.to_owned()))
                .collect();
            let _ = writeln!(out, "| {label} | {} |", cells.join(" | "));
        };
        for size in [100, 1000] {
            for latency in &latencies {
                row(
                    &mut out,
                    &format!(
                        "apply {} into an empty database, {} ms round trip, ms",
                        thousands(size),
                        ms(*latency)
                    ),
                    &|c| {
                        self.slow_link_median(*latency, c, size)
                            .map(|d| format!("{:.0}", ms(d)))
                    },
                );
            }
        }
        if let (Some(fastest), Some(slowest)) = (latencies.first(), latencies.last()) {
            row(
                &mut out,
                &format!(
                    "apply 1,000 at {} ms, × its own at {} ms",
                    ms(*slowest),
                    ms(*fastest)
                ),
                &|c| {
                    let slow = self.slow_link_median(*slowest, c, 1000)?;
                    let fast = self.slow_link_median(*fastest, c, 1000)?;
                    Some(format!("{:.2}", slow.as_secs_f64() / fast.as_secs_f64()))
                },
            );
        }
        for size in [100, 1000] {
            row(
                &mut out,
                &format!(
                    "round trips of a run applying {} (every run, every latency)",
                    thousands(size)
                ),
                &|c| self.slow_link_count(&Self::slow_link_program(c, size)?, |c| c.round_trips),
            );
        }
        for size in [100, 1000] {
            row(
                &mut out,
                &format!(
                    "statements of a run applying {} (`Q` + `E`, what `log_statement = all` logs)",
                    thousands(size)
                ),
                &|c| self.slow_link_count(&Self::slow_link_program(c, size)?, Counts::statements),
            );
        }
        out
    }
}

/// The passes that tell where a build of the program goes.
pub fn passes_summary(passes: &BTreeMap<String, f64>) -> String {
    const SHOWN: [&str; 8] = [
        "expand_crate",
        "type_check_crate",
        "MIR_borrow_checking",
        "codegen_crate",
        "LLVM_passes",
        "finish_ongoing_codegen",
        "link",
        "total",
    ];
    SHOWN
        .iter()
        .filter_map(|name| passes.get(*name).map(|s| format!("{name} {s:.2}")))
        .collect::<Vec<_>>()
        .join(", ")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn thousands(n: usize) -> String {
    if n >= 1000 {
        format!("{},{:03}", n / 1000, n % 1000)
    } else {
        n.to_string()
    }
}

/// The CPU, its cores, and the kernel.
pub fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let memory = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("MemTotal:")
                .map(|v| v.trim().trim_end_matches(" kB").parse::<u64>().unwrap_or(0))
        })
        .unwrap_or(0);
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    format!(
        "{model}, {cores} cores, {:.0} GiB, Linux {}; {rustc}",
        memory as f64 / 1048576.0,
        kernel.trim()
    )
}

/// The system's load average over 1, 5 and 15 minutes.
pub fn load_average() -> String {
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    load.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The share of CPU time spent, over `window`, by processes that are not
/// niced (`user` + `system` + interrupts + `steal` in /proc/stat; the `nice`
/// column, where builds at `nice -n 19` count, is left out: they yield to
/// the measured programs).
pub fn busy_share(window: Duration) -> f64 {
    fn sample() -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let line = stat.lines().next()?.strip_prefix("cpu ")?;
        let v: Vec<u64> = line
            .split_whitespace()
            .filter_map(|x| x.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal
        let busy = v.first()? + v.get(2)? + v.get(5)? + v.get(6)? + v.get(7)?;
        Some((busy, v.iter().take(8).sum()))
    }
    let Some((busy0, total0)) = sample() else {
        return 0.0;
    };
    std::thread::sleep(window);
    let Some((busy1, total1)) = sample() else {
        return 0.0;
    };
    (busy1 - busy0) as f64 / (total1 - total0).max(1) as f64
}
