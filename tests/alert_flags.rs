//! The process-wide alert settings come from stakater's environment variables, and their
//! values (the webhook URL is a credential) never show in `--help`.

use std::process::Command;

#[test]
fn help_names_the_alert_variables_but_never_their_values() {
    let out = Command::new(env!("CARGO_BIN_EXE_reloader"))
        .args(["serve", "--help"])
        .env(
            "ALERT_WEBHOOK_URL",
            "https://hooks.example.com/services/T0KEN-4b1d",
        )
        .env(
            "ALERT_WEBHOOK_PROXY",
            "http://user:pr0xy-pw@proxy.example:3128",
        )
        .env("ALERT_ADDITIONAL_INFO", "cluster-info-7c2e")
        .output()
        .expect("reloader runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for variable in [
        "ALERT_ON_RELOAD",
        "ALERT_SINK",
        "ALERT_WEBHOOK_URL",
        "ALERT_ADDITIONAL_INFO",
        "ALERT_WEBHOOK_PROXY",
    ] {
        assert!(
            help.contains(&format!("[env: {variable}]")),
            "{variable}:\n{help}"
        );
    }
    for value in ["T0KEN-4b1d", "pr0xy-pw", "cluster-info-7c2e"] {
        assert!(!help.contains(value), "{value} shown:\n{help}");
    }
}
