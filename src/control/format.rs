//! `#{name}` variables in `display -p` formats, as tmux writes them.
//!
//! Only `#{name}` is special. Everything else, including `##` and a `#` before any other
//! character, is copied as it is. Unlike tmux, `##` is not an escape for `#`: it stays two
//! characters, and a `#{` right after it is not a variable, so `##{ssh}` prints as written.

/// Replaces each `#{name}` in `format` with `lookup(name)`.
///
/// `known` lists the variable names for the error message only: `lookup` decides what exists,
/// and a name it answers `None` for is unknown; `Some(Err(why))` is a known variable that has
/// no value here (a web link on a relay without the web view), and `why` is the error. The
/// caller passes the same table to both, so
/// the message can tell the user what they could have written.
///
/// Errors, as text for the user: an unterminated `#{` (with its column) and an unknown name.
pub fn expand(
    format: &str,
    known: &[&str],
    lookup: impl Fn(&str) -> Option<Result<String, String>>,
) -> Result<String, String> {
    let mut out = String::with_capacity(format.len());
    let mut rest = format;
    while let Some(at) = rest.find('#') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        if let Some(after) = tail.strip_prefix("##") {
            // Copied whole so that its second `#` cannot start a variable.
            out.push_str("##");
            rest = after;
        } else if let Some(open) = tail.strip_prefix("#{") {
            let Some(close) = open.find('}') else {
                // Counted in characters, as the user sees the format, not in bytes.
                let column = format[..format.len() - tail.len()].chars().count() + 1;
                return Err(format!(
                    "unterminated #{{ at column {column} in the format: close it with }}, \
                     as in #{{ssh}}"
                ));
            };
            let name = &open[..close];
            match lookup(name) {
                Some(Ok(value)) => out.push_str(&value),
                Some(Err(why)) => return Err(why),
                None => return Err(unknown(name, known)),
            }
            rest = &open[close + 1..];
        } else {
            out.push('#');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The message for a name `lookup` did not know, listing the ones it does.
fn unknown(name: &str, known: &[&str]) -> String {
    let mut text = format!("unknown variable #{{{name}}} in the format");
    if known.is_empty() {
        return text;
    }
    text.push_str("; the variables are ");
    let list: Vec<String> = known.iter().map(|k| format!("#{{{k}}}")).collect();
    text.push_str(&list.join(", "));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: &[&str] = &["ssh", "ssh_ro", "guests"];

    fn vars(name: &str) -> Option<Result<String, String>> {
        match name {
            "ssh" => Some(Ok("ssh -p 2222 tok@relay".into())),
            "ssh_ro" => Some(Ok("ssh -p 2222 ro-tok@relay".into())),
            "guests" => Some(Ok("2".into())),
            "web" => Some(Err("no web links here".into())),
            _ => None,
        }
    }

    fn ex(format: &str) -> Result<String, String> {
        expand(format, KNOWN, vars)
    }

    #[test]
    fn one_variable() {
        assert_eq!(ex("#{ssh}").unwrap(), "ssh -p 2222 tok@relay");
    }

    #[test]
    fn variables_among_text() {
        assert_eq!(
            ex("rw: #{ssh} | ro: #{ssh_ro} (#{guests} guests)").unwrap(),
            "rw: ssh -p 2222 tok@relay | ro: ssh -p 2222 ro-tok@relay (2 guests)"
        );
    }

    #[test]
    fn adjacent_variables() {
        assert_eq!(ex("#{guests}#{guests}").unwrap(), "22");
    }

    #[test]
    fn text_without_variables_is_unchanged() {
        for text in [
            "",
            "plain",
            "# heading",
            "a#b",
            "trailing #",
            "{not} a #var",
            "ünï#cödé",
        ] {
            assert_eq!(ex(text).unwrap(), text);
        }
    }

    #[test]
    fn double_hash_stays_and_does_not_start_a_variable() {
        assert_eq!(ex("##").unwrap(), "##");
        assert_eq!(ex("a ## b").unwrap(), "a ## b");
        assert_eq!(ex("##{ssh}").unwrap(), "##{ssh}");
        assert_eq!(ex("###{guests}").unwrap(), "##2");
    }

    #[test]
    fn value_is_not_expanded_again() {
        let lookup = |name: &str| (name == "x").then(|| Ok("#{x}".to_string()));
        assert_eq!(expand("#{x}", &["x"], lookup).unwrap(), "#{x}");
    }

    #[test]
    fn unknown_name_is_named_with_the_known_list() {
        let err = ex("link: #{sshh}").unwrap_err();
        assert_eq!(
            err,
            "unknown variable #{sshh} in the format; the variables are #{ssh}, #{ssh_ro}, \
             #{guests}"
        );
    }

    #[test]
    fn a_known_variable_without_a_value_is_its_error() {
        assert_eq!(ex("link: #{web}").unwrap_err(), "no web links here");
    }

    #[test]
    fn unknown_name_without_a_known_list() {
        assert_eq!(
            expand("#{x}", &[], |_| None).unwrap_err(),
            "unknown variable #{x} in the format"
        );
    }

    #[test]
    fn empty_name_is_unknown() {
        assert!(ex("#{}").unwrap_err().starts_with("unknown variable #{} "));
    }

    #[test]
    fn unterminated_says_where() {
        let err = ex("ok #{ssh} then #{ssh").unwrap_err();
        assert!(err.starts_with("unterminated #{ at column 16 "), "{err}");
        assert!(ex("#{").unwrap_err().contains("column 1 "));
        assert!(ex("é #{").unwrap_err().contains("column 3 "));
    }

    #[test]
    fn first_error_wins() {
        assert!(
            ex("#{nope} #{")
                .unwrap_err()
                .starts_with("unknown variable #{nope}")
        );
    }
}
