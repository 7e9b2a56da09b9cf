//! Thin binary: `kbisect-docgen OUTDIR` writes every tool's man page and
//! shell completions under OUTDIR (see the library for the layout).

fn main() {
    let mut args = std::env::args_os().skip(1);
    let (Some(out), None) = (args.next(), args.next()) else {
        eprintln!("usage: kbisect-docgen OUTDIR   (writes man/man1/*.1 and completions/{{bash,zsh,fish}}/ under OUTDIR)");
        std::process::exit(2);
    };
    if let Err(e) = docgen::generate(std::path::Path::new(&out)) {
        eprintln!(
            "kbisect-docgen: {}: {e}",
            std::path::Path::new(&out).display()
        );
        std::process::exit(1);
    }
}
