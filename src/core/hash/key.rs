//! The install's hash key: why records are keyed, how a key is named, and which hashes of
//! the same data count as "already recorded".
//!
//! Records live in pod templates, which far more people can read than can read Secrets; a
//! plain SHA-256 of a low-entropy value (a PIN, a dictionary password) can be reversed by
//! brute force. Under HMAC-SHA256 with a secret per-install key it cannot. Each keyed
//! record carries the key's short id, so after a rotation the engine can tell "made under
//! the previous key" (compare like with like: hash the current data under that key) from
//! "made under a key we no longer have" (no baseline: never a reason to roll by itself).

use std::fmt;
use std::str::FromStr;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::{Running, SourceHash};

/// The shortest key accepted: 128 bits.
pub const MIN_KEY_BYTES: usize = 16;

/// The first four bytes of SHA-256 over a domain tag and the key: names a key in records
/// without revealing anything about it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyId([u8; 4]);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyId({self})")
    }
}

impl FromStr for KeyId {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut id = [0u8; 4];
        hex::decode_to_slice(s, &mut id).map_err(|_| KeyError::BadId)?;
        Ok(KeyId(id))
    }
}

/// Why key material or a key id was refused. Never carries the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("a hash key must be at least {MIN_KEY_BYTES} bytes, got {0}")]
    TooShort(usize),
    #[error("a key id is 8 hex digits")]
    BadId,
}

/// A secret key for keyed source hashes. Its `Debug` shows only the id.
#[derive(Clone)]
pub struct HashKey {
    id: KeyId,
    mac: Hmac<Sha256>,
}

impl HashKey {
    pub fn new(material: &[u8]) -> Result<Self, KeyError> {
        if material.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort(material.len()));
        }
        let mut h = Sha256::new();
        h.update(b"reloader hash key id\0");
        h.update(material);
        let digest: [u8; 32] = h.finalize().into();
        let id = KeyId([digest[0], digest[1], digest[2], digest[3]]);
        // HMAC accepts any key length; the error cannot happen.
        let mac = Hmac::<Sha256>::new_from_slice(material).map_err(|_| KeyError::TooShort(0))?;
        Ok(HashKey { id, mac })
    }

    pub fn id(&self) -> KeyId {
        self.id
    }
}

impl fmt::Debug for HashKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HashKey({})", self.id)
    }
}

/// How source data is hashed: plain SHA-256, or HMAC-SHA256 under a key.
#[derive(Clone, Debug, Default)]
pub enum Hasher {
    #[default]
    Plain,
    Keyed(HashKey),
}

impl Hasher {
    pub fn key_id(&self) -> Option<KeyId> {
        match self {
            Hasher::Plain => None,
            Hasher::Keyed(k) => Some(k.id),
        }
    }

    pub(super) fn start(&self) -> Running {
        match self {
            Hasher::Plain => Running::Plain(Sha256::new()),
            Hasher::Keyed(k) => Running::Keyed(k.id, Box::new(k.mac.clone())),
        }
    }
}

/// The key new records are made under, and the schemes older records may have been made
/// under that the engine can still reproduce: previous keys (a rotation) and plain SHA-256
/// (an install from before keys, or one that ran without a key).
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    current: Hasher,
    others: Vec<Hasher>,
}

impl KeyRing {
    /// Records under `current`; `previous` keys still recognised. Plain SHA-256 is always
    /// recognised when `current` is keyed, so turning keys on rolls nothing.
    pub fn new(current: Option<HashKey>, previous: Vec<HashKey>) -> Self {
        let current_id = current.as_ref().map(HashKey::id);
        let mut others: Vec<Hasher> = Vec::new();
        for key in previous {
            if Some(key.id) != current_id && !others.iter().any(|h| h.key_id() == Some(key.id)) {
                others.push(Hasher::Keyed(key));
            }
        }
        let current = match current {
            Some(key) => {
                others.push(Hasher::Plain);
                Hasher::Keyed(key)
            }
            None => Hasher::Plain,
        };
        KeyRing { current, others }
    }

    /// Plain SHA-256 only: no key configured.
    pub fn plain() -> Self {
        Self::default()
    }

    /// The hasher for new records.
    pub fn current(&self) -> &Hasher {
        &self.current
    }

    /// The same data under every other scheme this ring knows: a record equal to one of
    /// these is up to date although it is not what the current key would write.
    pub fn same_data(&self, hash: impl Fn(&Hasher) -> SourceHash) -> Vec<SourceHash> {
        self.others.iter().map(hash).collect()
    }
}
