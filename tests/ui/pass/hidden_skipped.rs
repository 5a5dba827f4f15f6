// Hidden files and folders are skipped (here `.9_x.sql`, which is empty, and
// `.hidden/9_bad name.sql`, which is misnamed), subfolders are read, and a
// file saved with a BOM and CRLF line ends is stowed as plain LF text.
static MIGRATIONS: stowage::Migrations =
    stowage::embed_migrations!("tests/ui/fixtures/hidden_skipped");

fn main() {
    let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version()).collect();
    assert_eq!(versions, vec![1, 2, 3]);

    let paths: Vec<&str> = MIGRATIONS.iter().map(|m| m.up().path()).collect();
    assert_eq!(
        paths,
        vec![
            "tests/ui/fixtures/hidden_skipped/1_create_users.sql",
            "tests/ui/fixtures/hidden_skipped/nested/deeper/2_add_email.sql",
            "tests/ui/fixtures/hidden_skipped/3_windows.sql",
        ]
    );

    let windows = MIGRATIONS.get(3).expect("version 3 is embedded");
    let sql = windows.up().sql();
    assert!(!sql.contains('\r'), "CR left in {sql:?}");
    assert!(!sql.starts_with('\u{feff}'), "BOM left in {sql:?}");
    assert_eq!(
        sql,
        "-- saved on Windows\ncreate table notes (\n    body text\n);\n"
    );
}
