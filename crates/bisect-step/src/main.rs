//! Thin command-line front end for the `bisect_step` library.
fn main() {
    eprintln!("bisect-step: not yet implemented");
    std::process::exit(1);
}
