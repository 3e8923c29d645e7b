//! `test_hooks!` in a binary of its own: it needs no dependency on ctor or
//! dtor, more than one copy does no harm, and the start-up hook has run
//! when `main` starts.

fl::test_hooks!();
footloose::test_hooks!();

fn main() {
    assert!(
        footloose::__private::hooks_installed(),
        "the start-up hook did not run"
    );
}
