//! The attribute's arguments: `"path"`, then the options.
//!
//! Only the syntax is checked here, and which options go together; image
//! names and the config file are the business of [`crate::config`].

use std::time::Duration;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{bracketed, Expr, ExprLit, Ident, Lit, LitStr, Path, Token};

use super::duration;

/// The options, as the "unknown option" error lists them.
pub const OPTIONS: &str = "`images = [...]`, `shared`, `ready_timeout = \"90s\"`, `keep_on_failure`, `pool = 4` or `crate = \"path\"`";

/// What the attribute was given.
pub struct Args {
    /// The config file path as written.
    pub path: LitStr,
    /// `images = [...]`, as written (resolved by [`crate::config`]).
    pub images: Vec<LitStr>,
    /// `shared`.
    pub shared: bool,
    /// `ready_timeout = "90s"`: how long the machines have to become ready.
    pub ready_timeout: Option<Duration>,
    /// `keep_on_failure`: keep the cluster of a failed test.
    pub keep_on_failure: bool,
    /// `pool = 4`: how many booted clusters to keep warm for the test;
    /// `Some(0)` turns pooling off.
    pub pool: Option<usize>,
    /// `crate = "path"`: where the expansion finds footloose.
    pub krate: Option<Path>,
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        if input.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "expected the config file's path: #[footloose::cluster(\"footloose.yaml\")]",
            ));
        }
        let path: LitStr = input.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "expected the config file's path as a string literal",
            )
        })?;
        let mut args = Args {
            path,
            images: Vec::new(),
            shared: false,
            ready_timeout: None,
            keep_on_failure: false,
            pool: None,
            krate: None,
        };
        let mut seen: Vec<Ident> = Vec::new();
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            // `parse_any`: `crate` is a keyword.
            let option = Ident::parse_any(input)?;
            let name = option.to_string();
            if seen.iter().any(|s| *s == name) {
                return Err(syn::Error::new(
                    option.span(),
                    format!("`{name}` is given twice"),
                ));
            }
            match name.as_str() {
                "shared" => args.shared = flag(input, &option)?,
                "keep_on_failure" => args.keep_on_failure = flag(input, &option)?,
                "images" => args.images = images(input, &option)?,
                "ready_timeout" => args.ready_timeout = Some(ready_timeout(input, &option)?),
                "pool" => args.pool = Some(pool(input, &option)?),
                "crate" => args.krate = Some(crate_path(input, &option)?),
                other => {
                    return Err(syn::Error::new(
                        option.span(),
                        format!("unknown option `{other}`: expected {OPTIONS}"),
                    ))
                }
            }
            seen.push(option);
        }
        if args.shared {
            // Each option refused beside `shared`, with why.
            let refused = [
                (
                    "keep_on_failure",
                    "a shared cluster serves every test of the process and is removed at exit, whichever test failed",
                ),
                (
                    "pool",
                    "a shared cluster is made once per process, so there is nothing to keep warm for it",
                ),
            ];
            let mut errors = refused.iter().filter_map(|(name, why)| {
                let option = seen.iter().find(|s| *s == name)?;
                Some(syn::Error::new(
                    option.span(),
                    format!("`{name}` cannot be combined with `shared`: {why}"),
                ))
            });
            if let Some(mut error) = errors.next() {
                errors.for_each(|more| error.combine(more));
                return Err(error);
            }
        }
        Ok(args)
    }
}

/// An option that is on when named, such as `shared`.
fn flag(input: ParseStream, option: &Ident) -> syn::Result<bool> {
    if input.peek(Token![=]) {
        return Err(syn::Error::new(
            option.span(),
            format!("`{option}` takes no value: write just `{option}`"),
        ));
    }
    Ok(true)
}

/// `= "<value>"` after an option; `what` and `example` make the message
/// when something else is there.
fn string_value(
    input: ParseStream,
    option: &Ident,
    what: &str,
    example: &str,
) -> syn::Result<LitStr> {
    let expected = |span: Span| {
        syn::Error::new(
            span,
            format!("`{option}` takes {what}: `{option} = {example}`"),
        )
    };
    if !input.peek(Token![=]) {
        return Err(expected(option.span()));
    }
    input.parse::<Token![=]>()?;
    match input.parse::<Lit>() {
        Ok(Lit::Str(value)) => Ok(value),
        Ok(other) => Err(expected(other.span())),
        Err(_) => Err(expected(option.span())),
    }
}

/// `images = ["debian12", "ubuntu:24.04"]`.
fn images(input: ParseStream, option: &Ident) -> syn::Result<Vec<LitStr>> {
    input.parse::<Token![=]>()?;
    let content;
    bracketed!(content in input);
    let list: Punctuated<LitStr, Token![,]> =
        content.parse_terminated(<LitStr as Parse>::parse, Token![,])?;
    if list.is_empty() {
        return Err(syn::Error::new(
            option.span(),
            "`images` needs at least one image",
        ));
    }
    Ok(list.into_iter().collect())
}

/// `ready_timeout = "90s"`.
fn ready_timeout(input: ParseStream, option: &Ident) -> syn::Result<Duration> {
    let value = string_value(
        input,
        option,
        "a duration with its unit, as a string",
        "\"90s\"",
    )?;
    duration::parse(&value.value()).map_err(|why| {
        syn::Error::new(
            value.span(),
            format!("`ready_timeout = {:?}`: {why}", value.value()),
        )
    })
}

