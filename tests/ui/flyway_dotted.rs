static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!("tests/ui/fixtures/flyway_dotted", layout = "flyway");

fn main() {}
