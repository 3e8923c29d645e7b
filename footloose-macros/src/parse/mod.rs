//! Reading what the user wrote: the attribute's arguments and the test
//! function. Nothing here looks at files or the environment.

mod args;
mod duration;
mod signature;

pub use args::Args;
pub use signature::{check as check_signature, second_test};

use proc_macro2::TokenStream;

/// Parses the attribute's arguments.
pub fn args(args: TokenStream) -> syn::Result<Args> {
    syn::parse2::<Args>(args)
}
