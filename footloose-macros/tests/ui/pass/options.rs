use footloose::Cluster;

#[footloose::cluster("tests/ui/footloose.yaml", ready_timeout = "90s")]
fn slow_to_boot(_cluster: &Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", ready_timeout = "2m", keep_on_failure)]
async fn kept_when_it_fails(_cluster: &Cluster) -> footloose::Result<()> {
    Ok(())
}

#[footloose::cluster(
    "tests/ui/footloose.yaml",
    keep_on_failure,
    images = ["debian12", "debian13"],
    ready_timeout = "1500ms",
)]
fn kept_matrix(_cluster: &Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", pool = 4)]
fn pooled(_cluster: &Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", images = ["debian12", "debian13"], pool = 0, keep_on_failure)]
fn never_pooled_matrix(_cluster: &Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", shared, ready_timeout = "1h")]
#[should_panic]
fn shared_with_a_timeout(_cluster: &Cluster) {}

fn main() {}
