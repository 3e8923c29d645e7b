#[footloose::cluster("tests/ui/footloose.yaml")]
fn t(_cluster: &footloose::Cluster) -> u32 {
    1
}

fn main() {}
