static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/goose_envsub", layout = "goose");

fn main() {}
