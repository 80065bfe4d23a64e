//! HTTPS serving: the accept loop, routing and the `/_sim/` hooks.

pub mod dispatch;
pub mod request;
pub mod response;
pub mod route;
pub mod server;
mod sim;
