//! The forms ldirectord and lvsctl accept, the usage errors, and `to_argv` read back.

use super::*;

fn parse(a: &[&str]) -> Result<Args, UsageError> {
    parse_args(&a.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
}

fn reparse(args: &Args) -> Result<Args, UsageError> {
    let argv: Vec<String> = args
        .to_argv()
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    parse_args(&argv)
}

#[test]
fn ldirectord_forms() {
    let a = parse(&["start"]).unwrap();
    assert_eq!((a.config, a.command), (None, Command::Start));
    let a = parse(&["-d", "web.cf", "reload"]).unwrap();
    assert!(a.debug);
    assert_eq!(a.config.as_deref(), Some("web.cf"));
    assert_eq!(a.command, Command::Reload);
    let a = parse(&["--foreground", "/etc/x.cf"]).unwrap();
    assert_eq!(
        (a.config.as_deref(), a.command),
        (Some("/etc/x.cf"), Command::Start)
    );
    let a = parse(&["check-config", "--strict", "x.cf"]).unwrap();
    assert!(a.strict);
    assert_eq!(a.config.as_deref(), Some("x.cf"));
    assert_eq!(a.command, Command::CheckConfig);
    let a = parse(&["--sendmail", "/tmp/fake", "start"]).unwrap();
    assert_eq!(a.sendmail, Some(PathBuf::from("/tmp/fake")));
    // `--` ends the options, as in ldirectord.
    let a = parse(&["-d", "--", "-odd.cf", "status"]).unwrap();
    assert_eq!(
        (a.config.as_deref(), a.command),
        (Some("-odd.cf"), Command::Status)
    );
    for help in ["-h", "-?", "--help"] {
        assert_eq!(parse(&[help]).unwrap().command, Command::Help);
    }
    for version in ["-v", "--version"] {
        assert_eq!(
            parse(&["web.cf", version]).unwrap().command,
            Command::Version
        );
    }
    // Every ldirectord command, with and without CONFIG.
    for cmd in Command::LDIRECTORD {
        assert_eq!(parse(&[cmd.spelling()]).unwrap(), Args::new(cmd));
        let a = parse(&["web.cf", cmd.spelling()]).unwrap();
        assert_eq!((a.config.as_deref(), a.command), (Some("web.cf"), cmd));
    }
}

/// ldirectord answers these with its usage (exit 255); none of them may fall back
/// to another command.
#[test]
fn usage_errors() {
    let cases: &[(&[&str], UsageError)] = &[
        (
            &["x.cf", "bogus"],
            UsageError::UnknownCommand("bogus".into()),
        ),
        (&["bogus"], UsageError::UnknownCommand("bogus".into())),
        (&["x.cf"], UsageError::UnknownCommand("x.cf".into())),
        (&[], UsageError::NoCommand),
        (&["-x", "start"], UsageError::UnknownOption("-x".into())),
        (
            &["x.cf", "start", "more"],
            UsageError::TooMany("more".into()),
        ),
        (
            &["x.cf", "check-config"],
            UsageError::UnknownCommand("check-config".into()),
        ),
        (&["check-config"], UsageError::NoFile("check-config")),
        (
            &["start", "--pid-file"],
            UsageError::MissingValue {
                option: "--pid-file",
                value: "FILE",
            },
        ),
        (
            &["--metrics", "localhost", "start"],
            UsageError::BadAddress("localhost".into()),
        ),
        (&["--", "-d"], UsageError::UnknownCommand("-d".into())),
    ];
    for (argv, want) in cases {
        assert_eq!(parse(argv).as_ref(), Err(want), "{argv:?}");
    }
}

/// Every option, set alone on every command, survives `to_argv` and a new parse.
#[test]
fn to_argv_round_trips_every_option_and_command() {
    let commands = [
        Command::Start,
        Command::Stop,
        Command::Restart,
        Command::TryRestart,
        Command::Reload,
        Command::ForceReload,
        Command::Status,
        Command::CheckConfig,
        Command::Help,
        Command::Version,
    ];
    for command in commands {
        let mut bare = Args::new(command);
        if matches!(command, Command::CheckConfig) {
            bare.config = Some("x.cf".into());
        }
        let mut cases = vec![bare.clone()];
        if !matches!(command, Command::Help | Command::Version) {
            let mut with_config = bare.clone();
            with_config.config = Some("-dash.cf".into());
            cases.push(with_config);
        }
        for spec in OPTIONS {
            let mut a = bare.clone();
            let value = match spec.value {
                Some("ADDR:PORT") => "127.0.0.1:9100",
                Some(_) => "/run/x",
                None => "",
            };
            let mut chosen = None;
            a.set(spec.opt, value, &mut chosen).unwrap();
            if chosen.is_some() {
                continue; // -h and -v are commands of their own
            }
            assert!(a.written(spec.opt).is_some(), "{:?}", spec.opt);
            cases.push(a);
        }
        for args in cases {
            assert_eq!(reparse(&args), Ok(args.clone()), "{:?}", args.to_argv());
        }
    }
    let mut all = parse(&[
        "-d",
        "--foreground",
        "--pid-file",
        "/p",
        "--socket",
        "/s",
        "--metrics",
        "[::1]:9100",
        "--sendmail",
        "/m",
        "--json",
        "--strict",
        "--detached",
        "web.cf",
        "status",
    ])
    .unwrap();
    assert_eq!(reparse(&all), Ok(all.clone()));
    all.command = Command::Help;
    all.config = None;
    assert_eq!(reparse(&all), Ok(all));
}

#[test]
fn the_detached_child_gets_start_its_own_pid_file_and_the_copied_options() {
    let parent = parse(&[
        "--pid-file",
        "/given.pid",
        "--socket",
        "/s",
        "--metrics",
        "127.0.0.1:9100",
        "--sendmail",
        "/m",
        "--json",
        "web.cf",
        "restart",
    ])
    .unwrap();
    let child = parent.detached_child(Some("/etc/ha.d/web.cf".into()), Some("/run/x.pid".into()));
    let argv: Vec<String> = child
        .to_argv()
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        argv,
        [
            "--detached",
            "--pid-file",
            "/run/x.pid",
            "--socket",
            "/s",
            "--metrics",
            "127.0.0.1:9100",
            "--sendmail",
            "/m",
            "/etc/ha.d/web.cf",
            "start"
        ]
    );
    assert_eq!(parse_args(&argv), Ok(child));
    let child = Args::new(Command::Start).detached_child(None, None);
    assert_eq!(child.to_argv(), ["--detached", "start"]);
}

