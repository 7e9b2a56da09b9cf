//! Real consoles of syzbot's 6.1 KASAN config, built by kbuild and booted by
//! ktest, and the titles they must get.

use crashclass::{classify, Classification};

fn classify_fixture(name: &str) -> Classification {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let class = classify(&std::fs::read(&path).unwrap());
    assert!(class.crashed && !class.corrupted, "{path}: {class:?}");
    class
}

/// A kernel-mode breakpoint trap ("int3: 0000 [#1]") is a crash in the
/// function it hit. Under multi-threaded TCG, KFENCE's static key flips its
/// allocation hooks ten times a second and the other vCPU ran a stale copy
/// of the half-patched code (ktest now runs such kernels single-threaded).
/// The breakpoint sat in kmem_cache_alloc, an allocator never named in a
/// title, so the title names its caller, as for the other traps.
#[test]
fn a_kernel_int3_trap_is_titled_by_the_function_it_hit() {
    let class = classify_fixture("tcg-kfence-int3.log");
    assert_eq!(class.title.as_deref(), Some("int3 in __kernfs_new_node"));
}

/// A kernel built out of tree or from an absolute path prints `__FILE__`
/// with a prefix: `kernel BUG at ../src/lib/list_debug.c:50!`. The rules
/// keyed on a file (list_debug, usercopy) still apply. syzbot's reproducer
/// 3609bbf45bf6 (syzbot titled it "BUG: corrupted list in
/// em28xx_init_extension").
#[test]
fn a_corrupted_list_is_named_whatever_the_path_prefix() {
    let title = classify_fixture("list-del-out-of-tree.log")
        .title
        .unwrap_or_default();
    assert!(
        title.starts_with("BUG: corrupted list in em28xx_"),
        "{title}"
    );
}
