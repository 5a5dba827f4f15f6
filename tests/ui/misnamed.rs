static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/misnamed");

fn main() {}
