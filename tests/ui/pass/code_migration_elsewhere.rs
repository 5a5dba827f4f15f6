static MIGRATIONS: stowage::Migrations =
    stowage::embed_migrations!("tests/ui/fixtures/code_migration_elsewhere", layout = "goose", elsewhere = [2]);

fn main() {
    assert_eq!(MIGRATIONS.elsewhere(), &[2]);
    assert_eq!(MIGRATIONS.layout(), "goose");
}
