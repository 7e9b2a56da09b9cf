//! A kernel-mode breakpoint trap ("int3: 0000 [#1]") is a crash in the
//! function it hit. The fixture is a real console: syzbot's 6.1 KASAN
//! config under multi-threaded TCG, where KFENCE's static key flips its
//! allocation hooks ten times a second and the other vCPU ran a stale copy
//! of the half-patched code (ktest now runs such kernels single-threaded).
//! The breakpoint sat in kmem_cache_alloc, an allocator never named in a
//! title, so the title names its caller, as for the other traps.

use crashclass::classify;

#[test]
fn a_kernel_int3_trap_is_titled_by_the_function_it_hit() {
    let log = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/tcg-kfence-int3.log"
    ))
    .unwrap();
    let class = classify(&log);
    assert!(class.crashed);
    assert_eq!(class.title.as_deref(), Some("int3 in __kernfs_new_node"));
    assert!(!class.corrupted, "the report has a stack and a RIP");
}
