// As each library's documentation advises: adding or removing a migration
// rebuilds the program. The same line is in every measured program.
fn main() {
    println!("cargo:rerun-if-changed=../../generated/stowage");
}
