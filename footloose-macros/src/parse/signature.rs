//! Checks that the function can be a footloose test.

use syn::spanned::Spanned;
use syn::{Attribute, FnArg, ItemFn, Type};

/// Test attributes that would make a second test of the function.
const TEST_ATTRIBUTES: [&str; 6] = [
    "test",
    "core::prelude::v1::test",
    "std::prelude::v1::test",
    "tokio::test",
    "rstest",
    "test_case",
];

/// The path of `attribute` (`tokio::test`) when it makes a test of its own.
pub fn second_test(attribute: &Attribute) -> Option<String> {
    let path = attribute
        .path()
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::");
    TEST_ATTRIBUTES.contains(&path.as_str()).then_some(path)
}

/// Fails on what the attribute cannot turn into a test.
pub fn check(function: &ItemFn) -> syn::Result<()> {
    for attribute in &function.attrs {
        if let Some(path) = second_test(attribute) {
            return Err(syn::Error::new(
                attribute.span(),
                format!(
                    "remove #[{path}]: #[footloose::cluster] already makes this function a test"
                ),
            ));
        }
    }
    let signature = &function.sig;
    if let Some(constness) = &signature.constness {
        return Err(syn::Error::new(
            constness.span(),
            "a footloose test cannot be `const`",
        ));
    }
    if let Some(unsafety) = &signature.unsafety {
        return Err(syn::Error::new(
            unsafety.span(),
            "a footloose test cannot be `unsafe`",
        ));
    }
    if let Some(abi) = &signature.abi {
        return Err(syn::Error::new(
            abi.span(),
            "a footloose test cannot be `extern`",
        ));
    }
    if !signature.generics.params.is_empty() || signature.generics.where_clause.is_some() {
        return Err(syn::Error::new(
            signature.generics.span(),
            "a footloose test cannot be generic",
        ));
    }
    if let Some(variadic) = &signature.variadic {
        return Err(syn::Error::new(
            variadic.span(),
            "a footloose test cannot be variadic",
        ));
    }
    let mut inputs = signature.inputs.iter();
    let expected = "a footloose test takes one argument, `cluster: &footloose::Cluster`";
    let Some(first) = inputs.next() else {
        return Err(syn::Error::new(signature.paren_token.span.join(), expected));
    };
    if let Some(extra) = inputs.next() {
        return Err(syn::Error::new(extra.span(), expected));
    }
    match first {
        FnArg::Receiver(receiver) => Err(syn::Error::new(receiver.span(), expected)),
        FnArg::Typed(typed) => match &*typed.ty {
            Type::Reference(reference) if reference.mutability.is_none() => Ok(()),
            other => Err(syn::Error::new(
                other.span(),
                "the argument must be a shared reference: `cluster: &footloose::Cluster`",
            )),
        },
    }
}
