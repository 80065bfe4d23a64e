use std::collections::BTreeMap;

use super::*;
use crate::hash::tests::{cm as configmap, secret};

// Known answers: SHA-1 of the joined text, worked out apart from this code
// (`python3 -c 'import hashlib; print(hashlib.sha1(b"a=1;b=2").hexdigest())'`).
#[test]
fn hashes_match_stakaters_encoding() {
    let cases = [
        (
            "ConfigMap data, sorted and joined",
            StakaterHash::configmap(&configmap(&[("b", "2"), ("a", "1")], &[])),
            "f83e99e324ba68ccc373a58ef1eb42f8ab88646a", // a=1;b=2
        ),
        (
            "binaryData in standard base64 beside data",
            StakaterHash::configmap(&configmap(&[("a", "x")], &[("bin", &[0xff, 0x00])])),
            "3a00cf3ce34712a265b6234b65674aa9f458b2ca", // a=x;bin=/wA=
        ),
        (
            "whole entries are sorted, not keys",
            StakaterHash::configmap(&configmap(&[("a", "z"), ("a.b", "1")], &[])),
            "67105b9ced2f71215d1a4a4146b9464dd568bbf4", // a.b=1;a=z
        ),
        (
            "Secret values as their decoded bytes",
            StakaterHash::secret(&secret(&[("user", b"admin"), ("password", b"hunter2")])),
            "40a4a8b97a438eafc2e54768f96e1d4895cf4a0c", // password=hunter2;user=admin
        ),
        (
            "an empty ConfigMap is SHA-1 of nothing",
            StakaterHash::configmap(&ConfigMap::default()),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
        (
            "an empty Secret likewise",
            StakaterHash::secret(&Secret::default()),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709",
        ),
    ];
    for (name, hash, want) in cases {
        assert_eq!(hash.to_string(), want, "case {name}");
        assert_eq!(
            want.parse::<StakaterHash>(),
            Ok(hash),
            "case {name}: parses back"
        );
    }
}

#[test]
fn string_data_counts_as_the_api_server_folds_it() {
    let mut folded = secret(&[("user", b"admin")]);
    folded.string_data = Some(BTreeMap::from([
        ("password".to_string(), "hunter2".to_string()),
        ("user".to_string(), "admin".to_string()),
    ]));
    assert_eq!(
        StakaterHash::secret(&folded),
        StakaterHash::secret(&secret(&[("user", b"admin"), ("password", b"hunter2")]))
    );
}

#[test]
fn only_40_hex_digits_are_a_stakater_record() {
    let cases = [
        ("39 digits", "f83e99e324ba68ccc373a58ef1eb42f8ab88646"),
        ("41 digits", "f83e99e324ba68ccc373a58ef1eb42f8ab88646aa"),
        (
            "reloader's own SHA-256",
            "0000000000000000000000000000000000000000000000000000000000000000",
        ),
        ("not hex", "g83e99e324ba68ccc373a58ef1eb42f8ab88646a"),
        ("empty", ""),
    ];
    for (name, text) in cases {
        assert!(text.parse::<StakaterHash>().is_err(), "case {name}");
    }
}
