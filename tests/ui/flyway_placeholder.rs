static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/flyway_placeholder", layout = "flyway");

fn main() {}
