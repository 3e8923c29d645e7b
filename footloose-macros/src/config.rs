//! What the attribute reads when the test compiles: the config file,
//! checked through footloose-config so that a missing or invalid file fails
//! the build at its path, and the images, from `images = [...]` and from
//! `FOOTLOOSE_IMAGES`.

use std::path::PathBuf;

use proc_macro2::{Ident, Span};
use syn::LitStr;

use crate::parse::Args;

/// The variable that replaces every cluster test's images, for CI matrices.
pub const IMAGES_ENV: &str = "FOOTLOOSE_IMAGES";

/// The attribute's config and images, resolved.
pub struct Resolved {
    /// The config file's absolute path.
    pub config_path: String,
    /// A matrix: one test per image, named after it, in a module named
    /// after the function. Empty for a plain test.
    pub matrix: Vec<Image>,
    /// The images a plain test runs on in turn (`FOOTLOOSE_IMAGES` on a
    /// test without `images`); empty when it runs on the config's own.
    pub in_turn: Vec<String>,
}

/// One image of a matrix.
pub struct Image {
    /// The test's name: the short name, or the reference made an identifier.
    pub test: Ident,
    /// The full image reference.
    pub reference: String,
}

/// Reads and checks the config file and resolves the images; the error
/// carries every problem found.
pub fn resolve(args: &Args) -> syn::Result<Resolved> {
    let config_path = check_file(&args.path);
    let images = images_of(&args.images);
    let from_env = images_from_env();
    let (config_path, images, from_env) = match (config_path, images, from_env) {
        (Ok(path), Ok(images), Ok(env)) => (path, images, env),
        (path, images, env) => {
            let mut errors = [path.err(), images.err(), env.err()].into_iter().flatten();
            let mut error = errors.next().expect("one of them failed");
            errors.for_each(|more| error.combine(more));
            return Err(error);
        }
    };
    // FOOTLOOSE_IMAGES replaces a matrix's images (its tests are named
    // after them); a plain test keeps its name and runs on each in turn.
    let (matrix, in_turn) = match (from_env, images.is_empty()) {
        (Some(env), false) => (env, Vec::new()),
        (Some(env), true) => (Vec::new(), env),
        (None, _) => (images, Vec::new()),
    };
    Ok(Resolved {
        config_path: config_path.display().to_string(),
        matrix: matrix
            .iter()
            .map(|(literal, reference)| Image {
                test: test_ident(literal, reference),
                reference: reference.clone(),
            })
            .collect(),
        in_turn: in_turn
            .into_iter()
            .map(|(_, reference)| reference)
            .collect(),
    })
}

/// Resolves the path against the crate's manifest directory and checks the
/// file, so that a missing or invalid config fails the build at the path.
fn check_file(path: &LitStr) -> syn::Result<PathBuf> {
    let written = path.value();
    let base = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let full = base.join(&written);
    let text = std::fs::read_to_string(&full).map_err(|e| {
        syn::Error::new(
            path.span(),
            format!("cannot read config file {written} (relative to the crate's Cargo.toml): {e}"),
        )
    })?;
    footloose_config::Config::from_yaml(&text, &written)
        .map_err(|e| syn::Error::new(path.span(), e.to_string()))?;
    Ok(full)
}

/// The images of `images = [...]` with their full references, each error
/// at its literal.
fn images_of(literals: &[LitStr]) -> syn::Result<Vec<(LitStr, String)>> {
    let mut images: Vec<(LitStr, String)> = Vec::new();
    let mut errors: Option<syn::Error> = None;
    let mut fail = |error: syn::Error| match &mut errors {
        Some(errors) => errors.combine(error),
        None => errors = Some(error),
    };
    for image in literals {
        let Some(reference) = footloose_config::images::resolve(&image.value()) else {
            fail(syn::Error::new(
                image.span(),
                format!(
                    "unknown image `{}`: short names are {}; any other image needs a full reference such as `footloose/debian12` or `ubuntu:24.04`",
                    image.value(),
                    footloose_config::images::SHORT_NAMES.join(", ")
                ),
            ));
            continue;
        };
        if images.iter().any(|(_, r)| *r == reference) {
            fail(syn::Error::new(
                image.span(),
                format!("image `{}` is listed twice", image.value()),
            ));
            continue;
        }
        images.push((image.clone(), reference));
    }
    match errors {
        Some(errors) => Err(errors),
        None => Ok(images),
    }
}

/// The images `FOOTLOOSE_IMAGES` names (comma separated short names or
/// references), `None` when it is unset or empty.
fn images_from_env() -> syn::Result<Option<Vec<(LitStr, String)>>> {
    let Ok(value) = std::env::var(IMAGES_ENV) else {
        return Ok(None);
    };
    let mut images: Vec<(LitStr, String)> = Vec::new();
    for name in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let Some(reference) = footloose_config::images::resolve(name) else {
            return Err(syn::Error::new(
                Span::call_site(),
                format!(
                    "{IMAGES_ENV}={value:?} names unknown image `{name}`: short names are {}; any other image needs a full reference such as `footloose/debian12`",
                    footloose_config::images::SHORT_NAMES.join(", ")
                ),
            ));
        };
        if !images.iter().any(|(_, r)| *r == reference) {
            images.push((LitStr::new(name, Span::call_site()), reference));
        }
    }
    Ok((!images.is_empty()).then_some(images))
}

/// The test's name for an image: its short name, or the reference with
/// every other character turned into `_`.
fn test_ident(literal: &LitStr, reference: &str) -> Ident {
    let value = literal.value();
    let source = if footloose_config::images::SHORT_NAMES.contains(&value.as_str()) {
        value
    } else {
        reference.to_owned()
    };
    let mut name: String = source
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert(0, '_');
    }
    Ident::new(&name, literal.span())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_become_test_names() {
        let name = |image: &str| {
            let literal = LitStr::new(image, Span::call_site());
            let reference = footloose_config::images::resolve(image).unwrap();
            test_ident(&literal, &reference).to_string()
        };
        assert_eq!(name("debian12"), "debian12");
        assert_eq!(name("ubuntu:24.04"), "ubuntu_24_04");
        assert_eq!(name("9.io/x"), "_9_io_x");
    }

    #[test]
    fn every_bad_image_is_named_at_once() {
        let literals = [
            LitStr::new("debian10", Span::call_site()),
            LitStr::new("debian12", Span::call_site()),
            LitStr::new("footloose/debian12", Span::call_site()),
        ];
        let errors: Vec<String> = images_of(&literals)
            .err()
            .unwrap()
            .into_iter()
            .map(|e| e.to_string())
            .collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("unknown image `debian10`"));
        assert!(errors[1].contains("`footloose/debian12` is listed twice"));
    }
}
