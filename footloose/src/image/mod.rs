//! footloose's machine images: which exist, and making them present.
//!
//! An image is `images/<name>/Dockerfile` (plus `images/common/setup.sh`),
//! built on `ARG BASE`. With a registry, BASE is the official `debian:*`
//! image. Without one, footloose makes the base itself: `mmdebstrap` streams
//! a minimal Debian root file system into an image import through the API,
//! tagged `footloose/base:<suite>`. The Dockerfile layer is then built on it
//! through the API. A file lock makes concurrent builders wait for the first.
//!
//! ```no_run
//! # async fn demo() -> footloose::Result<()> {
//! use footloose::image::{self, BuildOutcome};
//!
//! let engine = footloose::engine::Engine::connect().await?;
//! for definition in image::IMAGES {
//!     if !image::exists(&engine, &definition.reference()).await? {
//!         println!("{} is missing", definition.reference());
//!     }
//! }
//! // Built (footloose's own images), pulled (any other), or already there.
//! let outcome = image::ensure(&engine, "footloose/debian13").await?;
//! assert_ne!(outcome, BuildOutcome::Pulled);
//! # Ok(()) }
//! ```

mod adapt;
mod base;
mod build;
mod catalog;
mod prepare;
mod recipe;

pub use crate::distro::{AdaptError, Adaptation, Family, Need, OsRelease, PackageManager, Probe};
pub use adapt::{adapt, adapt_with, adapted_reference, Adapted, ADAPTED_PREFIX};
pub use base::exists;
pub(crate) use base::tail;
pub use build::{build, build_with, ensure, ensure_with, BuildOutcome};
pub use catalog::{definition, ImageDefinition, IMAGES};
pub use prepare::{prepare, prepare_with, Prepared};
pub use recipe::Recipe;
