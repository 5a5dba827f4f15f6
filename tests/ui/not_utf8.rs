static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/not_utf8");

fn main() {}
