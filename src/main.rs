#![forbid(unsafe_code)]

use clap::Parser;
use reloader::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Explicit, so no other crate's default provider is picked by accident.
    let _ = rustls::crypto::ring::default_provider().install_default();
    match Cli::parse().command {
        Command::Crd => print!("{}", reloader::crd::crd_yaml()?),
        Command::Version => println!("reloader {}", env!("CARGO_PKG_VERSION")),
    }
    Ok(())
}
