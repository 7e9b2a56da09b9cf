//! Thin command-line front end for the `crashclass` library.
fn main() {
    eprintln!("crashclass: not yet implemented");
    std::process::exit(1);
}
