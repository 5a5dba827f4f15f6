static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/repeatable_pass");

fn main() {
    let names: Vec<_> = MIGRATIONS.repeatables().map(|r| r.name()).collect();
    assert_eq!(names, ["reports", "routines"]);
}
