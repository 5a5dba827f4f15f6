static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/bad_directive_value");

fn main() {}
