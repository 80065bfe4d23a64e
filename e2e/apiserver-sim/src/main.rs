#![forbid(unsafe_code)]

use std::io::Write;
use std::time::Duration;

use anyhow::Context;
use apiserver_sim::cli::{Cli, Command, DenyWebhookArgs, ServeArgs};
use apiserver_sim::{run, webhook_server};
use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let cli = Cli::parse();
    match cli.command {
        Some(Command::DenyWebhook(args)) => deny_webhook(args).await,
        None => serve(cli.serve).await,
    }
}

fn announce(address: std::net::SocketAddr) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "listening on https://{address}")?;
    stdout.flush()?;
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let kubeconfig_out = args
        .kubeconfig_out
        .context("--kubeconfig-out is required")?;
    let running = run::start(run::ServeOptions {
        listen: args.listen,
        kubeconfig_out,
        service_endpoints: args.service_endpoints.into_iter().collect(),
        watch_window: args.watch_window,
        bookmark_interval: Duration::from_millis(args.bookmark_interval_ms.max(10)),
        simulate_rollouts: args.simulate_rollouts,
    })
    .await?;
    announce(running.address)?;
    shutdown_signal().await
}

async fn deny_webhook(args: DenyWebhookArgs) -> anyhow::Result<()> {
    let listener = std::net::TcpListener::bind(&args.listen)
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let server = webhook_server::start(
        listener,
        &[args.dns_name.as_str(), "127.0.0.1"],
        webhook_server::deny_with(args.message),
    )?;
    std::fs::write(&args.ca_out, &server.ca_pem)
        .with_context(|| format!("cannot write {}", args.ca_out.display()))?;
    announce(server.address)?;
    shutdown_signal().await
}

async fn shutdown_signal() -> anyhow::Result<()> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    Ok(())
}
