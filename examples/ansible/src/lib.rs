//! An Ansible role, `roles/hello_http`, and its tests in `tests/role.rs`:
//! converge, idempotence, verify from outside and inside the machine, and
//! check mode, on Debian 11, 12 and 13. Run them with
//! `cargo test -p footloose-example-ansible`.
