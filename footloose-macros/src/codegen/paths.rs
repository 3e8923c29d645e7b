//! The path every emitted item reaches footloose by.

use proc_macro2::Span;
use syn::{Ident, Path, PathSegment};

/// `crate = "…"` when given (spanned at its string), else `::footloose`
/// spanned at `span`.
pub fn krate(given: Option<&Path>, span: Span) -> Path {
    given.cloned().unwrap_or_else(|| {
        let mut path = Path::from(Ident::new("footloose", span));
        path.leading_colon = Some(syn::Token![::](span));
        path
    })
}

/// `path` as written in a module, seen from a module inside it (a matrix's
/// module, which imports its parent's items): `self::…` and `super::…`
/// climb one more level; absolute paths, `crate::…` and names the glob
/// import or the extern prelude provide stay as they are.
pub fn from_child(path: &Path) -> Path {
    let mut path = path.clone();
    let Some(first) = path.segments.first_mut() else {
        return path;
    };
    if path.leading_colon.is_some() {
        return path;
    }
    if first.ident == "self" {
        first.ident = Ident::new("super", first.ident.span());
    } else if first.ident == "super" {
        let span = first.ident.span();
        path.segments
            .insert(0, PathSegment::from(Ident::new("super", span)));
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn child(path: &str) -> String {
        let path = from_child(&syn::parse_str(path).unwrap());
        quote!(#path).to_string().replace(' ', "")
    }

    #[test]
    fn relative_paths_climb_out_of_the_matrix_module() {
        assert_eq!(child("self::facade"), "super::facade");
        assert_eq!(child("super::facade"), "super::super::facade");
        assert_eq!(child("crate::facade"), "crate::facade");
        assert_eq!(child("::fl"), "::fl");
        assert_eq!(child("fl"), "fl");
        let default = krate(None, Span::call_site());
        assert_eq!(quote!(#default).to_string().replace(' ', ""), "::footloose");
    }
}
