//! What footloose's images do at boot: the per-user manager only where the
//! spec asks for it, logins for every user, and the keys of images that do
//! not take them in the environment copied in instead.

use std::process::Command;
use std::time::Duration;

use footloose::{Cluster, Config};
use footloose_tests::require_docker;

#[footloose::cluster("user-manager.yaml")]
fn the_user_manager_runs_only_where_the_spec_asks(cluster: &Cluster) {
    let plain = cluster.machine("plain0");
    let users = cluster.machine("users0");
    // The first login starts user@0.service where it is wanted.
    let with = users
        .exec("systemctl --user show-environment >/dev/null && systemctl is-active user@0.service")
        .unwrap();
    assert!(with.success(), "{}{}", with.stdout(), with.stderr());
    assert_eq!(with.stdout().trim(), "active");
    let without = plain.exec("systemctl is-active user@0.service").unwrap();
    assert_eq!(without.stdout().trim(), "inactive", "{}", without.stderr());
    assert!(!plain
        .exec("systemctl --user show-environment")
        .unwrap()
        .success());
    // Nothing at boot blocks the logins of users other than root.
    for node in [plain, users] {
        assert!(node.exec("test ! -e /run/nologin").unwrap().success());
        assert_eq!(
            node.exec("systemctl is-system-running")
                .unwrap()
                .stdout()
                .trim(),
            "running"
        );
    }
}

/// An image of footloose's own, except that it does not say it takes the
/// keys in the environment, and asks to run as it is (not adapted):
/// footloose copies the keys in. Tagged per run, as other jobs may share
/// the engine.
const COPIED_KEYS_IMAGE: &str = "footloose-test/copied-keys";

#[test]
fn the_keys_of_an_image_without_the_label_are_copied_in() {
    let engine = require_docker();
    footloose::runtime::block_on(footloose::image::ensure(&engine, "footloose/debian12")).unwrap();
    let context = tempfile::tempdir().unwrap();
    std::fs::write(
        context.path().join("Dockerfile"),
        "FROM footloose/debian12\nLABEL io.footloose.keys=\"\" io.footloose.adapt=\"false\"\n",
    )
    .unwrap();
    let image = format!(
        "{COPIED_KEYS_IMAGE}:{}",
        footloose::unique_cluster_name("run")
    );
    let built = Command::new("docker")
        .args(["build", "-q", "-t", &image])
        .arg(context.path())
        .output()
        .expect("cannot run docker build");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );

    let _image = RemoveImage(image.clone());
    let key = context.path().join("key");
    let guard = Cluster::builder(Config::with_replicas("copied", &image, 1))
        .unique_name()
        .private_key(&key)
        .ready_timeout(Duration::from_secs(120))
        .start()
        .unwrap();
    let node = guard.machine("node0");
    // The keys were copied, not passed: nothing of them is in PID 1's
    // environment.
    let env = node.exec("tr '\\0' '\\n' < /proc/1/environ").unwrap();
    assert!(
        !env.stdout().contains("FOOTLOOSE_HOST_KEY"),
        "{}",
        env.stdout()
    );
    assert!(node
        .exec("test -s /etc/ssh/ssh_host_ed25519_key && test -s /root/.ssh/authorized_keys")
        .unwrap()
        .success());
}

/// Removes an image when dropped, also when the test panics.
struct RemoveImage(String);

impl Drop for RemoveImage {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rmi", "-f", &self.0]).output();
    }
}
