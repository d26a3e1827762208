//! PKCE (RFC 7636), `S256` only: a verifier from injected entropy and its challenge.
//!
//! OAuth 2.1 and the MCP authorization spec require `S256` whenever the client can compute
//! SHA-256, which this SDK always can; `plain` is never produced.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::error::Error;
use crate::random::Entropy;
use crate::secret::SecretString;

/// The only code challenge method this SDK uses.
pub const METHOD_S256: &str = "S256";

/// Minimum verifier length (RFC 7636 §4.1).
pub const MIN_VERIFIER_LEN: usize = 43;
/// Maximum verifier length (RFC 7636 §4.1).
pub const MAX_VERIFIER_LEN: usize = 128;

/// A PKCE pair. `Debug` never shows the verifier.
#[derive(Clone, PartialEq, Eq)]
pub struct Pkce {
    verifier: SecretString,
    challenge: String,
}

impl Pkce {
    /// A fresh pair: 32 random bytes as base64url make a 43-character verifier.
    pub fn generate(entropy: &mut dyn Entropy) -> Pkce {
        Pkce::generate_len(entropy, MIN_VERIFIER_LEN)
    }

    /// A fresh pair with a verifier of `len` characters (clamped to 43..=128).
    pub fn generate_len(entropy: &mut dyn Entropy, len: usize) -> Pkce {
        let len = len.clamp(MIN_VERIFIER_LEN, MAX_VERIFIER_LEN);
        // Every 3 bytes give 4 characters; draw enough and cut.
        let mut bytes = vec![0u8; len.div_ceil(4) * 3];
        entropy.fill_bytes(&mut bytes);
        let mut verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
        verifier.truncate(len);
        let challenge = challenge_s256(&verifier);
        Pkce {
            verifier: SecretString::new(verifier),
            challenge,
        }
    }

    /// A pair from an existing verifier (e.g. restored from a pending authorization).
    ///
    /// The verifier must be 43–128 characters of `[A-Za-z0-9-._~]`.
    pub fn from_verifier(verifier: &str) -> Result<Pkce, Error> {
        validate_verifier(verifier)?;
        Ok(Pkce {
            verifier: SecretString::new(verifier),
            challenge: challenge_s256(verifier),
        })
    }

    /// The verifier (sent to the token endpoint as `code_verifier`).
    pub fn verifier(&self) -> &SecretString {
        &self.verifier
    }

    /// The challenge (sent to the authorization endpoint as `code_challenge`).
    pub fn challenge(&self) -> &str {
        &self.challenge
    }

    /// Always [`METHOD_S256`].
    pub fn method(&self) -> &'static str {
        METHOD_S256
    }
}

impl std::fmt::Debug for Pkce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkce")
            .field("verifier", &self.verifier)
            .field("challenge", &self.challenge)
            .field("method", &METHOD_S256)
            .finish()
    }
}

/// `BASE64URL(SHA256(ASCII(verifier)))`, unpadded (RFC 7636 §4.2).
pub fn challenge_s256(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Checks length (43–128) and alphabet (`unreserved`, RFC 7636 §4.1).
pub fn validate_verifier(verifier: &str) -> Result<(), Error> {
    let len = verifier.len();
    if !(MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&len) {
        return Err(Error::InvalidInput {
            what: "PKCE code verifier".into(),
            reason: format!("length {len} is outside 43..=128"),
        });
    }
    if !verifier
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    {
        return Err(Error::InvalidInput {
            what: "PKCE code verifier".into(),
            reason: "contains characters outside [A-Za-z0-9-._~]".into(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::random::SeededEntropy;

    /// RFC 7636 Appendix B: the 32 octets, their base64url verifier and the S256 challenge.
    #[test]
    fn rfc7636_appendix_b() {
        let octets: [u8; 32] = [
            116, 24, 223, 180, 151, 153, 224, 37, 79, 250, 96, 125, 216, 173, 187, 186, 22, 212,
            37, 77, 105, 214, 191, 240, 91, 88, 5, 88, 83, 132, 141, 121,
        ];
        let verifier = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(octets);
        assert_eq!(verifier, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        let p = Pkce::from_verifier(&verifier).unwrap();
        assert_eq!(p.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        assert_eq!(p.method(), "S256");
    }

    #[test]
    fn generated_verifiers_are_valid_and_distinct() {
        let mut e = SeededEntropy::new([3; 32]);
        let a = Pkce::generate(&mut e);
        let b = Pkce::generate(&mut e);
        assert_ne!(a.verifier().expose(), b.verifier().expose());
        for len in [0, 43, 44, 64, 127, 128, 500] {
            let p = Pkce::generate_len(&mut e, len);
            let v = p.verifier().expose();
            assert_eq!(v.len(), len.clamp(43, 128));
            validate_verifier(v).unwrap();
            assert_eq!(p.challenge(), challenge_s256(v));
        }
    }

    #[test]
    fn bad_verifiers_are_typed_errors_and_debug_is_redacted() {
        assert_eq!(
            Pkce::from_verifier("short").unwrap_err().code(),
            "invalid_input"
        );
        let bad = format!("{}+", "a".repeat(50));
        assert_eq!(
            Pkce::from_verifier(&bad).unwrap_err().code(),
            "invalid_input"
        );
        let p = Pkce::generate(&mut SeededEntropy::new([9; 32]));
        assert!(!format!("{p:?}").contains(p.verifier().expose()));
    }
}
