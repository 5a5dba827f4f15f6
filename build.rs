// Rebuild when a migration is added or removed (editing one is tracked by the
// macro itself).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
    println!("cargo:rerun-if-changed=tests/fixtures");
}
