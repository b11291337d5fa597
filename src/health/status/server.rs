//! The socket side: one JSON document per connection, then close. The socket file is
//! mode 0600 in a 0700 directory: health state and reasons are for root only.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tokio::io::AsyncWriteExt;
use tokio::net::UnixListener;
use tokio::sync::{mpsc, oneshot};

use super::StatusReport;

/// Serves status documents obtained from the event loop through `ask`. Returns an error
/// only if the socket cannot be set up; the caller logs it and runs without the API.
pub fn serve(
    path: &Path,
    ask: mpsc::UnboundedSender<oneshot::Sender<StatusReport>>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    let _ = std::fs::remove_file(path);
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    Ok(tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (tx, rx) = oneshot::channel();
            if ask.send(tx).is_err() {
                return;
            }
            let Ok(report) = rx.await else { return };
            let mut body = serde_json::to_vec(&report).unwrap_or_default();
            body.push(b'\n');
            // A client that went away is its own problem.
            let _ = stream.write_all(&body).await;
        }
    }))
}
