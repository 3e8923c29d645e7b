#[footloose::cluster("tests/ui/footloose.yaml")]
struct NotATest;

// The item is still there.
const _: NotATest = NotATest;

fn main() {}
