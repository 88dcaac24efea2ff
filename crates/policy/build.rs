// The built-in packs are embedded with include_dir; rebuild when any file under packs/ changes.
fn main() {
    println!("cargo:rerun-if-changed=../../packs");
    println!("cargo:rerun-if-changed=../../frameworks");
}
