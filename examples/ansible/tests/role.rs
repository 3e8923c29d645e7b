//! The hello_http role, tested the way Molecule would: converge, check
//! idempotence, verify from outside and inside the machine, and check mode
//! after converging, on each image.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use footloose::ansible::Playbook;
use footloose::Cluster;

#[footloose::cluster("footloose.yaml", images = ["debian11", "debian12", "debian13"])]
fn hello_http_converges_idempotently_and_serves(cluster: &Cluster) -> footloose::Result<()> {
    let site = Playbook::new("site.yml").extra_var("hello_http_message", "Hello from a test");

    let converge = site.run(cluster)?;
    assert!(
        converge.recap["web0"].changed >= 3,
        "a first run installs the page, the unit and starts it:\n{}",
        converge.stdout
    );
    site.assert_idempotent(cluster)?;

    // From outside: the published port answers from the host.
    let web = cluster.machine("web0");
    let port = web.host_port(8080).expect("8080 is published");
    let page = http_get(port);
    assert!(page.contains("Hello from a test"), "{page}");

    // From inside: the unit is active, enabled, and logged no error.
    let unit = web.unit_status("hello-http")?;
    assert!(
        unit.is_active(),
        "{unit}\n{}",
        web.journal("hello-http", 20)?
    );
    let enabled = web.exec("systemctl is-enabled hello-http")?;
    assert_eq!(enabled.stdout().trim(), "enabled");
    let errors = web.journal_errors("hello-http", 20)?;
    assert!(
        errors.trim().is_empty(),
        "hello-http logged errors:\n{errors}"
    );

    // Check mode after converging reports nothing to change.
    let check = site.clone().check(true).run(cluster)?;
    assert_eq!(check.changed(), 0, "{}", check.stdout);
    Ok(())
}

/// The body of `GET /` on the host's `port`.
fn http_get(port: u16) -> String {
    let mut stream =
        TcpStream::connect(("127.0.0.1", port)).expect("connect to the published port");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}
