//! footloose's image recipes as Dockerfiles: the text of
//! `images/<name>/Dockerfile` (a test checks each file against its
//! recipe) and its build context, laid out as in `images/`.

use crate::archive::{self, Entry};
use crate::error::{Error, Result};
use crate::image::Recipe;

/// The Dockerfile's path in the build context.
pub(super) const PATH: &str = "Dockerfile";

/// The Dockerfile of `recipe`. Its build context holds `common/setup.sh`.
pub(crate) fn render(recipe: &Recipe) -> String {
    let mut text = String::new();
    for line in &recipe.header {
        text.push_str(&format!("# {line}\n").replace("# \n", "#\n"));
    }
    text.push_str(&format!("ARG BASE={}\nFROM ${{BASE}}\n", recipe.base));
    if recipe.foreign_base {
        text.push_str("USER root\n");
    }
    text.push_str("ENV container=docker\n");
    if let Some((manager, packages)) = &recipe.install {
        text.push_str(&format!("RUN {}\n", manager.install_command(packages)));
    }
    text.push_str(
        "COPY common/setup.sh /usr/local/sbin/footloose-setup\n\
         RUN sh /usr/local/sbin/footloose-setup && rm /usr/local/sbin/footloose-setup\n\
         # footloose passes the keys in the environment (see footloose-boot).\n\
         LABEL io.footloose.keys=\"env\"\n\
         STOPSIGNAL SIGRTMIN+3\n",
    );
    if recipe.foreign_base {
        text.push_str("ENTRYPOINT []\n");
    }
    text.push_str("CMD [\"/sbin/init\"]\n");
    text
}

/// The build context of `recipe`: its Dockerfile at [`PATH`] and
/// `common/setup.sh`.
pub(super) fn context(recipe: &Recipe) -> Result<Vec<u8>> {
    archive::pack(&[
        Entry::file(PATH, 0o644, render(recipe).as_bytes()),
        Entry::file("common/setup.sh", 0o755, recipe.setup_script.as_bytes()),
    ])
    .map_err(|source| Error::Pack {
        what: "the build context".to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::distro::PackageManager;

    /// `FOOTLOOSE_BLESS=1 cargo test -p footloose --lib image` writes them.
    #[test]
    fn every_image_file_is_what_its_definition_makes() {
        let images = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("images");
        let bless = std::env::var_os("FOOTLOOSE_BLESS").is_some();
        let mut stale = Vec::new();
        for image in crate::image::IMAGES {
            let made = render(&image.recipe());
            if made == image.dockerfile {
                continue;
            }
            let path = images.join(image.name).join("Dockerfile");
            if bless {
                std::fs::create_dir_all(path.parent().unwrap()).unwrap();
                std::fs::write(&path, made).unwrap();
            }
            stale.push(path.display().to_string());
        }
        assert!(
            bless || stale.is_empty(),
            "out of date (FOOTLOOSE_BLESS=1 rewrites them): {stale:?}"
        );
    }

    #[test]
    fn a_recipe_installs_before_the_set_up_and_boots_systemd() {
        let recipe = Recipe {
            header: vec!["title".into(), String::new(), "more".into()],
            base: "ubuntu:24.04".into(),
            install: Some((PackageManager::Apt, vec!["openssh-server"])),
            foreign_base: false,
            setup_script: "",
        };
        let text = render(&recipe);
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
            setup_script: "",
        };
        let text = render(&recipe);
        assert!(text.contains("FROM ${BASE}\nUSER root\n"), "{text}");
        assert!(
            text.contains("ENTRYPOINT []\nCMD [\"/sbin/init\"]\n"),
            "{text}"
        );
        assert!(!text.contains("missing="), "{text}");
    }
}
