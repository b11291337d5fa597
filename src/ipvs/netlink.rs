//! The netlink backend: one socket, batched requests, errors mapped back to their request.
