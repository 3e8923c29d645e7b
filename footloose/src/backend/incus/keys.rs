//! footloose's labels as Incus config keys, and back. Incus has no labels:
//! an instance's `user.*` keys are free for its user. footloose's own
//! labels (`io.footloose.NAME`) become `user.footloose.NAME`; any other
//! label (the config's `labels:`) becomes `user.label.KEY`.

use std::collections::HashMap;

/// The key that holds the image reference a machine was created from.
pub(super) const IMAGE: &str = "user.image";

const OURS: &str = "io.footloose.";
const OURS_AS_KEY: &str = "user.footloose.";
const OTHER_AS_KEY: &str = "user.label.";

/// The config key of label `label`.
pub(super) fn key(label: &str) -> String {
    match label.strip_prefix(OURS) {
        Some(name) => format!("{OURS_AS_KEY}{name}"),
        None => format!("{OTHER_AS_KEY}{label}"),
    }
}

/// The config keys of `labels`.
pub(super) fn config(
    labels: &HashMap<String, String>,
) -> impl Iterator<Item = (String, String)> + '_ {
    labels
        .iter()
        .map(|(label, value)| (key(label), value.clone()))
}

/// The labels an instance's (or network's, or volume's) config holds.
pub(super) fn labels(config: &HashMap<String, String>) -> HashMap<String, String> {
    config
        .iter()
        .filter_map(|(key, value)| {
            let label = if let Some(name) = key.strip_prefix(OURS_AS_KEY) {
                format!("{OURS}{name}")
            } else {
                key.strip_prefix(OTHER_AS_KEY)?.to_owned()
            };
            Some((label, value.clone()))
        })
        .collect()
}

/// Whether `config` carries every `key=value` label of `selector` (a
/// label written without `=` asks only that it be there).
pub(super) fn matches(config: &HashMap<String, String>, selector: &[String]) -> bool {
    selector.iter().all(|wanted| match wanted.split_once('=') {
        Some((label, value)) => config.get(&key(label)).map(String::as_str) == Some(value),
        None => config.contains_key(&key(wanted)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_round_trip_through_user_keys() {
        let labels = HashMap::from([
            ("io.footloose.cluster".to_owned(), "demo".to_owned()),
            ("team".to_owned(), "infra".to_owned()),
        ]);
        let config: HashMap<String, String> = config(&labels).collect();
        assert_eq!(
            config.get("user.footloose.cluster").map(String::as_str),
            Some("demo")
        );
        assert_eq!(
            config.get("user.label.team").map(String::as_str),
            Some("infra")
        );
        let mut with_incus_keys = config.clone();
        with_incus_keys.insert("volatile.uuid".to_owned(), "x".to_owned());
        with_incus_keys.insert(IMAGE.to_owned(), "footloose/debian12".to_owned());
        assert_eq!(super::labels(&with_incus_keys), labels);
        assert!(matches(
            &config,
            &["io.footloose.cluster=demo".to_owned(), "team".to_owned()]
        ));
        assert!(!matches(
            &config,
            &["io.footloose.cluster=other".to_owned()]
        ));
    }
}
