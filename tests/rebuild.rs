//! Changing the migrations folder rebuilds the binary that embeds it, checked
//! with a real `cargo build` of a small crate: editing a migration rebuilds it
//! (the macro tracks every file it reads), and so do adding and removing one
//! when the crate has a `build.rs` printing `cargo:rerun-if-changed=migrations`.
//!
//! Each step asserts what a user would look at: what the built binary prints.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

const MAIN_RS: &str = r#"static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!();

fn main() {
    for m in &MIGRATIONS {
        println!("{} {} {}", m.version(), m.name(), m.up().checksum());
    }
}
"#;

const BUILD_RS: &str = r#"fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
"#;

const A: &str = "create table a (id bigint);\n";
const A_SHA256: &str = "f3ce0dede48aa8c2443c5eb6d44a859fb735e8be2c4a87bc6142ff3467cf5fa6";
const A_EDITED: &str = "create table a (id bigint, name text);\n";
const A_EDITED_SHA256: &str = "5487a1addef2cab29ceb43c901e171ed04c36271f2275dce01ea04f77c0ebd25";
const B: &str = "create table b (id bigint);\n";
const B_SHA256: &str = "3092f168259e1f2f0bb20df08a0a211df61ca617908f707db39b3c3476ebf704";

// Saved on Windows: a BOM and CRLF line ends, so the macro embeds normalized
// text rather than the file itself; the checksums are of the normalized text.
const W: &str = "\u{feff}create table w (id bigint);\r\n";
const W_SHA256: &str = "394f1572fc3b6e2b0378b37448ca09d179eb0a0d8e0ee31056e9085c16464ed7";
const W_EDITED: &str = "\u{feff}create table w (id bigint, note text);\r\n";
const W_EDITED_SHA256: &str = "47600f151d28f1ae9a360bb83c2c7f640b28125986d9fdb74840feaca455f31b";

/// No `build.rs` here: the macro alone must make an edit rebuild the crate
/// (with `rerun-if-changed=migrations`, cargo would notice it anyway). The
/// two files are edited one at a time, as the macro tracks a file embedded
/// as is and a normalized one in different ways.
#[test]
fn editing_a_migration_rebuilds_the_binary() {
    let probe = Probe::new("stowage-rebuild-edit", None);
    probe.write("migrations/1_a.sql", A);
    probe.write("migrations/2_w.sql", W);
    probe.build_and_check_it_is_stable();
    assert_eq!(
        probe.run(),
        format!("1 a {A_SHA256}\n2 w {W_SHA256}\n"),
        "first build"
    );

    probe.write("migrations/1_a.sql", A_EDITED);
    probe.build();
    assert_eq!(
        probe.run(),
        format!("1 a {A_EDITED_SHA256}\n2 w {W_SHA256}\n"),
        "after editing migrations/1_a.sql"
    );

    probe.write("migrations/2_w.sql", W_EDITED);
    probe.build();
    assert_eq!(
        probe.run(),
        format!("1 a {A_EDITED_SHA256}\n2 w {W_EDITED_SHA256}\n"),
        "after editing migrations/2_w.sql"
    );
}

#[test]
fn adding_and_removing_a_migration_rebuilds_the_binary_with_a_build_script() {
    let probe = Probe::new("stowage-rebuild-add", Some(BUILD_RS));
    probe.write("migrations/1_a.sql", A);
    probe.build_and_check_it_is_stable();
    assert_eq!(probe.run(), format!("1 a {A_SHA256}\n"), "first build");

    probe.write("migrations/2_b.sql", B);
    probe.build();
    assert_eq!(
        probe.run(),
        format!("1 a {A_SHA256}\n2 b {B_SHA256}\n"),
        "after adding migrations/2_b.sql"
    );

    probe.remove("migrations/2_b.sql");
    probe.build();
    assert_eq!(
        probe.run(),
        format!("1 a {A_SHA256}\n"),
        "after removing migrations/2_b.sql"
    );
}

/// A throwaway binary crate that embeds `migrations/`, in a fresh temporary
/// folder, built into a target folder of its own inside this workspace's.
/// Each test has its own package name, since their binaries land in one
/// target folder.
struct Probe {
    package: &'static str,
    dir: PathBuf,
    target: PathBuf,
}

impl Probe {
    fn new(package: &'static str, build_rs: Option<&str>) -> Probe {
        let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("{package}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(dir.join("src")).expect("create the crate folder");
        let probe = Probe {
            package,
            dir,
            target: Path::new(env!("CARGO_TARGET_TMPDIR")).join("rebuild"),
        };
        // A TOML literal string takes the path as is, backslashes included.
        let runtime = workspace.join("runtime");
        probe.write(
            "Cargo.toml",
            &format!(
                "[package]\n\
                 name = \"{package}\"\n\
                 version = \"0.0.0\"\n\
                 edition = \"2021\"\n\
                 publish = false\n\
                 \n\
                 [dependencies]\n\
                 stowage = {{ path = '{}' }}\n\
                 \n\
                 [workspace]\n",
                runtime.display()
            ),
        );
        // The workspace's lock file, so that nothing new is resolved.
        std::fs::copy(workspace.join("Cargo.lock"), probe.dir.join("Cargo.lock"))
            .expect("copy Cargo.lock");
        if let Some(build_rs) = build_rs {
            probe.write("build.rs", build_rs);
        }
        probe.write("src/main.rs", MAIN_RS);
        probe
    }

    fn write(&self, file: &str, contents: &str) {
        let path = self.dir.join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {file}: {e}"));
    }

    fn remove(&self, file: &str) {
        std::fs::remove_file(self.dir.join(file)).unwrap_or_else(|e| panic!("remove {file}: {e}"));
    }

    fn build(&self) {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| OsString::from("cargo"));
        let output = Command::new(cargo)
            .args(["build", "--offline", "--quiet"])
            .current_dir(&self.dir)
            .env("CARGO_TARGET_DIR", &self.target)
            // Settings of the outer build that would change where the binary
            // lands or what the macro reads.
            .env_remove("CARGO_BUILD_TARGET")
            .env_remove("STOWAGE_MANIFEST_DIR")
            .output()
            .expect("run cargo");
        assert!(
            output.status.success(),
            "cargo build failed in {}:\n{}",
            self.dir.display(),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Builds, then builds again with nothing changed and checks that the
    /// binary was left alone: were it rebuilt every time, the checks after a
    /// change would prove nothing.
    fn build_and_check_it_is_stable(&self) {
        self.build();
        let built = self.binary_modified();
        self.build();
        assert_eq!(
            self.binary_modified(),
            built,
            "a build with nothing changed rebuilt {}",
            self.binary().display()
        );
    }

    fn binary(&self) -> PathBuf {
        self.target
            .join("debug")
            .join(format!("{}{}", self.package, std::env::consts::EXE_SUFFIX))
    }

    fn binary_modified(&self) -> SystemTime {
        std::fs::metadata(self.binary())
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{}: {e}", self.binary().display()))
    }

    fn run(&self) -> String {
        let output = Command::new(self.binary())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", self.binary().display()));
        assert!(
            output.status.success(),
            "{} failed:\n{}",
            self.binary().display(),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("the probe prints UTF-8")
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("the probe crate is left in {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
