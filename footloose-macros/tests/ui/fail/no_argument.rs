#[footloose::cluster("../../../../footloose-macros/tests/ui/footloose.yaml")]
fn t() {}

fn main() {}
