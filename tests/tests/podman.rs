//! Podman as an engine: its Docker-compatible service, rootful, started by
//! this test on a socket of its own. It is detected as Podman, and the
//! smoke suite passes there (machines boot in Podman's systemd mode, `show`
//! names the image as the config does, nothing is left).

use footloose_tests::podman::PodmanService;
use footloose_tests::run_smoke;

#[test]
fn rootful_podman_is_detected_and_passes_the_smoke_suite() {
    let podman = PodmanService::start();
    let engine =
        footloose::runtime::block_on(footloose::engine::Engine::connect_to(&podman.endpoint))
            .unwrap();
    assert_eq!(engine.facts().flavour, footloose::engine::Flavour::Podman);
    run_smoke(env!("CARGO_BIN_EXE_smoke"), "podman", &podman.endpoint);
}
