//! The host's forge flags: `--github`, `--gitlab` and `--codeberg USER`, whose published ssh
//! keys may join the session.

use clap::Args;

/// Guests named by their account on a forge. The keys the forge publishes for each user
/// (`https://github.com/USER.keys` and the like) may join, named `USER (github)`. Each flag
/// may be given again for more users, and replaces the config file's list for its forge.
#[derive(Debug, Clone, Default, Args)]
pub struct ForgeArgs {
    /// Let the ssh keys that GitHub publishes for USER join, named `USER (github)`; repeat for
    /// more users (config: github).
    #[arg(long, value_name = "USER", value_parser = parse_user)]
    pub github: Vec<String>,

    /// Let the ssh keys that GitLab publishes for USER join, named `USER (gitlab)`; repeat for
    /// more users (config: gitlab).
    #[arg(long, value_name = "USER", value_parser = parse_user)]
    pub gitlab: Vec<String>,

    /// Let the ssh keys that Codeberg publishes for USER join, named `USER (codeberg)`; repeat
    /// for more users (config: codeberg).
    #[arg(long, value_name = "USER", value_parser = parse_user)]
    pub codeberg: Vec<String>,
}

/// What a user name may be, for messages.
pub const USER_FORM: &str =
    "a user name of letters, digits, '-', '_' and '.', starting with a letter, digit or '_'";

/// The longest user name taken; the forges allow 39 (GitHub) to 255 characters.
const MAX_USER: usize = 255;

/// Parses a forge user name. The name becomes part of a URL path, so only the characters the
/// forges allow in names are taken: no `/`, `?`, `%` or `..` can reach the request.
pub fn parse_user(text: &str) -> Result<String, String> {
    let text = text.trim();
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let first_ok = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    if first_ok && text.len() <= MAX_USER && text.chars().all(allowed) {
        Ok(text.to_string())
    } else {
        Err(format!("expected {USER_FORM}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    #[test]
    fn each_flag_repeats_and_keeps_its_order() {
        let line = "cotty --github alice --gitlab bob --github carol --codeberg dave.e";
        let cli = Cli::try_parse_from(line.split_whitespace()).expect("parses");
        assert_eq!(cli.forge.github, ["alice", "carol"]);
        assert_eq!(cli.forge.gitlab, ["bob"]);
        assert_eq!(cli.forge.codeberg, ["dave.e"]);
    }

    #[test]
    fn a_name_that_could_change_the_url_is_refused_naming_the_flag() {
        for bad in ["../x", "a/b", "a?b", "a%2f", ".hidden", "", "é"] {
            let err = Cli::try_parse_from(["cotty", "--github", bad]).expect_err(bad);
            let text = err.to_string();
            assert!(
                text.contains("--github") && text.contains(USER_FORM),
                "{text}"
            );
        }
        assert_eq!(parse_user("_x-1.y"), Ok("_x-1.y".to_string()));
        assert!(parse_user(&"a".repeat(MAX_USER + 1)).is_err());
        assert!(parse_user("-x").is_err(), "a name never starts like a flag");
    }
}
