static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/down_name_differs");

fn main() {}
