#![forbid(unsafe_code)]

use reloader::cmd::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    // Explicit, so no other crate's default provider is picked by accident.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = Cli::parse_args();
    reloader::cmd::telemetry::init(cli.log_format, &cli.log_level)?;
    let logging = reloader::cmd::meta_info::Logging {
        format: cli.log_format,
        level: cli.log_level.clone(),
    };
    match cli.command {
        Command::Crd => print!("{}", reloader_core::crd::crd_yaml()?),
        Command::Serve(args) => reloader::cmd::serve::run(*args, logging).await?,
        Command::Certs(args) => reloader::cmd::certs::run(&args)?,
        Command::WebhookConfig(args) => reloader::cmd::webhook_config::run_cli(&args)?,
        Command::Version => println!("reloader {}", env!("CARGO_PKG_VERSION")),
    }
    Ok(())
}
