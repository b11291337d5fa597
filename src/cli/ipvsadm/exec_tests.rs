//! Executor behaviour against the fake kernel: exit statuses, message routing, restore
//! semantics and batching. Byte formats themselves are tested in `format`.

use super::*;
use crate::ipvs::fake::FakeBackend;

struct Run {
    code: u8,
    out: String,
    err: String,
}

fn ipvsadm(backend: &mut FakeBackend, line: &str, stdin: &str) -> Run {
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    let (code, out, err) = with_io(stdin.as_bytes(), |io| run_with(io, &args, backend));
    Run { code, out, err }
}

fn with_io(stdin: &[u8], body: impl FnOnce(&mut Io<'_>) -> u8) -> (u8, String, String) {
    let mut input = stdin;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = body(&mut Io {
        argv0: "ipvsadm",
        resolver: &NoNames,
        stdin: &mut input,
        out: &mut out,
        err: &mut err,
    });
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn ok(backend: &mut FakeBackend, line: &str) -> String {
    let r = ipvsadm(backend, line, "");
    assert_eq!((r.code, r.err.as_str()), (0, ""), "{line}");
    r.out
}

#[test]
fn add_then_list_and_save() {
    let mut k = FakeBackend::new();
    ok(&mut k, "-A -t 10.0.0.1:80 -s rr");
    ok(&mut k, "-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 3");
    assert_eq!(
        ok(&mut k, "-Ln"),
        "IP Virtual Server version 1.2.1 (size=4096)\n\
         Prot LocalAddress:Port Scheduler Flags\n  \
         -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n\
         TCP  10.0.0.1:80 rr\n  \
         -> 192.168.1.2:8080             Masq    3      0          0         \n"
    );
    assert_eq!(
        ok(&mut k, "-Sn"),
        "-A -t 10.0.0.1:80 -s rr\n-a -t 10.0.0.1:80 -r 192.168.1.2:8080 -m -w 3\n"
    );
}

#[test]
fn kernel_errors_use_ipvsadm_words_and_status_255() {
    let mut k = FakeBackend::new();
    ok(&mut k, "-A -t 10.0.0.1:80");
    let r = ipvsadm(&mut k, "-A -t 10.0.0.1:80", "");
    assert_eq!((r.code, r.err.as_str()), (255, "Service already exists\n"));
    let r = ipvsadm(&mut k, "-a -t 10.0.0.9:80 -r 1.2.3.4", "");
    assert_eq!((r.code, r.err.as_str()), (255, "Service not defined\n"));
    let r = ipvsadm(&mut k, "-A -t 10.0.0.2:80 -s nosuch", "");
    assert_eq!(r.err, "Scheduler or persistence engine not found\n");
}

#[test]
fn listing_errors_exit_1() {
    let mut k = FakeBackend::new();
    let r = ipvsadm(&mut k, "-Ln -t 10.0.0.1:80", "");
    assert_eq!(
        (r.code, r.out.as_str(), r.err.as_str()),
        (1, "", "No such service\n")
    );
}

#[test]
fn parse_errors_keep_their_status() {
    let mut k = FakeBackend::new();
    let r = ipvsadm(&mut k, "-A -t 1.2.3.4:80 -Q", "");
    assert_eq!((r.code, r.err.as_str()), (255, "-Q: unknown option\n"));
    let r = ipvsadm(&mut k, "-A", "");
    assert_eq!(r.code, 2);
    assert_eq!(k.ops_submitted(), 0, "nothing reached the kernel");
}

#[test]
fn restore_continues_after_kernel_errors_and_returns_the_last_status() {
    let mut k = FakeBackend::new();
    let input = "-A -t 10.0.0.1:80\n-A -t 10.0.0.1:80\n-A -t 10.0.0.2:80\n";
    let r = ipvsadm(&mut k, "-R", input);
    assert_eq!((r.code, r.err.as_str()), (0, "Service already exists\n"));
    let r = ipvsadm(&mut k, "-R", "-A -t 10.0.0.3:80\n-A -t 10.0.0.3:80\n");
    assert_eq!((r.code, r.err.as_str()), (255, "Service already exists\n"));
    assert_eq!(ok(&mut k, "-Sn").lines().count(), 3);
}

#[test]
fn restore_aborts_on_validation_errors_but_keeps_earlier_lines() {
    let mut k = FakeBackend::new();
    let r = ipvsadm(
        &mut k,
        "-R",
        "-A -t 10.0.0.1:80\n-A -t bad\n-A -t 10.0.0.2:80\n",
    );
    assert_eq!(
        (r.code, r.err.as_str()),
        (2, "illegal virtual server address[:port] specified\n")
    );
    assert_eq!(ok(&mut k, "-Sn"), "-A -t 10.0.0.1:80 -s wlc\n");
}

#[test]
fn restore_flushes_writes_before_a_listing_line() {
    let mut k = FakeBackend::new();
    let r = ipvsadm(
        &mut k,
        "-R",
        "-A -t 10.0.0.1:80\n-S -n\n-A -t 10.0.0.2:80\n",
    );
    assert_eq!((r.code, r.out.as_str()), (0, "-A -t 10.0.0.1:80 -s wlc\n"));
    assert_eq!(ok(&mut k, "-Sn").lines().count(), 2);
}

#[test]
fn a_failed_listing_ends_the_restore_with_status_1() {
    let mut k = FakeBackend::new();
    let r = ipvsadm(
        &mut k,
        "-R",
        "-A -t 10.0.0.1:80\n-L -n -t 10.0.0.9:80\n-A -t 10.0.0.2:80\n",
    );
    assert_eq!(
        (r.code, r.out.as_str(), r.err.as_str()),
        (1, "", "No such service\n")
    );
    assert_eq!(ok(&mut k, "-Sn"), "-A -t 10.0.0.1:80 -s wlc\n");
    // A listing that works goes on to the next line, as before.
    let r = ipvsadm(&mut k, "-R", "-L -n -t 10.0.0.1:80\n-A -t 10.0.0.3:80\n");
    assert_eq!((r.code, r.err.as_str()), (0, ""));
    assert_eq!(ok(&mut k, "-Sn").lines().count(), 2);
}

#[test]
fn restore_skips_tokenizer_errors_and_stops_at_help() {
    let mut k = FakeBackend::new();
    let r = ipvsadm(
        &mut k,
        "-R",
        "-A -t 10.0.0.1:80 -Q\n-A -t 10.0.0.2:80\n-v\n-A -t 10.0.0.3:80\n",
    );
    assert_eq!(r.err, "-Q: unknown option\n");
    assert_eq!(r.code, 0);
    assert!(r.out.starts_with("ipvsadm v1.31"));
    assert_eq!(ok(&mut k, "-Sn"), "-A -t 10.0.0.2:80 -s wlc\n");
}

#[test]
fn restore_sends_consecutive_writes_as_one_batch() {
    let mut k = FakeBackend::new();
    let mut input = String::new();
    for i in 1..=50 {
        std::fmt::Write::write_fmt(&mut input, format_args!("-A -t 10.0.0.{i}:80\n")).unwrap();
    }
    let r = ipvsadm(&mut k, "-R", &input);
    assert_eq!(r.code, 0);
    assert_eq!(k.ops_submitted(), 50);
    assert_eq!(k.apply_calls(), 1, "one batch for 50 consecutive writes");
}

#[test]
fn init_failure_is_reported_before_parsing() {
    let (code, out, err) = with_io(b"", |io| {
        run(io, &["-h".to_owned()], &mut || {
            Err(IpvsError::Unavailable {
                errno: libc::ENOPROTOOPT,
            })
        })
    });
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(
        err,
        "Can't initialize ipvs: Protocol not available\n\
         Are you sure that IP Virtual Server is built in the kernel or as module?\n"
    );
}

#[test]
fn ipvsadm_save_helper_rejects_unknown_flags() {
    let (code, _, err) = with_io(b"", |io| {
        save_helper(io, &["-x".to_owned()], &mut || {
            Ok(Box::new(FakeBackend::new()))
        })
    });
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "ipvsadm-save: Script to save the IPVS table to stdout.\n   With the -n option, prints out the table in numeric format.\n"
    );
}

#[test]
fn ipvsadm_restore_helper_drops_comments_and_flushes_first() {
    let mut k = FakeBackend::new();
    ok(&mut k, "-A -t 10.0.0.9:80");
    // The trailing -S line shows the result: the old service was flushed, the comment
    // line was dropped instead of aborting the restore.
    let input = b"# saved table\n-A -t 10.0.0.1:80\n-S -n\n\n\n";
    let mut shared = Some(k);
    let (code, out, err) = with_io(input, |io| {
        restore_helper(io, &mut || Ok(Box::new(shared.take().unwrap())))
    });
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out, "-A -t 10.0.0.1:80 -s wlc\n");
}
