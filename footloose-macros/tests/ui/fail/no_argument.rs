#[footloose::cluster("tests/ui/footloose.yaml")]
fn t() {}

// The function is still there: code naming it finds it.
const _: fn() = t;

fn main() {}