/// `pool = 4`: a whole number, unsuffixed or `usize`. The value is read
/// as an expression, up to the next `,`, so that the error covers all of
/// what was written instead (`-1`, `"4"`, `SIZE`).
fn pool(input: ParseStream, option: &Ident) -> syn::Result<usize> {
    let usage = format!(
        "`{option}` takes how many clusters to keep booted, as a whole number: `{option} = 4` (`{option} = 0` for no pool)"
    );
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(option.span(), usage));
    }
    input.parse::<Token![=]>()?;
    let value: Expr = input
        .parse()
        .map_err(|_| syn::Error::new(option.span(), &usage))?;
    match &value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(size),
            attrs,
        }) if attrs.is_empty() && matches!(size.suffix(), "" | "usize") => size
            .base10_parse()
            .map_err(|_| syn::Error::new(size.span(), format!("`{option} = {size}` is too large"))),
        _ => Err(syn::Error::new_spanned(&value, usage)),
    }
}

/// `crate = "path"`: a path such as `footloose`, `::fl` or `crate::facade`,
/// its tokens spanned at the string so that a path that does not resolve
/// is an error there.
fn crate_path(input: ParseStream, option: &Ident) -> syn::Result<Path> {
    let value = string_value(input, option, "a path as a string", "\"footloose\"")?;
    let invalid = || {
        syn::Error::new(
            value.span(),
            format!(
                "`crate = {:?}` is not a path: write the path footloose is reached by, such as \"footloose\", \"::fl\" or \"crate::facade\"",
                value.value()
            ),
        )
    };
    let tokens: TokenStream = value.value().parse().map_err(|_| invalid())?;
    let tokens: TokenStream = tokens
        .into_iter()
        .map(|mut token| {
            token.set_span(value.span());
            token
        })
        .collect();
    if tokens
        .clone()
        .into_iter()
        .any(|t| matches!(t, TokenTree::Group(_)))
    {
        return Err(invalid());
    }
    let path: Path = syn::parse2(tokens).map_err(|_| invalid())?;
    if path.segments.iter().any(|s| !s.arguments.is_none()) {
        return Err(invalid());
    }
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(tokens: TokenStream) -> Result<Args, String> {
        syn::parse2::<Args>(tokens).map_err(|e| e.to_string())
    }

    #[test]
    fn every_option_is_read() {
        let args = parse(quote!(
            "f.yaml",
            images = ["debian12"],
            ready_timeout = "2m",
            keep_on_failure,
            pool = 3,
            crate = "::fl"
        ))
        .unwrap();
        assert_eq!(args.path.value(), "f.yaml");
        assert_eq!(args.images.len(), 1);
        assert_eq!(args.ready_timeout, Some(Duration::from_secs(120)));
        assert!(args.keep_on_failure && !args.shared);
        assert_eq!(args.pool, Some(3));
        let krate = args.krate.unwrap();
        assert_eq!(quote!(#krate).to_string(), ":: fl");
    }

    #[test]
    fn pool_is_a_whole_number_zero_included() {
        let pool = |tokens: TokenStream| parse(tokens).unwrap().pool;
        assert_eq!(pool(quote!("f")), None);
        assert_eq!(pool(quote!("f", pool = 0)), Some(0));
        assert_eq!(pool(quote!("f", pool = 4usize)), Some(4));
        assert_eq!(pool(quote!("f", pool = 0x10, images = ["a"])), Some(16));
    }

    #[test]
    fn wrong_options_say_what_is_expected() {
        let cases = [
            (
                quote!("f", parallel),
                "unknown option `parallel`: expected `images",
            ),
            (quote!("f", shared, shared), "`shared` is given twice"),
            (quote!("f", shared = true), "`shared` takes no value"),
            (
                quote!("f", ready_timeout = 90),
                "`ready_timeout` takes a duration",
            ),
            (
                quote!("f", ready_timeout),
                "`ready_timeout` takes a duration",
            ),
            (quote!("f", crate = fl), "`crate` takes a path as a string"),
            (quote!("f", ready_timeout = "1.5m"), "not a duration"),
            (quote!("f", crate = "no way"), "is not a path"),
            (quote!("f", crate = "a::<T>"), "is not a path"),
            (quote!("f", crate = "f()"), "is not a path"),
            (quote!("f", crate = ""), "is not a path"),
            (
                quote!("f", shared, keep_on_failure),
                "cannot be combined with `shared`",
            ),
            (quote!("f", pool), "`pool` takes how many clusters"),
            (quote!("f", pool = "4"), "`pool` takes how many clusters"),
            (quote!("f", pool = -1), "`pool` takes how many clusters"),
            (quote!("f", pool = 1.5), "`pool` takes how many clusters"),
            (quote!("f", pool = 4u8), "`pool` takes how many clusters"),
            (quote!("f", pool = SIZE), "`pool` takes how many clusters"),
            (
                quote!("f", pool = , shared),
                "`pool` takes how many clusters",
            ),
            (
                quote!("f", pool = 99999999999999999999999),
                "`pool = 99999999999999999999999` is too large",
            ),
            (quote!("f", pool = 2, pool = 3), "`pool` is given twice"),
            (
                quote!("f", pool = 2, shared),
                "`pool` cannot be combined with `shared`",
            ),
            (
                quote!("f", shared, pool = 0),
                "`pool` cannot be combined with `shared`",
            ),
        ];
        for (tokens, expected) in cases {
            let error = parse(tokens.clone()).err().unwrap_or_default();
            assert!(error.contains(expected), "{tokens}: {error}");
        }
    }

    #[test]
    fn every_option_refused_beside_shared_is_named() {
        let error = syn::parse2::<Args>(quote!("f", pool = 2, keep_on_failure, shared))
            .err()
            .unwrap();
        let errors: Vec<String> = error.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].starts_with("`keep_on_failure` cannot be combined"));
        assert!(errors[1].starts_with("`pool` cannot be combined"));
    }
}
