static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/marker_sql_migrate");

fn main() {}
