//! Reading a configuration: parsing, then validating, with every problem
//! located in the file. It stands above both `model` (the types) and
//! `validate` (the checks), so that neither of them needs the other's caller.

use std::path::Path;

use crate::error::ConfigError;
use crate::locate::Locations;
use crate::model::Config;
use crate::validate;

impl Config {
    /// Parses and validates `text`; `file` names it in error messages.
    ///
    /// ```
    /// use footloose_config::Config;
    ///
    /// let yaml = "cluster:\n  name: demo\nmachines:\n- count: 2\n  spec:\n    image: footloose/debian12\n    name: node%d\n";
    /// let config = Config::from_yaml(yaml, "footloose.yaml").unwrap();
    /// assert_eq!(config.cluster.private_key, "cluster-key");
    ///
    /// let err = Config::from_yaml("cluster:\n  name: demo\n  colour: red\n", "footloose.yaml")
    ///     .unwrap_err();
    /// assert!(err.to_string().starts_with("footloose.yaml:3:3: cluster: unknown field `colour`"));
    /// ```
    pub fn from_yaml(text: &str, file: &str) -> Result<Config, ConfigError> {
        if text.trim().is_empty() {
            return Err(ConfigError::at(
                file,
                None,
                "",
                "the file is empty: a config needs a `cluster:` section (footloose config create writes one)",
            ));
        }
        let mut config: Config =
            serde_yaml::from_str(text).map_err(|e| ConfigError::from_yaml(file, &e))?;
        let problems = validate::check(&config);
        if let Some(problem) = problems.into_iter().next() {
            let locations = Locations::index(text);
            return Err(ConfigError::at(
                file,
                locations.find(&problem.field),
                problem.field,
                problem.message,
            ));
        }
        // `image: rocky9` names footloose's own image.
        for entry in &mut config.machines {
            entry.spec.image = crate::images::expand(&entry.spec.image);
        }
        Ok(config)
    }

    /// Reads, parses and validates the file at `path`.
    ///
    /// ```no_run
    /// let config = footloose_config::Config::load("footloose.yaml".as_ref())?;
    /// println!("{} machine(s)", config.machines().count());
    /// # Ok::<(), footloose_config::ConfigError>(())
    /// ```
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        Config::from_yaml(&text, &path.display().to_string())
    }
}
