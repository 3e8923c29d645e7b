//! OpenSSH's patterns (ssh_config(5), PATTERNS): `*` is any run of
//! characters, `?` any one, and in a list a matching `!pattern` keeps the
//! text out whatever else matches. `Host` lines and known-hosts lines both
//! use them.

/// Whether `pattern` matches all of `text`.
pub(crate) fn wildcard(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    // Where the last `*` was, and where in the text it started matching.
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// Whether a list of patterns takes in `text`: one of them matches and no
/// negated one does (a list of negations only takes in nothing).
pub(crate) fn list_matches<'a>(patterns: impl IntoIterator<Item = &'a str>, text: &str) -> bool {
    let mut matched = false;
    for pattern in patterns {
        match pattern.strip_prefix('!') {
            Some(negated) if wildcard(negated, text) => return false,
            Some(_) => {}
            None => matched |= wildcard(pattern, text),
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_and_question_marks_match_as_in_openssh() {
        assert!(wildcard("*a*b?", "xxaxxbz"));
        assert!(!wildcard("*a*b?", "xxaxxb"));
        assert!(wildcard("**", ""));
        assert!(wildcard("10.0.?.*", "10.0.3.250"));
        assert!(!wildcard("web", "web1"));
    }

    #[test]
    fn a_matching_negation_keeps_the_text_out() {
        assert!(list_matches(["*.corp", "!db.corp"], "web.corp"));
        assert!(!list_matches(["*.corp", "!db.corp"], "db.corp"));
        assert!(!list_matches(["!x"], "y"));
    }
}
