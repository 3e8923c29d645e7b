#[footloose::cluster("tests/ui/footloose.yaml")]
fn t() {}

fn main() {}
