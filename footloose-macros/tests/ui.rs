//! What the attribute accepts and how it refuses the rest.
//!
//! trybuild compiles each case in `target/tests/trybuild/footloose-macros`,
//! which is then the crate's manifest directory: the cases name their
//! config files relative to it.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
