//! footloose re-exported whole, as a crate of shared test support would:
//! footloose-macros' tests depend on it as `fl` and write
//! `#[fl::cluster("…", crate = "fl")]`, so that the attribute is reached
//! through a name other than `footloose`. (Cargo refuses one package as
//! two dependencies of one crate, so `fl` cannot be footloose itself.)

pub use footloose::*;
