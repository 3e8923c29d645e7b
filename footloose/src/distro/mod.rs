//! Linux distributions as footloose meets them in images: which one an
//! image holds (its os-release), its family's package manager and package
//! names, and what adapting an image takes. Pure data and decisions; the
//! image module acts on them.

mod adaptation;
mod family;
mod os_release;

pub use adaptation::{AdaptError, Adaptation, Probe};
pub use family::{Family, Need, PackageManager};
pub use os_release::OsRelease;
