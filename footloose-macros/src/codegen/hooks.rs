//! The test binary's start-up and exit hooks, emitted with every test so
//! that a binary has them exactly when it has cluster tests (the library
//! itself installs none: the CLI and every other program linking footloose
//! stay free of code before `main`).
//!
//! Each attribute emits its own pair, inside an anonymous `const` block
//! so that the names never collide; the hook bodies in
//! `footloose::__private` run once however many are installed. ctor and
//! dtor are reached through footloose's re-exports (`crate_path`), so the
//! user's crate needs no dependency on them.

use proc_macro2::TokenStream;
use quote::quote;
use syn::Path;

/// The hooks, compiled where tests are (`cfg(test)`).
pub fn install(krate: &Path) -> TokenStream {
    quote! {
        #[cfg(test)]
        const _: () = {
            #[#krate::__private::ctor::ctor(crate_path = #krate::__private::ctor)]
            unsafe fn footloose_on_start() {
                #krate::__private::on_start();
            }
            #[#krate::__private::dtor::dtor(crate_path = #krate::__private::dtor)]
            unsafe fn footloose_on_exit() {
                #krate::__private::on_exit();
            }
        };
    }
}
