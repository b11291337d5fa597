//! The commands that need no daemon: `check-config` of each format, and `convert`.

use std::path::Path;

use super::{Args, SourceFormat, USAGE_EXIT, UsageError, usage};
use crate::health::config::{check_config_file, check_config_file_strict};

/// `check-config`: FILE read by its own format's reader, which knows that format's exit
/// statuses (a keepalived.conf's are keepalived's).
pub(super) fn check_config(args: &Args) -> u8 {
    let checked = match (args.config.as_deref(), args.format) {
        (Some(file), Some(SourceFormat::Keepalived)) => Some(check_keepalived(Path::new(file))),
        (Some(file), Some(SourceFormat::Piranha)) => {
            Some(crate::health::piranha::check_piranha_file(Path::new(file)))
        }
        _ => None,
    };
    if let Some((text, code)) = checked {
        print!("{text}");
        return code;
    }
    let Some(file) = &args.config else {
        eprintln!("{}\n{}", UsageError::NoFile("check-config"), usage());
        return USAGE_EXIT;
    };
    let (text, code) = if args.strict {
        check_config_file_strict(Path::new(file))
    } else {
        check_config_file(Path::new(file))
    };
    print!("{text}");
    u8::try_from(code).unwrap_or(2)
}

/// `--keepalived FILE check-config`: keepalived's own diagnostics and `--config-test`
/// status, then what lvsctl health refuses to run. The status is keepalived's when that
/// is not 0, else 1 when something is refused or an SSL block file does not load (a status
/// keepalived never exits with).
fn check_keepalived(file: &Path) -> (String, u8) {
    use crate::health::keepalived;
    let env = keepalived::SystemEnv::default();
    let outcome = keepalived::read_file(file, &env, &keepalived::Options::default());
    let name = file.display().to_string();
    let mut text = keepalived::render(&name, &outcome);
    let mut refusals = Vec::new();
    let mut load_error = None;
    if let Some(read) = &outcome.config {
        match keepalived::to_daemon(read) {
            Err(r) => refusals = r,
            // The SSL block's files, read as the daemon would read them at start.
            Ok(mut config) => {
                load_error =
                    keepalived::load_ssl(&name, read, &mut config, &|p| std::fs::read(p)).err();
            }
        }
    }
    text.push_str(&keepalived::render_refusals(&refusals));
    if let Some(e) = &load_error {
        text.push_str(e);
        text.push('\n');
    }
    let code = match outcome.status {
        0 if !refusals.is_empty() || load_error.is_some() => 1,
        status => status,
    };
    (text, code)
}

/// `convert FORMAT FILE`: the other format on stdout, the losses on stderr; exit 0 when
/// nothing was lost, 1 when something was, 2 when FILE does not read as FORMAT.
pub(super) fn convert(args: &Args) -> u8 {
    let (Some(file), Some(from)) = (&args.config, args.convert_from) else {
        eprintln!("{}\n{}", UsageError::NoFile("convert"), usage());
        return USAGE_EXIT;
    };
    let converted = match from {
        SourceFormat::Keepalived => {
            let env = crate::health::keepalived::SystemEnv::default();
            let options = crate::health::keepalived::Options::default();
            let outcome = crate::health::keepalived::read_file(Path::new(file), &env, &options);
            let Some(config) = &outcome.config else {
                eprint!("{}", crate::health::keepalived::render(file, &outcome));
                return 2;
            };
            crate::health::convert::keepalived_to_ldirectord(file, config)
        }
        // `convert` takes only the words of the two formats above.
        SourceFormat::Piranha => {
            eprintln!(
                "{}\n{}",
                UsageError::UnknownFormat(from.word().into()),
                usage()
            );
            return USAGE_EXIT;
        }
        SourceFormat::Ldirectord => {
            let text = match std::fs::read(file) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => {
                    eprintln!("{file}: {e}");
                    return 2;
                }
            };
            let env = crate::health::config::SystemEnv::new();
            match crate::health::config::parse_config(file, &text, &env) {
                Ok((config, _)) => crate::health::convert::ldirectord_to_keepalived(file, &config),
                Err(errors) => {
                    for e in errors {
                        eprintln!("{e}");
                    }
                    return 2;
                }
            }
        }
    };
    print!("{}", converted.text);
    for lost in &converted.lost {
        eprintln!("{lost}");
    }
    u8::from(!converted.lost.is_empty())
}
