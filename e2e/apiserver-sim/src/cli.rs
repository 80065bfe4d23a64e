//! Command-line contract (other tests and tools depend on it; keep it stable).

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "apiserver-sim",
    about = "A Kubernetes API server simulator for end-to-end tests",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to serve HTTPS on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Where to write a kubeconfig for kubectl and kube-rs.
    #[arg(long)]
    pub kubeconfig_out: Option<PathBuf>,
    /// Where webhook `clientConfig.service` NS/NAME is reachable, as NS/NAME=HOST:PORT.
    #[arg(long = "service-endpoint", value_parser = parse_service_endpoint)]
    pub service_endpoints: Vec<(String, String)>,
    /// How many past changes watches can resume from before getting 410 Gone.
    #[arg(long, default_value_t = 1000)]
    pub watch_window: usize,
    /// How often watches that asked for bookmarks get one, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub bookmark_interval_ms: u64,
    /// Report every workload generation as fully rolled out (stand-in for controllers).
    #[arg(long)]
    pub simulate_rollouts: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// A tiny TLS admission webhook that denies every request.
    DenyWebhook(DenyWebhookArgs),
}

#[derive(Debug, clap::Args)]
pub struct DenyWebhookArgs {
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: String,
    /// Where to write the PEM CA certificate to put (base64) into `caBundle`.
    #[arg(long)]
    pub ca_out: PathBuf,
    /// DNS name of the serving certificate, e.g. `deny.default.svc` for a service reference.
    #[arg(long, default_value = "localhost")]
    pub dns_name: String,
    /// The denial message.
    #[arg(long, default_value = "denied by deny-webhook")]
    pub message: String,
}

fn parse_service_endpoint(text: &str) -> Result<(String, String), String> {
    let (service, address) = text.split_once('=').ok_or("expected NS/NAME=HOST:PORT")?;
    if !service.contains('/') || !address.contains(':') {
        return Err("expected NS/NAME=HOST:PORT".into());
    }
    Ok((service.to_string(), address.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_contract() {
        let cli = Cli::try_parse_from([
            "apiserver-sim",
            "--listen",
            "127.0.0.1:0",
            "--kubeconfig-out",
            "/tmp/k",
            "--service-endpoint",
            "sys/hook=127.0.0.1:9443",
            "--watch-window",
            "5",
        ])
        .expect("parses");
        assert!(cli.command.is_none());
        assert_eq!(
            cli.serve.service_endpoints,
            vec![("sys/hook".to_string(), "127.0.0.1:9443".to_string())]
        );
        assert_eq!(cli.serve.watch_window, 5);
    }

    #[test]
    fn rejects_malformed_service_endpoint() {
        assert!(
            Cli::try_parse_from([
                "apiserver-sim",
                "--kubeconfig-out",
                "/k",
                "--service-endpoint",
                "hook"
            ])
            .is_err()
        );
    }

    #[test]
    fn parses_deny_webhook_mode() {
        let cli = Cli::try_parse_from([
            "apiserver-sim",
            "deny-webhook",
            "--ca-out",
            "/tmp/ca.pem",
            "--message",
            "no",
        ])
        .expect("parses");
        assert!(
            matches!(cli.command, Some(Command::DenyWebhook(DenyWebhookArgs { ref message, .. })) if message == "no")
        );
    }
}
