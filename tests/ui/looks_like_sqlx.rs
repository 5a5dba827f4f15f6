static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/looks_like_sqlx");

fn main() {}
