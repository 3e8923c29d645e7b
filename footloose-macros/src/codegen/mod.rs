//! The tokens the attribute emits, from what [`crate::parse`] read and
//! [`crate::config`] resolved. Every path to footloose goes through the
//! crate path ([`paths`]); the test attribute is spelled
//! `::core::prelude::v1::test` so that no `test` macro in scope can take
//! its place.

mod fallback;
mod hooks;
mod paths;

pub use fallback::{function_and_errors, item_and_errors};

use std::time::Duration;

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, Path};

use crate::config::{Image, Resolved, IMAGES_ENV};
use crate::parse::Args;

/// The tests for `function`: a test named after it, or for a matrix a
/// module named after it with one test per image; with them the checks
/// made in every build and the binary's hooks.
pub fn tests(function: &ItemFn, args: &Args, resolved: &Resolved) -> TokenStream {
    let krate = paths::krate(args.krate.as_ref(), Span::call_site());
    let checks = checks(function, args.krate.as_ref());
    let hooks = hooks::install(&krate);
    let run = Run {
        config_path: &resolved.config_path,
        shared: args.shared,
        ready_timeout: args.ready_timeout,
        keep_on_failure: args.keep_on_failure,
        pool: args.pool,
        is_async: function.sig.asyncness.is_some(),
    };
    let tests = if resolved.matrix.is_empty() {
        plain(function, &krate, &run, &resolved.in_turn)
    } else {
        matrix(function, &krate, &run, &resolved.matrix)
    };
    quote! {
        #checks
        #hooks
        #tests
    }
}

/// The test named after the function, its body inside: run on the config's
/// images, or on each of `in_turn`.
fn plain(function: &ItemFn, krate: &Path, run: &Run, in_turn: &[String]) -> TokenStream {
    let ItemFn { attrs, vis, .. } = function;
    let name = &function.sig.ident;
    let test_name = name.to_string();
    let body_fn = body_fn(function);
    let body = if in_turn.is_empty() {
        run.call(krate, &test_name, None)
    } else {
        let runs = in_turn.iter().map(|reference| {
            let run = run.call(krate, &test_name, Some(reference));
            quote! {
                ::std::eprintln!("footloose: {} on {}", #test_name, #reference);
                #run;
            }
        });
        quote!(#(#runs)*)
    };
    quote! {
        #[::core::prelude::v1::test]
        #(#attrs)*
        #vis fn #name() {
            #body_fn
            #body
        }
    }
}

/// The module named after the function: its body, and one test per image
/// named after the image.
fn matrix(function: &ItemFn, krate: &Path, run: &Run, images: &[Image]) -> TokenStream {
    let ItemFn { attrs, vis, .. } = function;
    let name = &function.sig.ident;
    let body_fn = body_fn(function);
    let krate = paths::from_child(krate);
    let tests = images.iter().map(|image| {
        let test = &image.test;
        let body = run.call(&krate, &format!("{name}-{test}"), Some(&image.reference));
        quote! {
            #[::core::prelude::v1::test]
            #(#attrs)*
            fn #test() {
                #body
            }
        }
    });
    quote! {
        #vis mod #name {
            #[allow(unused_imports)]
            use super::*;
            #body_fn
            #(#tests)*
        }
    }
}

/// The user's function as the body the tests call, `__footloose_body`.
fn body_fn(function: &ItemFn) -> ItemFn {
    let mut body_fn = function.clone();
    body_fn.attrs.clear();
    body_fn.vis = syn::Visibility::Inherited;
    body_fn.sig.ident = format_ident!("__footloose_body");
    body_fn
}

/// Items checked in every build, not only under `cargo test`: the
/// variable rustc records so that cargo rebuilds the tests when
/// `FOOTLOOSE_IMAGES` changes, and the return type, an error at the type
/// wherever the crate compiles (and a crate path that reaches no
/// footloose, at the path).
fn checks(function: &ItemFn, given_krate: Option<&Path>) -> TokenStream {
    let return_check = match &function.sig.output {
        syn::ReturnType::Default => {
            let krate = paths::krate(given_krate, Span::call_site());
            quote! {
                const _: fn() = || {
                    fn footloose_test_result<T: #krate::testing::TestResult>() {}
                    footloose_test_result::<()>();
                };
            }
        }
        syn::ReturnType::Type(_, ty) => {
            // The bound's error is the type's.
            let krate = paths::krate(given_krate, ty.span());
            quote_spanned! {ty.span()=>
                const _: fn() = || {
                    fn footloose_test_result<T: #krate::testing::TestResult>() {}
                    footloose_test_result::<#ty>();
                };
            }
        }
    };
    quote! {
        const _: ::core::option::Option<&'static str> = ::core::option_env!(#IMAGES_ENV);
        #return_check
    }
}

/// What every run of the body shares.
struct Run<'a> {
    config_path: &'a str,
    shared: bool,
    ready_timeout: Option<Duration>,
    keep_on_failure: bool,
    pool: Option<usize>,
    is_async: bool,
}

impl Run<'_> {
    /// The call running the body on a cluster of `image` (the config's own
    /// images when `None`), reaching footloose by `krate`.
    fn call(&self, krate: &Path, test_name: &str, image: Option<&str>) -> TokenStream {
        let image = match image {
            Some(image) => quote!(::core::option::Option::Some(#image)),
            None => quote!(::core::option::Option::None),
        };
        let ready_timeout = match self.ready_timeout {
            Some(timeout) => {
                let millis = Literal::u64_suffixed(timeout.as_millis() as u64);
                quote!(::core::option::Option::Some(::core::time::Duration::from_millis(#millis)))
            }
            None => quote!(::core::option::Option::None),
        };
        let pool = match self.pool {
            Some(size) => {
                let size = Literal::usize_suffixed(size);
                quote!(::core::option::Option::Some(#size))
            }
            None => quote!(::core::option::Option::None),
        };
        let body = if self.is_async {
            quote!(|cluster| #krate::testing::block_on_test(__footloose_body(cluster)))
        } else {
            quote!(__footloose_body)
        };
        let Run {
            config_path,
            shared,
            keep_on_failure,
            ..
        } = self;
        quote! {
            #krate::testing::run_test(
                #krate::testing::TestSpec {
                    test_name: #test_name,
                    config_path: #config_path,
                    config_text: ::core::include_str!(#config_path),
                    image: #image,
                    shared: #shared,
                    ready_timeout: #ready_timeout,
                    keep_on_failure: #keep_on_failure,
                    pool: #pool,
                },
                #body,
            )
        }
    }
}
