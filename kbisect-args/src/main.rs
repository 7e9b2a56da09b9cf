//! Thin binary behind the `kbisect` script's argument parsing: parses the
//! script's arguments with [`kbisect_args::Cli`] and prints them as
//! NUL-separated `name=value` pairs (see the library's docs).

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    std::process::exit(kbisect_args::run(args, &mut std::io::stdout().lock()));
}
