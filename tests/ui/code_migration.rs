static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/code_migration", layout = "goose");

fn main() {}
