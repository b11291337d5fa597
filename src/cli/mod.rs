//! Command-line faces of lvsctl.

pub mod backend;
pub mod dispatch;
pub mod generate;
pub mod ipvsadm;
pub mod modern;
pub mod top;

use std::ffi::OsString;
use std::process::ExitCode;

/// The strict ipvsadm personality (argv[0] included).
#[allow(clippy::needless_pass_by_value)] // main hands over its argv
pub fn ipvsadm_main(argv: Vec<OsString>) -> ExitCode {
    let argv: Vec<String> = argv
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let (argv0, args) = argv
        .split_first()
        .map_or(("ipvsadm", &[][..]), |(a, r)| (a.as_str(), r));
    with_ipvsadm_io(argv0, |io| ipvsadm::exec::run(io, args, &mut backend::open))
}

/// Give an ipvsadm run the process's standard streams (stdout buffered like C stdio when
/// it is not a terminal) and the system resolver.
fn with_ipvsadm_io(argv0: &str, body: impl FnOnce(&mut ipvsadm::exec::Io<'_>) -> u8) -> ExitCode {
    let resolver = crate::names::SystemResolver::new();
    let mut stdin = std::io::stdin().lock();
    let mut out =
        std::io::BufWriter::with_capacity(64 * 1024, DieOnBrokenPipe(std::io::stdout().lock()));
    let mut err = std::io::stderr().lock();
    let code = {
        let mut io = ipvsadm::exec::Io {
            argv0,
            resolver: &resolver,
            stdin: &mut stdin,
            out: &mut out,
            err: &mut err,
        };
        body(&mut io)
    };
    // ipvsadm ignores write errors on stdout (e.g. /dev/full): the status stands.
    let _ = std::io::Write::flush(&mut out);
    ExitCode::from(code)
}

/// Standard output that ends the process with SIGPIPE when its reader has gone, as
/// ipvsadm (a C program with SIGPIPE's default action) ends at that write: `ipvsadm -Ln |
/// head -1` on a large table has status 141 in a shell, and scripts under `set -o pipefail`
/// see it. Rust starts programs with SIGPIPE ignored, so without this the write would fail
/// quietly and the command would finish with status 0. Other write errors (a full disk,
/// `/dev/full`) are returned, and ignored as ipvsadm ignores them.
struct DieOnBrokenPipe<W>(W);

impl<W: std::io::Write> DieOnBrokenPipe<W> {
    fn check<T>(result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            // Restores SIGPIPE's default action and raises it: the process ends here. If
            // that ever fails, the error goes back to the caller as before.
            let _ = signal_hook::low_level::emulate_default_handler(signal_hook::consts::SIGPIPE);
        }
        result
    }
}

impl<W: std::io::Write> std::io::Write for DieOnBrokenPipe<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Self::check(self.0.write(buf))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Self::check(self.0.flush())
    }
}

/// `lvsctl health ...` / `ldirectord ...`.
#[allow(clippy::needless_pass_by_value)] // main hands over its argv
pub fn health_main(args: Vec<OsString>) -> ExitCode {
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let factory = || -> crate::ipvs::BackendFactory { Box::new(backend::open) };
    ExitCode::from(crate::health::cli::main(&args, factory))
}

/// Debian's `ipvsadm-save [-n]`.
pub fn ipvsadm_save_main(args: &[String]) -> ExitCode {
    with_ipvsadm_io("ipvsadm", |io| {
        ipvsadm::exec::save_helper(io, args, &mut backend::open)
    })
}

/// Debian's `ipvsadm-restore`.
pub fn ipvsadm_restore_main(_args: &[String]) -> ExitCode {
    with_ipvsadm_io("ipvsadm", |io| {
        ipvsadm::exec::restore_helper(io, &mut backend::open)
    })
}
