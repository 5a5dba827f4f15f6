static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/psql_meta_commands");

fn main() {}
