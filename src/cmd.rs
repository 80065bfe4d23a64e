//! The command layer: `reloader`'s subcommands. Flags are parsed here, once, into the plain
//! settings the layers below take; nothing under `webhook`, `reload` or `alerts` sees clap.

pub mod alert_flags;
pub mod certs;
pub mod cli;
pub mod engine_flags;
pub mod meta_info;
pub mod serve;
pub mod telemetry;
pub mod webhook_config;
