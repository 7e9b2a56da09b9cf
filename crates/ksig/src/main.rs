//! Thin command-line front end for the `ksig` library.
fn main() {
    eprintln!("ksig: not yet implemented");
    std::process::exit(1);
}
