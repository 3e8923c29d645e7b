//! Names for clusters that must not collide.

use std::sync::atomic::{AtomicU32, Ordering};

use rand_core::{OsRng, RngCore};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// `base` made unique to this process and call: `<base>-<random>-<n>`,
/// short enough for container names, valid as a cluster name.
///
/// ```
/// let a = footloose::unique_cluster_name("web");
/// let b = footloose::unique_cluster_name("web");
/// assert!(a.starts_with("web-") && a != b);
/// assert!(footloose::config::is_valid_cluster_name(&a));
/// ```
pub fn unique_cluster_name(base: &str) -> String {
    let base: String = base.chars().take(20).collect();
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let tag = OsRng.next_u32() & 0xff_ffff;
    format!("{base}-{tag:06x}-{n}")
}

/// A random id, unique enough to tell apart the `create` calls of every
/// process on an engine.
pub(crate) fn random_id() -> String {
    format!("{:016x}", OsRng.next_u64())
}

#[cfg(test)]
mod tests {
    use super::unique_cluster_name;
    use footloose_config::is_valid_cluster_name;

    #[test]
    fn unique_names_differ_and_stay_valid() {
        let a = unique_cluster_name("a-rather-long-cluster-name-for-tests");
        let b = unique_cluster_name("a-rather-long-cluster-name-for-tests");
        assert_ne!(a, b);
        assert!(is_valid_cluster_name(&a), "{a}");
    }
}
