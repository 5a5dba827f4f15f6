static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/template_markers");

fn main() {}
