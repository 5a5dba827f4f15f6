static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/comments_only");

fn main() {}
