static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/directive_mistakes");

fn main() {}
