//! A kernel built out of tree or from an absolute path prints `__FILE__`
//! with a prefix: `kernel BUG at ../src/lib/list_debug.c:50!`. The rules
//! keyed on a file (list_debug, usercopy) still apply. The fixture is a
//! real console: syzbot's reproducer 3609bbf45bf6 on syzbot's 6.1 KASAN
//! config, built by kbuild (syzbot titled that bug "BUG: corrupted list in
//! em28xx_init_extension").

use crashclass::classify;

#[test]
fn a_corrupted_list_is_named_whatever_the_path_prefix() {
    let log = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/list-del-out-of-tree.log"
    ))
    .unwrap();
    let class = classify(&log);
    assert!(class.crashed);
    let title = class.title.unwrap_or_default();
    assert!(
        title.starts_with("BUG: corrupted list in em28xx_"),
        "{title}"
    );
}
