//! What the attribute turns a function into.

use std::path::PathBuf;

use proc_macro2::{Ident, TokenStream};
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

    let name = &function.sig.ident;
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

    if args.images.is_empty() {
        let body = run(name.to_string(), None);
        return Ok(quote! {
            #return_check
            #[test]
            #(#attributes)*
            #visibility fn #name() {
                #body_fn
                #body
            }
        });
    }

    let tests = args.images.iter().map(|(literal, reference)| {
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
        #visibility mod #name {
            #[allow(unused_imports)]
            use super::*;
            #return_check
            #body_fn
            #(#tests)*
        }
    })
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
