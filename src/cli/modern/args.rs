//! The `lvsctl` command tree (clap derive). Only definitions live here, so completions and
//! man pages can be generated from the same source.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// lvsctl: one tool for Linux Virtual Server directors.
///
/// ipvsadm's flags work too (`lvsctl -Ln`, `lvsctl -A -t 10.0.0.1:80 -s rr`); a link named
/// `ipvsadm` behaves exactly like ipvsadm 1.31.
#[derive(Debug, Parser)]
// The about line is spelled out rather than taken from Cargo.toml's description, which is
// the Debian package's one-line synopsis and so must stay under 80 characters.
#[command(
    name = "lvsctl",
    version,
    about = "One tool for Linux Virtual Server directors: an ipvsadm drop-in, a live dashboard, an ldirectord-compatible health checker and rules files for CI",
    long_about = None,
    arg_required_else_help = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show virtual services and their real servers with counters and rates.
    List(ListArgs),
    /// Show the connection table (like `ipvsadm -lcn`), with filters.
    Conns(ConnsArgs),
    /// Show connection timeouts (tcp, tcpfin, udp).
    Timeouts(JsonArg),
    /// Show running connection-sync daemons.
    Daemon(JsonArg),
    /// Show the IPVS version, connection table size, whether rates are estimated, and (with
    /// --json) the IPVS sysctls.
    Info(JsonArg),
    /// Delete every virtual service (asks first on a terminal).
    Clear(YesArg),
    /// Delete one virtual service (asks first if it still has active connections).
    Delete(DeleteArgs),
    /// Live dashboard of services, real servers, rates and connections.
    Top(TopArgs),
    /// Lint rules files offline (no root, no kernel): exit 0 clean, 1 findings, 2 unreadable.
    Check(CheckArgs),
    /// Show what `apply` would change: exit 0 no drift, 2 drift, 1 error.
    Diff(DiffArgs),
    /// Bring the live table to a rules file with the fewest kernel writes.
    #[command(after_help = APPLY_EXIT)]
    Apply(ApplyArgs),
    /// ldirectord-compatible health checker (`lvsctl health --help`).
    #[command(disable_help_flag = true)]
    Health {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Run ipvsadm's command line explicitly: `lvsctl ipvsadm -Ln`.
    #[command(disable_help_flag = true)]
    Ipvsadm {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Write shell completions and man pages (for packagers).
    #[command(hide = true)]
    Generate {
        /// Directory that receives completions/ and man/.
        #[arg(long, default_value = ".")]
        out_dir: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct JsonArg {
    /// Print JSON for scripts instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct YesArg {
    /// Do not ask; required when standard input is not a terminal.
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print the versioned JSON document (see the README) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Only this service: `tcp:VIP:PORT`, `udp:…`, `sctp:…` or `fwmark:N[:6]`.
    #[arg(long)]
    pub service: Option<String>,
}

#[derive(Debug, Args)]
pub struct ConnsArgs {
    /// Print one JSON object per line.
    #[arg(long)]
    pub json: bool,
    /// Only connections of this virtual service (`ADDR:PORT`).
    #[arg(long)]
    pub service: Option<String>,
    /// Only connections to this real server (`ADDR[:PORT]`).
    #[arg(long)]
    pub real: Option<String>,
    /// Only connections from this client (`ADDR[:PORT]`).
    #[arg(long)]
    pub client: Option<String>,
    /// Only connections in this state (e.g. ESTABLISHED, SYN_RECV), case-insensitive.
    #[arg(long)]
    pub state: Option<String>,
    /// Stop after this many matching rows.
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// The service: `tcp:VIP:PORT`, `udp:…`, `sctp:…` or `fwmark:N[:6]`.
    pub service: String,
    #[command(flatten)]
    pub yes: YesArg,
}

#[derive(Debug, Args)]
pub struct TopArgs {
    /// Refresh interval: seconds (`1`, `0.5`) or with a unit (`500ms`, `2s`, `1m`).
    #[arg(long, short = 'i', default_value = "1")]
    pub interval: String,
    /// Disable every action that changes the kernel.
    #[arg(long)]
    pub read_only: bool,
    /// Show numeric addresses and ports (no name lookups).
    #[arg(long, short = 'n')]
    pub numeric: bool,
    /// Run on an in-memory director with synthetic traffic instead of the kernel: needs
    /// neither root nor IPVS, and actions change only the demo's table.
    #[arg(long)]
    pub demo: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Rules files (`ipvsadm -Sn` output or `lvsctl list --json`); `-` reads stdin.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The rules file (`ipvsadm -Sn` output or `lvsctl list --json`); `-` reads stdin.
    pub file: PathBuf,
    /// Print the plan as JSON.
    #[arg(long)]
    pub json: bool,
    /// Also plan deleting live services the file does not name.
    #[arg(long)]
    pub prune: bool,
}

/// `apply`'s exit statuses and signals, for --help and the man page.
const APPLY_EXIT: &str = "\
Exit status: 0 applied (or nothing to do); 1 an invalid file, another apply holding the \
lock, or a kernel error (the report on stderr, and with --json the result, lists the writes \
applied, refused and not sent).
SIGINT (Ctrl-C) and SIGTERM stop an apply between two batches of kernel writes, never in the \
middle of one, with the same report; --rollback then undoes the writes made (a signal does \
not stop the rollback itself). Exit status 130 after SIGINT, 143 after SIGTERM.";

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The rules file (`ipvsadm -Sn` output or `lvsctl list --json`); `-` reads stdin.
    pub file: PathBuf,
    /// Print the plan and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also delete live services the file does not name.
    #[arg(long)]
    pub prune: bool,
    /// Set real servers to weight 0 and wait for their active connections to end before
    /// deleting them.
    #[arg(long)]
    pub drain: bool,
    /// Longest wait for drained real servers, in seconds (then they are deleted anyway).
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub drain_timeout: u64,
    /// On a kernel error or SIGINT/SIGTERM, restore the services touched to their state
    /// before the apply.
    #[arg(long)]
    pub rollback: bool,
    /// Print the plan and the result as JSON.
    #[arg(long)]
    pub json: bool,
    /// Print every step of the plan, not only its summary.
    #[arg(long, short = 'v')]
    pub verbose: bool,
    /// Lock file that keeps two applies from running at once (a second one fails at once).
    #[arg(long, value_name = "PATH", default_value = crate::rules::lock::DEFAULT_LOCK_FILE)]
    pub lock_file: PathBuf,
}
