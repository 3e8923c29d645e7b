//! What turns a base image into a footloose machine image, as data: the
//! packages to install, footloose's set-up script, and the rules for a
//! base that is not a plain distribution. Each backend makes an image of
//! it its own way (Docker's renders it as the Dockerfile that
//! `images/<name>/Dockerfile` holds, checked by a test there).

use crate::distro::PackageManager;

/// What a machine image is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipe {
    /// Comment lines at the top, without their `# `.
    pub(crate) header: Vec<String>,
    /// The image it builds on by default.
    pub(crate) base: String,
    /// The packages to install (those missing), and with what.
    pub(crate) install: Option<(PackageManager, Vec<&'static str>)>,
    /// Building on an image that is not a plain distribution: run as root
    /// and drop its entrypoint, so that PID 1 is systemd.
    pub(crate) foreign_base: bool,
    /// footloose's set-up script (`images/common/setup.sh`), run after the
    /// packages are installed.
    pub(crate) setup_script: &'static str,
}
