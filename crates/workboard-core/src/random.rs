//! Injected randomness. The core never asks the OS for entropy: hosts pass an [`Entropy`]
//! source (the OS RNG, `crypto.getRandomValues`, a seeded generator in tests).

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// A source of random bytes supplied by the host.
pub trait Entropy {
    /// Fills `buf` with cryptographically secure random bytes.
    fn fill_bytes(&mut self, buf: &mut [u8]);
}

impl<E: Entropy + ?Sized> Entropy for &mut E {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        (**self).fill_bytes(buf)
    }
}

/// A deterministic generator (SHA-256 in counter mode over a seed).
///
/// Secure when the seed holds 32 bytes of real entropy (hosts may seed it once from the OS
/// and then use it); deterministic for tests and transcript replay.
#[derive(Clone)]
pub struct SeededEntropy {
    seed: [u8; 32],
    counter: u64,
}

impl SeededEntropy {
    /// A generator over `seed`.
    pub fn new(seed: [u8; 32]) -> Self {
        SeededEntropy { seed, counter: 0 }
    }

    /// A generator over any bytes (hashed to a 32-byte seed).
    pub fn from_bytes(seed: &[u8]) -> Self {
        let digest: [u8; 32] = Sha256::digest(seed).into();
        SeededEntropy::new(digest)
    }
}

impl std::fmt::Debug for SeededEntropy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SeededEntropy(<redacted>)")
    }
}

impl Entropy for SeededEntropy {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(32) {
            let mut h = Sha256::new();
            h.update(self.seed);
            h.update(self.counter.to_le_bytes());
            self.counter = self.counter.wrapping_add(1);
            let block: [u8; 32] = h.finalize().into();
            chunk.copy_from_slice(&block[..chunk.len()]);
        }
    }
}

/// `n` random bytes as unpadded base64url (for `state`, PKCE verifiers, nonces).
pub(crate) fn random_token(entropy: &mut dyn Entropy, n: usize) -> String {
    let mut bytes = vec![0u8; n];
    entropy.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_is_deterministic_and_distinct() {
        let mut a = SeededEntropy::new([7; 32]);
        let mut b = SeededEntropy::new([7; 32]);
        let t1 = random_token(&mut a, 32);
        assert_eq!(t1, random_token(&mut b, 32));
        assert_ne!(t1, random_token(&mut a, 32));
        assert_eq!(t1.len(), 43);
    }
}
