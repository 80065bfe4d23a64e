//! Command line: every flag has an environment fallback.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "reloader",
    version,
    about = "Rolls workloads when the Secrets and ConfigMaps they use change"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the ReloaderConfig CustomResourceDefinition as YAML.
    Crd,
    /// Print the version.
    Version,
}
