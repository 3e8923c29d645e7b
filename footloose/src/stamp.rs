//! Stamps: empty files in footloose's lock directory whose modification
//! time says when something was last done on this host, so that processes
//! that each would do it (a sweep, starting a refiller) do it once per
//! interval between them.

use std::path::Path;
use std::time::{Duration, SystemTime};

/// Whether what the stamp `path` times is due at `now` (never done, or
/// `every` ago or longer); when due, the stamp is renewed to `now`. Two
/// processes may both find it due at once: what a stamp guards must be
/// safe to do twice.
pub(crate) fn due(path: &Path, every: Duration, now: SystemTime) -> bool {
    let last = std::fs::metadata(path).and_then(|m| m.modified()).ok();
    let due = last.is_none_or(|last| {
        now.duration_since(last)
            .map_or(true, |since| since >= every)
    });
    if due {
        let renewed = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::File::create(path))
            .and_then(|file| file.set_modified(now));
        if let Err(err) = renewed {
            tracing::debug!("Cannot renew the stamp {}: {err}", path.display());
        }
    }
    due
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::due;

    #[test]
    fn a_stamp_is_due_once_per_interval() {
        let dir =
            std::env::temp_dir().join(format!("footloose-stamp-{}", crate::naming::random_id()));
        let stamp = dir.join("thing.stamp");
        let every = Duration::from_secs(10);
        let now = SystemTime::now();
        assert!(due(&stamp, every, now), "never done");
        assert!(!due(&stamp, every, now + Duration::from_secs(1)));
        assert!(!due(&stamp, every, now + every - Duration::from_secs(1)));
        assert!(due(&stamp, every, now + every));
        assert!(!due(&stamp, every, now + every + Duration::from_secs(1)));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
