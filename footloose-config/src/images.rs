//! Short image names: `debian12` stands for `footloose/debian12`.

/// The images footloose builds itself, by short name (the same table as
/// `footloose::image::IMAGES`, which a test there holds it to).
///
/// ```
/// for name in footloose_config::images::SHORT_NAMES {
///     assert_eq!(footloose_config::images::resolve(name), Some(format!("footloose/{name}")));
/// }
/// ```
pub const SHORT_NAMES: [&str; 14] = [
    "debian11",
    "debian12",
    "debian13",
    "ubuntu22.04",
    "ubuntu24.04",
    "rocky8",
    "rocky9",
    "alma8",
    "alma9",
    "fedora",
    "leap15.6",
    "leap16.0",
    "arch",
    "amazon2023",
];

/// `image` with a short name made a full reference, anything else as it
/// is (a bare word such as `ubuntu` is a registry's image): how a config
/// file's `image:` is read.
///
/// ```
/// use footloose_config::images::expand;
///
/// assert_eq!(expand("rocky9"), "footloose/rocky9");
/// assert_eq!(expand("ubuntu"), "ubuntu");
/// assert_eq!(expand("quay.io/footloose/centos7"), "quay.io/footloose/centos7");
/// ```
pub fn expand(image: &str) -> String {
    if SHORT_NAMES.contains(&image) {
        format!("footloose/{image}")
    } else {
        image.to_owned()
    }
}

/// The full reference of `image`: short names gain the `footloose/`
/// prefix, anything else is returned as it is. `None` for a bare word that
/// is no known short name (a likely typo).
///
/// ```
/// use footloose_config::images::resolve;
///
/// assert_eq!(resolve("debian13").as_deref(), Some("footloose/debian13"));
/// assert_eq!(resolve("ubuntu:24.04").as_deref(), Some("ubuntu:24.04"));
/// assert_eq!(resolve("debain12"), None);
/// ```
pub fn resolve(image: &str) -> Option<String> {
    if SHORT_NAMES.contains(&image) {
        return Some(format!("footloose/{image}"));
    }
    let bare_word = !image.contains(['/', ':', '@']);
    if bare_word || image.is_empty() {
        None
    } else {
        Some(image.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn short_names_and_references() {
        assert_eq!(resolve("debian11").as_deref(), Some("footloose/debian11"));
        assert_eq!(resolve("ubuntu:24.04").as_deref(), Some("ubuntu:24.04"));
        assert_eq!(
            resolve("registry.local/x").as_deref(),
            Some("registry.local/x")
        );
        assert_eq!(resolve("debian10"), None);
        assert_eq!(resolve("rocky9").as_deref(), Some("footloose/rocky9"));
        assert_eq!(
            resolve("ubuntu24.04").as_deref(),
            Some("footloose/ubuntu24.04")
        );
        assert_eq!(resolve("ubuntu").as_deref(), None);
    }
}
