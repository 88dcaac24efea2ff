//! RSA keys for the imitation credentials (service-account keys, certificate credentials),
//! generated per run so no private key lives in the repository.

use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};

pub struct KeyPair {
    pub private_pem: String,
    pub public_pem: String,
}

/// A fresh 2048-bit RSA key pair (about a tenth of a second in a release build).
pub fn generate() -> KeyPair {
    let mut rng = rsa::rand_core::OsRng;
    let key = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("RSA key generation");
    KeyPair {
        private_pem: key
            .to_pkcs8_pem(LineEnding::LF)
            .expect("PKCS#8 encoding")
            .to_string(),
        public_pem: key
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("public key encoding"),
    }
}

/// Verifies an RS256 JWT and returns its header and claims. Expiry is checked; the audience is
/// left to the caller.
pub fn verify_rs256(
    jwt: &str,
    public_pem: &str,
) -> Result<(jsonwebtoken::Header, serde_json::Value), String> {
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(public_pem.as_bytes())
        .map_err(|e| e.to_string())?;
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.validate_aud = false;
    validation.required_spec_claims = ["exp".to_string()].into_iter().collect();
    validation.leeway = 300;
    let data = jsonwebtoken::decode::<serde_json::Value>(jwt, &key, &validation)
        .map_err(|e| e.to_string())?;
    Ok((data.header, data.claims))
}
