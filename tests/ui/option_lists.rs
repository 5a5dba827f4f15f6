static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/option_lists");

fn main() {}
