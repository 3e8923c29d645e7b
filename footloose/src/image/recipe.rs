//! The Dockerfile that turns a base image into a footloose machine image:
//! one template for footloose's own images (`images/<name>/Dockerfile` is
//! this text, checked by a test) and for images it adapts.

use crate::distro::PackageManager;

/// What a Dockerfile is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Recipe {
    /// Comment lines at the top, without their `# `.
    pub(crate) header: Vec<String>,
    /// The default of `ARG BASE`: the image it builds on.
    pub(crate) base: String,
    /// The packages to install (those missing), and with what.
    pub(crate) install: Option<(PackageManager, Vec<&'static str>)>,
    /// Building on an image that is not a plain distribution: run as root
    /// and drop its entrypoint, so that PID 1 is systemd.
    pub(crate) foreign_base: bool,
}

impl Recipe {
    /// The Dockerfile's text. Its build context holds `common/setup.sh`.
    pub(crate) fn dockerfile(&self) -> String {
        let mut text = String::new();
        for line in &self.header {
            text.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
        }
        text.push_str(&format!("ARG BASE={}\nFROM ${{BASE}}\n", self.base));
        if self.foreign_base {
            text.push_str("USER root\n");
        }
        text.push_str("ENV container=docker\n");
        if let Some((manager, packages)) = &self.install {
            text.push_str(&format!("RUN {}\n", manager.install_command(packages)));
        }
        text.push_str(
            "COPY common/setup.sh /usr/local/sbin/footloose-setup\n\
             RUN sh /usr/local/sbin/footloose-setup && rm /usr/local/sbin/footloose-setup\n\
             # footloose passes the keys in the environment (see footloose-boot).\n\
             LABEL io.footloose.keys=\"env\"\n\
             STOPSIGNAL SIGRTMIN+3\n",
        );
        if self.foreign_base {
            text.push_str("ENTRYPOINT []\n");
        }
        text.push_str("CMD [\"/sbin/init\"]\n");
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recipe_installs_before_the_set_up_and_boots_systemd() {
        let recipe = Recipe {
            header: vec!["title".into(), String::new(), "more".into()],
            base: "ubuntu:24.04".into(),
            install: Some((PackageManager::Apt, vec!["openssh-server"])),
            foreign_base: false,
        };
        let text = recipe.dockerfile();
        assert!(text.starts_with("# title\n#\n# more\nARG BASE=ubuntu:24.04\nFROM ${BASE}\n"));
        let install = text.find("apt-get install").unwrap();
        let setup = text.find("RUN sh /usr/local/sbin/footloose-setup").unwrap();
        assert!(install < setup, "{text}");
        assert!(text.ends_with("STOPSIGNAL SIGRTMIN+3\nCMD [\"/sbin/init\"]\n"));
        assert!(!text.contains("USER root"));
        assert!(!text.contains("ENTRYPOINT"));
    }

    #[test]
    fn a_foreign_base_runs_as_root_without_its_entrypoint() {
        let recipe = Recipe {
            header: vec![],
            base: "acme/app:1".into(),
            install: None,
            foreign_base: true,
        };
        let text = recipe.dockerfile();
        assert!(text.contains("FROM ${BASE}\nUSER root\n"), "{text}");
        assert!(
            text.contains("ENTRYPOINT []\nCMD [\"/sbin/init\"]\n"),
            "{text}"
        );
        assert!(!text.contains("missing="), "{text}");
    }
}
