// Writing the schema file into the folder rebuilds the program, which then
// embeds it.
fn main() {
    println!("cargo:rerun-if-changed=../../generated/schema");
}
