//! Thin command-line front end for the `kbuild` library.
fn main() {
    eprintln!("kbuild: not yet implemented");
    std::process::exit(1);
}
