#[footloose::cluster("tests/ui/footloose.yaml", ready_timeout = "1.5m")]
fn fractional(_cluster: &footloose::Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", ready_timeout = 90)]
fn without_a_unit(_cluster: &footloose::Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", ready_timeout = "0s")]
fn no_time(_cluster: &footloose::Cluster) {}

// The functions are still there: code naming them finds them.
const _: [fn(&footloose::Cluster); 3] = [fractional, without_a_unit, no_time];

fn main() {}
