//! Thin command-line front end for the `ktest` library.
fn main() {
    eprintln!("ktest: not yet implemented");
    std::process::exit(1);
}
