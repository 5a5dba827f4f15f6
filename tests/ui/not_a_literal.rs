static MIGRATIONS: stowage::Migrations = stowage::embed_migrations!(42);

fn main() {}
