//! Checking an alert URL before anything is sent to it, and naming it safely in logs.
//!
//! Chat webhook URLs carry their token in the path or query, so only the scheme and host
//! are ever shown.

use reqwest::Url;

use crate::alerts::error::AlertError;

/// The URL to post to: absolute, with a host, `https` (or `http` when allowed).
pub fn checked(text: &str, allow_insecure: bool) -> Result<Url, AlertError> {
    let url = Url::parse(text.trim()).map_err(|_| AlertError::InvalidUrl)?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(AlertError::InvalidUrl);
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure => Ok(url),
        "http" => Err(AlertError::InsecureUrl),
        _ => Err(AlertError::InvalidUrl),
    }
}

/// `https://hooks.slack.com`: what logs may say about a URL.
pub fn shown(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{}://{host}:{port}", url.scheme()),
        (Some(host), None) => format!("{}://{host}", url.scheme()),
        _ => url.scheme().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_urls_are_posted_to() {
        let table = [
            ("https://hooks.slack.com/services/T/B/X", false, Ok(())),
            ("  https://example.com/hook  ", false, Ok(())),
            ("http://receiver.ns.svc/hook", true, Ok(())),
            (
                "http://receiver.ns.svc/hook",
                false,
                Err(AlertError::InsecureUrl),
            ),
            ("ftp://example.com/x", true, Err(AlertError::InvalidUrl)),
            (
                "hooks.slack.com/services",
                false,
                Err(AlertError::InvalidUrl),
            ),
            ("", false, Err(AlertError::InvalidUrl)),
        ];
        for (text, allow_insecure, want) in table {
            let got = checked(text, allow_insecure).map(|_| ());
            assert_eq!(
                got.map_err(|e| e.label()),
                want.map_err(|e: AlertError| e.label()),
                "{text:?} (insecure allowed: {allow_insecure})"
            );
        }
    }

    #[test]
    fn logs_name_only_scheme_host_and_port() {
        let table = [
            (
                "https://hooks.slack.com/services/T0/B0/token?x=secret",
                "https://hooks.slack.com",
            ),
            (
                "http://user:pass@127.0.0.1:8080/path",
                "http://127.0.0.1:8080",
            ),
        ];
        for (text, want) in table {
            assert_eq!(shown(&Url::parse(text).unwrap()), want);
        }
    }
}
