// The built-in rules are embedded with include_dir; rebuild when any file under rules/ changes.
fn main() {
    println!("cargo:rerun-if-changed=../../rules");
}
