static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/does_not_exist");

fn main() {}
