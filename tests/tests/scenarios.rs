//! What users test with footloose: a systemd unit they ship, and Docker
//! running inside a machine.

use std::time::Duration;

use footloose::Cluster;

#[footloose::cluster("footloose.yaml")]
fn a_shipped_systemd_unit_starts_and_serves(cluster: &Cluster) {
    let node = cluster.machine("node0");
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
    node.copy_to(
        format!("{data}/hello.service"),
        "/etc/systemd/system/hello.service",
    )
    .unwrap();
    node.copy_to(format!("{data}/site"), "/srv/hello").unwrap();
    node.exec("systemctl daemon-reload && systemctl enable --now hello")
        .unwrap()
        .checked()
        .unwrap();
    node.wait_for_unit("hello", Duration::from_secs(20))
        .unwrap();
    let page = (0..50)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(100));
            node.exec("curl -sf http://localhost:8000/").unwrap()
        })
        .find(|out| out.success())
        .expect("the unit answered");
    assert_eq!(page.stdout(), "hello from a unit\n");
}

#[footloose::cluster("../examples/docker-in-machine.yaml")]
fn docker_runs_inside_a_machine_without_privileged(cluster: &Cluster) {
    let node = cluster.machine("docker0");
    node.exec_with(
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io",
        b"",
        Duration::from_secs(600),
    )
    .unwrap()
    .checked()
    .unwrap();
    // No registry is needed: an image made from the machine's own /bin/echo.
    let out = node
        .exec(
            r#"set -e
            mkdir -p /r/bin && cp /bin/echo /r/bin/
            for lib in $(ldd /bin/echo | grep -o '/[^ ]*'); do mkdir -p /r$(dirname $lib); cp $lib /r$lib; done
            tar -C /r -c . | docker import - hello >/dev/null
            docker run --rm hello /bin/echo 'Hello, World!'"#,
        )
        .unwrap();
    assert!(out.success(), "{}", out.stderr());
    assert_eq!(out.stdout(), "Hello, World!\n");
}
