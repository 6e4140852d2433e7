//! Where a setting's value came from (the file, a variable, a flag), for error messages.

use std::fmt;
use std::path::Path;

/// Where a setting's value came from, for error messages.
pub(super) enum Origin<'a> {
    /// The config file.
    File(&'a Path),
    /// An environment variable, by name.
    Env(String),
    /// A flag, such as `--theme`.
    Flag(&'static str),
}

impl fmt::Display for Origin<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Env(name) => write!(f, "the environment variable {name}"),
            Origin::Flag(flag) => write!(f, "the flag {flag}"),
        }
    }
}
