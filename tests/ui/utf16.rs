static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/utf16");

fn main() {}
