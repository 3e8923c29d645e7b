use footloose::Cluster;

#[footloose::cluster("tests/ui/footloose.yaml")]
fn sync_test(cluster: &Cluster) {
    let _ = cluster.machine("node0");
}

#[footloose::cluster("tests/ui/footloose.yaml")]
async fn async_test(cluster: &Cluster) {
    let _ = cluster.machine("node0").exec_async("true").await;
}

#[footloose::cluster("tests/ui/footloose.yaml")]
fn result_test(cluster: &Cluster) -> footloose::Result<()> {
    cluster.machine("node0").exec("true")?;
    Ok(())
}

#[footloose::cluster("tests/ui/footloose.yaml")]
async fn async_result_test(_cluster: &Cluster) -> Result<(), String> {
    Ok(())
}

#[footloose::cluster("tests/ui/footloose.yaml", images = ["debian11", "debian13", "ubuntu:24.04"])]
fn matrix(cluster: &Cluster) {
    let _ = cluster.name();
}

#[footloose::cluster("tests/ui/footloose.yaml", shared)]
#[ignore = "attributes pass through"]
fn shared_test(_cluster: &Cluster) {}

#[footloose::cluster("tests/ui/footloose.yaml", images = ["debian12"], shared,)]
fn shared_matrix(_cluster: &Cluster) {}

fn main() {}
