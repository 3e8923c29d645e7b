#[footloose::cluster("tests/ui/footloose.yaml", shared, keep_on_failure)]
fn t(_cluster: &footloose::Cluster) {}

const _: fn(&footloose::Cluster) = t;

fn main() {}
