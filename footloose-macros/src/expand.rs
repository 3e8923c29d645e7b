//! What the attribute turns a function into.

use std::path::PathBuf;

use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, LitStr};

use crate::args::Args;
use crate::signature;

pub fn expand(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let args: Args = syn::parse2(args)?;
    let function: ItemFn = syn::parse2(item)?;
    signature::check(&function)?;
    let config_path = resolve_and_check(&args.path)?;
    let config_path = config_path.display().to_string();
    // FOOTLOOSE_IMAGES replaces a matrix's images (its tests are named
    // after them); a plain test keeps its name and runs on each in turn.
    let (images, plain_images) = match (images_from_env()?, args.images.is_empty()) {
        (Some(env), false) => (env, Vec::new()),
        (Some(env), true) => (Vec::new(), env),
        (None, _) => (args.images, Vec::new()),
    };
    // Makes rustc record the variable, so that cargo rebuilds the tests
    // when it changes and the matrix follows it.
    let track_env = quote! {
        const _: ::core::option::Option<&'static str> = ::core::option_env!(#IMAGES_ENV);
    };

    let name = &function.sig.ident;
    let test_name_literal = name.to_string();
    let attributes = &function.attrs;
    let visibility = &function.vis;
    let mut body_fn = function.clone();
    body_fn.attrs.clear();
    body_fn.vis = syn::Visibility::Inherited;
    body_fn.sig.ident = format_ident!("__footloose_body");
    let is_async = function.sig.asyncness.is_some();
    let shared = args.shared;
    // Checked in every build, not only under `cargo test`, so that a wrong
    // return type is an error at the type wherever the crate compiles.
    let return_check = match &function.sig.output {
        syn::ReturnType::Default => quote!(),
        syn::ReturnType::Type(_, ty) => quote_spanned! {ty.span()=>
            const _: fn() = || {
                fn footloose_test_result<T: ::footloose::testing::TestResult>() {}
                footloose_test_result::<#ty>();
            };
        },
    };

    // The test binary's hooks (the watchdog's start-up, the removals at
    // exit): the library installs none itself. Each test brings a pair, in
    // a block of its own; the bodies run once however many there are.
    let hooks = quote! {
        #[cfg(test)]
        const _: () = {
            #[::footloose::__private::ctor::ctor(crate_path = ::footloose::__private::ctor)]
            unsafe fn footloose_on_start() {
                ::footloose::__private::on_start();
            }
            #[::footloose::__private::dtor::dtor(crate_path = ::footloose::__private::dtor)]
            unsafe fn footloose_on_exit() {
                ::footloose::__private::on_exit();
            }
        };
    };

    let run = |test_name: String, image: Option<&str>| {
        let image = match image {
            Some(image) => quote!(::core::option::Option::Some(#image)),
            None => quote!(::core::option::Option::None),
        };
        let call = if is_async {
            quote!(|cluster| ::footloose::testing::block_on_test(__footloose_body(cluster)))
        } else {
            quote!(__footloose_body)
        };
        quote! {
            ::footloose::testing::run_test(
                ::footloose::testing::TestSpec {
                    test_name: #test_name,
                    config_path: #config_path,
                    config_text: ::core::include_str!(#config_path),
                    image: #image,
                    shared: #shared,
                },
                #call,
            )
        }
    };

    if images.is_empty() {
        let body = if plain_images.is_empty() {
            run(name.to_string(), None)
        } else {
            let runs = plain_images.iter().map(|(_, reference)| {
                let run = run(name.to_string(), Some(reference));
                quote! {
                    ::std::eprintln!("footloose: {} on {}", #test_name_literal, #reference);
                    #run;
                }
            });
            quote!(#(#runs)*)
        };
        return Ok(quote! {
            #track_env
            #return_check
            #hooks
            #[test]
            #(#attributes)*
            #visibility fn #name() {
                #body_fn
                #body
            }
        });
    }

    let tests = images.iter().map(|(literal, reference)| {
        let test = test_ident(literal, reference);
        let body = run(format!("{name}-{test}"), Some(reference));
        quote! {
            #[test]
            #(#attributes)*
            fn #test() {
                #body
            }
        }
    });
    Ok(quote! {
        #hooks
        #visibility mod #name {
            #[allow(unused_imports)]
            use super::*;
            #track_env
            #return_check
            #body_fn
            #(#tests)*
        }
    })
}

/// The variable that replaces every cluster test's images, for CI matrices.
const IMAGES_ENV: &str = "FOOTLOOSE_IMAGES";

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

/// Resolves the path against the crate's manifest directory and checks the
/// file, so that a missing or invalid config fails the build at the path.
fn resolve_and_check(path: &LitStr) -> syn::Result<PathBuf> {
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

    /// Runs `f` with FOOTLOOSE_IMAGES set to `value` (or unset), one test
    /// at a time: the variable is the process's.
    fn with_images<T>(value: Option<&str>, f: impl FnOnce() -> T) -> T {
        static ENV: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = ENV.lock().unwrap_or_else(|e| e.into_inner());
        match value {
            Some(value) => std::env::set_var(IMAGES_ENV, value),
            None => std::env::remove_var(IMAGES_ENV),
        }
        let result = f();
        std::env::remove_var(IMAGES_ENV);
        result
    }

    fn expanded(images: Option<&str>, attribute: TokenStream, function: TokenStream) -> String {
        with_images(images, || expand(attribute, function))
            .unwrap()
            .to_string()
    }

    #[test]
    fn footloose_images_replaces_a_matrix_and_is_tracked() {
        let attribute = quote!("tests/ui/footloose.yaml", images = ["debian11", "debian12"]);
        let function = quote!(
            fn boots(cluster: &::footloose::Cluster) {}
        );
        let matrix = expanded(
            Some("debian13, footloose/debian12"),
            attribute.clone(),
            function.clone(),
        );
        assert!(matrix.contains("fn debian13"), "{matrix}");
        assert!(matrix.contains("fn footloose_debian12"), "{matrix}");
        assert!(!matrix.contains("fn debian11"), "{matrix}");
        assert!(matrix.contains("option_env !"), "{matrix}");

        let unknown = with_images(Some("debian99"), || {
            expand(attribute.clone(), function.clone())
        })
        .unwrap_err()
        .to_string();
        assert!(unknown.contains("unknown image `debian99`"), "{unknown}");

        let plain = expanded(None, attribute, function);
        assert!(
            plain.contains("fn debian11") && plain.contains("fn debian12"),
            "{plain}"
        );
        assert!(plain.contains("option_env !"), "{plain}");
    }

    #[test]
    fn a_plain_test_keeps_its_name_and_runs_on_each_image() {
        let attribute = quote!("tests/ui/footloose.yaml");
        let function = quote!(
            fn reads(cluster: &::footloose::Cluster) {}
        );
        let expanded = expanded(Some("debian12,debian13"), attribute, function);
        assert!(expanded.contains("fn reads ()"), "{expanded}");
        assert!(!expanded.contains("mod reads"), "{expanded}");
        assert_eq!(expanded.matches("run_test").count(), 2, "{expanded}");
        assert!(expanded.contains("\"footloose/debian13\""), "{expanded}");
    }
}
