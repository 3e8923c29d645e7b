//! What the attribute emits when it cannot make a test: the function as
//! written, beside the errors, as `#[tokio::test]` does. Editors keep
//! completion and go-to-definition in it, its body is still checked, and
//! code naming it finds it, so the build shows the attribute's errors and
//! no cascade of "cannot find function".

use proc_macro2::TokenStream;
use quote::quote;
use syn::ItemFn;

use crate::parse::second_test;

/// The function as a plain item, next to `error`.
///
/// It stays a plain function (no test harness looks at it): attributes
/// that would make another test of it are dropped, as is a variadic `...`
/// that only foreign functions may have, and its unused warnings are
/// silenced, so that nothing but the attribute's errors is reported.
pub fn function_and_errors(function: &ItemFn, error: syn::Error) -> TokenStream {
    let mut function = function.clone();
    function.attrs.retain(|a| second_test(a).is_none());
    function.sig.variadic = None;
    let error = error.into_compile_error();
    quote! {
        #[allow(unused)]
        #function
        #error
    }
}

/// An item that is not a function: emitted as it came, beside `error`.
pub fn item_and_errors(item: TokenStream, error: syn::Error) -> TokenStream {
    let error = error.into_compile_error();
    quote!(#item #error)
}
