//! The attribute's arguments: `"path"`, then `images = [...]` and `shared`.

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{bracketed, Ident, LitStr, Token};

/// What the attribute was given.
pub struct Args {
    /// The config file path as written.
    pub path: LitStr,
    /// `images = [...]`: each image's literal and full reference.
    pub images: Vec<(LitStr, String)>,
    /// `shared`.
    pub shared: bool,
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
        };
        let mut seen_images = false;
        while !input.is_empty() {
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                break;
            }
            let option: Ident = input.parse()?;
            match option.to_string().as_str() {
                "shared" if args.shared => {
                    return Err(syn::Error::new(option.span(), "`shared` is given twice"))
                }
                "shared" => args.shared = true,
                "images" if seen_images => {
                    return Err(syn::Error::new(option.span(), "`images` is given twice"))
                }
                "images" => {
                    seen_images = true;
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
                    for image in list {
                        let Some(reference) = footloose_config::images::resolve(&image.value())
                        else {
                            return Err(syn::Error::new(
                                image.span(),
                                format!(
                                    "unknown image `{}`: short names are {}; any other image needs a full reference such as `footloose/debian12` or `ubuntu:24.04`",
                                    image.value(),
                                    footloose_config::images::SHORT_NAMES.join(", ")
                                ),
                            ));
                        };
                        if args.images.iter().any(|(_, r)| *r == reference) {
                            return Err(syn::Error::new(
                                image.span(),
                                format!("image `{}` is listed twice", image.value()),
                            ));
                        }
                        args.images.push((image, reference));
                    }
                }
                other => {
                    return Err(syn::Error::new(
                        option.span(),
                        format!("unknown option `{other}`: expected `images = [...]` or `shared`"),
                    ))
                }
            }
        }
        Ok(args)
    }
}
