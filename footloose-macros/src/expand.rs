//! The attribute from end to end: parse, resolve the config, emit; on any
//! error, the function as written beside every error found.

use proc_macro2::TokenStream;
use syn::ItemFn;

use crate::{codegen, config, parse};

/// Expands `#[footloose::cluster(args)] item`. Never fails: errors become
/// `compile_error!`s next to the user's function.
pub fn cluster(args: TokenStream, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(function) => function,
        Err(error) => return codegen::item_and_errors(item, error),
    };
    let args = parse::args(args);
    let signature = parse::check_signature(&function);
    let resolved = args.as_ref().ok().map(config::resolve);
    match (args, signature, resolved) {
        (Ok(args), Ok(()), Some(Ok(resolved))) => codegen::tests(&function, &args, &resolved),
        (args, signature, resolved) => {
            let errors = [args.err(), signature.err(), resolved.and_then(Result::err)];
            let mut errors = errors.into_iter().flatten();
            let mut error = errors.next().expect("something failed");
            errors.for_each(|more| error.combine(more));
            codegen::function_and_errors(&function, error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::IMAGES_ENV;
    use quote::quote;

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
        with_images(images, || cluster(attribute, function)).to_string()
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

        let unknown = expanded(Some("debian99"), attribute.clone(), function.clone());
        assert!(unknown.contains("compile_error !"), "{unknown}");
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

    #[test]
    fn every_path_goes_through_the_crate_option() {
        let function = quote!(
            fn t(cluster: &fl::Cluster) {}
        );
        let renamed = expanded(
            None,
            quote!("tests/ui/footloose.yaml", crate = "fl"),
            function.clone(),
        );
        assert!(!renamed.contains("footloose ::"), "{renamed}");
        assert!(renamed.contains("fl :: testing :: run_test"), "{renamed}");
        assert!(
            renamed.contains("fl :: __private :: ctor :: ctor"),
            "{renamed}"
        );
        assert!(
            renamed.contains("# [:: core :: prelude :: v1 :: test]"),
            "{renamed}"
        );
        let default = expanded(None, quote!("tests/ui/footloose.yaml"), function);
        assert!(
            default.contains(":: footloose :: testing :: run_test"),
            "{default}"
        );
    }

    #[test]
    fn options_reach_the_test_spec() {
        let spec = expanded(
            None,
            quote!(
                "tests/ui/footloose.yaml",
                ready_timeout = "2m",
                keep_on_failure,
                pool = 3
            ),
            quote!(
                fn t(cluster: &::footloose::Cluster) {}
            ),
        );
        assert!(
            spec.contains("ready_timeout : :: core :: option :: Option :: Some (:: core :: time :: Duration :: from_millis (120000u64))"),
            "{spec}"
        );
        assert!(spec.contains("keep_on_failure : true"), "{spec}");
        assert!(
            spec.contains("pool : :: core :: option :: Option :: Some (3usize)"),
            "{spec}"
        );
        let unsaid = expanded(
            None,
            quote!("tests/ui/footloose.yaml"),
            quote!(
                fn t(cluster: &::footloose::Cluster) {}
            ),
        );
        assert!(
            unsaid.contains("pool : :: core :: option :: Option :: None"),
            "{unsaid}"
        );
    }

    #[test]
    fn on_an_error_the_function_stays_beside_every_error() {
        let out = expanded(
            None,
            quote!("no-such-file.yaml", images = ["debian10"]),
            quote!(
                #[test]
                fn t(cluster: &mut ::footloose::Cluster) {
                    let _ = cluster;
                }
            ),
        );
        assert!(out.starts_with("# [allow (unused)] fn t"), "{out}");
        assert!(!out.contains("# [test]"), "{out}");
        assert!(!out.contains("run_test"), "{out}");
        assert_eq!(out.matches("compile_error !").count(), 3, "{out}");
        let out = expanded(
            None,
            quote!("no-such-file.yaml", images = ["debian10"]),
            quote!(
                fn t(cluster: &::footloose::Cluster) {}
            ),
        );
        assert!(
            out.contains("cannot read config file no-such-file.yaml"),
            "{out}"
        );
        assert!(out.contains("unknown image `debian10`"), "{out}");
        let not_a_function = expanded(
            None,
            quote!("f.yaml"),
            quote!(
                struct S;
            ),
        );
        assert!(not_a_function.starts_with("struct S ;"), "{not_a_function}");
        assert!(
            not_a_function.contains("compile_error !"),
            "{not_a_function}"
        );
    }
}
