static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/marker_postgres_migrations");

fn main() {}