#[test]
fn keepalived_forms_take_a_command_and_no_config() {
    let a = parse(&["--keepalived", "/etc/keepalived/keepalived.conf", "status"]).unwrap();
    assert_eq!(a.format, Some(SourceFormat::Keepalived));
    assert_eq!(
        (a.config.as_deref(), a.command),
        (Some("/etc/keepalived/keepalived.conf"), Command::Status)
    );
    let a = parse(&["--keepalived", "k.conf", "check-config"]).unwrap();
    assert_eq!(a.command, Command::CheckConfig);
    let a = parse(&["--foreground", "--keepalived", "k.conf"]).unwrap();
    assert_eq!(a.command, Command::Start);
    assert_eq!(reparse(&a), Ok(a.clone()));
    let a = parse(&["--keepalived", "k.conf", "--pid-file", "/tmp/p", "restart"]).unwrap();
    assert_eq!(reparse(&a), Ok(a.clone()));
    for (args, want) in [
        (&["--keepalived", "k.conf"][..], UsageError::NoCommand),
        (
            &["--keepalived", "k.conf", "web.cf", "start"][..],
            UsageError::TooMany("start".into()),
        ),
        (
            &["--keepalived", "k.conf", "convert"][..],
            UsageError::UnknownCommand("convert".into()),
        ),
        (
            &["--keepalived"][..],
            UsageError::MissingValue {
                option: "--keepalived",
                value: "FILE",
            },
        ),
    ] {
        assert_eq!(parse(args), Err(want), "{args:?}");
    }
}

#[test]
fn piranha_forms_are_the_keepalived_forms_with_their_own_format() {
    let a = parse(&["--piranha", "/etc/sysconfig/ha/lvs.cf", "status"]).unwrap();
    assert_eq!(a.format, Some(SourceFormat::Piranha));
    assert_eq!(
        (a.config.as_deref(), a.command),
        (Some("/etc/sysconfig/ha/lvs.cf"), Command::Status)
    );
    assert_eq!(
        parse(&["--piranha", "lvs.cf", "check-config"])
            .unwrap()
            .command,
        Command::CheckConfig
    );
    let a = parse(&["-d", "--piranha", "lvs.cf"]).unwrap();
    assert_eq!(a.command, Command::Start);
    assert_eq!(reparse(&a), Ok(a.clone()));
    // The detached copy of plain `start` runs the same format.
    let a = parse(&["--piranha", "lvs.cf", "start"]).unwrap();
    let child = a.detached_child(Some("/abs/lvs.cf".into()), None);
    assert_eq!(
        child.to_argv(),
        ["--detached", "--piranha", "/abs/lvs.cf", "start"]
    );
    assert_eq!(reparse(&child), Ok(child.clone()));
    // The last of the two options wins.
    let a = parse(&["--keepalived", "k.conf", "--piranha", "lvs.cf", "stop"]).unwrap();
    assert_eq!(
        (a.format, a.config.as_deref()),
        (Some(SourceFormat::Piranha), Some("lvs.cf"))
    );
    assert_eq!(
        parse(&["--piranha", "lvs.cf", "lvs.cf", "start"]),
        Err(UsageError::TooMany("start".into()))
    );
    // convert does not read lvs.cf.
    assert_eq!(
        parse(&["convert", "piranha", "lvs.cf"]),
        Err(UsageError::UnknownFormat("piranha".into()))
    );
}
