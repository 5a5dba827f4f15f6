//! stowage-core's lexer and splitter against PostgreSQL's scanner and parser.
//!
//! Run with `cargo test -p stowage-differential -- --nocapture` to see the
//! corpus sizes.

use std::path::{Path, PathBuf};

use stowage_differential::generate::{self, Rng};
use stowage_differential::{Verdict, check, check_split, check_tokens};

/// Runs both checks on every text, and fails with every disagreement.
fn run(name: &str, texts: impl IntoIterator<Item = String>) {
    let (mut total, mut accepted, mut statements, mut unterminated) = (0, 0, 0, 0);
    let mut disagreements = Vec::new();
    for sql in texts {
        total += 1;
        match check(&sql) {
            Ok(Some(n)) => {
                accepted += 1;
                statements += n;
            }
            Ok(None) => {
                if check_split(&sql) == Ok(Verdict::BothUnterminated) {
                    unterminated += 1;
                }
            }
            Err(e) => disagreements.push(e),
        }
    }
    println!(
        "{name}: {total} texts, {accepted} accepted by PostgreSQL's parser \
         ({statements} statements), {unterminated} unterminated in both, \
         {} disagreements",
        disagreements.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements, the first ones:\n{}",
        disagreements.len(),
        disagreements
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_repositorys_sql_files() {
    let mut texts = Vec::new();
    for folder in ["migrations", "tests/fixtures", "tests/ui/fixtures"] {
        for entry in walkdir::WalkDir::new(repository().join(folder)).sort_by_file_name() {
            let entry = entry.expect("readable folder");
            let path = entry.path();
            if !entry.file_type().is_file() || path.extension().is_none_or(|e| e != "sql") {
                continue;
            }
            let bytes = std::fs::read(path).expect("readable file");
            // Split as the build does: BOM removed, CRLF made LF.
            if let Ok(text) = stowage_core::text::normalize(&bytes) {
                texts.push(text.sql);
            }
        }
    }
    assert!(texts.len() >= 10, "found only {} files", texts.len());
    run("repository .sql files", texts);
}

#[test]
fn generated_migrations() {
    let mut rng = Rng::new(1);
    let texts: Vec<String> = (0..5000).map(|_| generate::migration(&mut rng)).collect();
    // Every generated migration is valid SQL, so it is compared in full.
    for sql in &texts {
        assert!(
            matches!(check_split(sql), Ok(Verdict::Agreed(_))),
            "not accepted: {sql:?}: {:?}",
            check_split(sql)
        );
    }
    run("generated migrations", texts);
}

#[test]
fn generated_migrations_cut_short() {
    let mut rng = Rng::new(2);
    let texts = (0..5000).map(|_| {
        let sql = generate::migration(&mut rng);
        generate::truncated(&mut rng, &sql)
    });
    run("generated migrations cut short", texts);
}

#[test]
fn lexical_soup() {
    let mut rng = Rng::new(3);
    let texts: Vec<String> = (0..50_000).map(|_| generate::soup(&mut rng)).collect();
    let mut scanned = 0;
    for sql in &texts {
        if let Ok(Verdict::Agreed(_)) = check_tokens(sql) {
            scanned += 1;
        }
    }
    println!("lexical soup: {scanned} texts scanned by PostgreSQL");
    run("lexical soup", texts);
}

#[test]
fn hand_written_cases() {
    let cases = [
        "select 1; select 2",
        "  -- c\n select 1 /* x */ ; /* y */ select 2 -- z\n",
        ";; select 1;; ;select 2;",
        "select E'a'\n'\\''",
        "select $a$ $$ $a$",
        "select 1 from x$$",
        "create rule r as on insert to t do also (select 1; select 2)",
        "create function f() returns int begin atomic select 1 end; end; select 2",
        "create function f() returns int begin atomic select case when true then 1 end end; end",
        "create procedure p() begin atomic select 1; end; select 2",
        "create function f() returns int begin atomic \
         create function g() returns int begin atomic select 1; end; select 2; end; select 3",
        "create table t (begin int); select begin from t; begin; select 1; end;",
        "select 1 -- eof",
        "select 'a' 'b'",
        "select somE'x'",
        "select 'abc",
        "select E'a' /*c*/\n'\\''",
        "select \"abc",
        "select $$abc",
        "select /* abc",
        "select B'01",
        "select U&\"01",
        "select <+-+1",
        "select 1\x0b; select 2",
        "select 'é'; select \"ü\"",
    ];
    run("hand-written cases", cases.map(String::from));
}
