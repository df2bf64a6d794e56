//! The IdP's signing key: an RSA key and its self-signed X.509 certificate.

use std::path::Path;

use base64::Engine;
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509Builder, X509NameBuilder};

use super::SamlIdpError;

/// The common name of the certificate [`IdpKey::foreign`] makes.
pub const FOREIGN_COMMON_NAME: &str = "attacker.invalid";

/// An RSA key and the self-signed certificate an IdP publishes for it, kept as DER.
#[derive(Clone)]
pub struct IdpKey {
    private_der: Vec<u8>,
    cert_der: Vec<u8>,
    cert_pem: String,
}

impl std::fmt::Debug for IdpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("IdpKey").field("certificate", &self.certificate_base64()).finish_non_exhaustive()
    }
}

fn key_error(what: &'static str) -> impl FnOnce(openssl::error::ErrorStack) -> SamlIdpError {
    move |source| SamlIdpError::Key { what, source }
}

impl IdpKey {
    /// A fresh 2048-bit RSA key and a self-signed certificate for `common_name`, valid for ten years from now.
    pub fn generate(common_name: &str) -> Result<IdpKey, SamlIdpError> {
        let pkey = Rsa::generate(2048).and_then(PKey::from_rsa).map_err(key_error("generate an RSA key"))?;
        let cert = self_signed(&pkey, common_name).map_err(key_error("make a self-signed certificate"))?;
        IdpKey::from_parts(&pkey, &cert)
    }

    /// An attacker's key: unrelated to any IdP's, with a certificate of its own (CN [`FOREIGN_COMMON_NAME`]).
    pub fn foreign() -> Result<IdpKey, SamlIdpError> {
        IdpKey::generate(FOREIGN_COMMON_NAME)
    }

    /// A key and certificate from PEM text (PKCS#8 or PKCS#1 key); refused unless the certificate is the key's.
    pub fn from_pem(private_key_pem: &[u8], certificate_pem: &[u8]) -> Result<IdpKey, SamlIdpError> {
        let pkey = PKey::private_key_from_pem(private_key_pem).map_err(key_error("read the PEM private key"))?;
        let cert = X509::from_pem(certificate_pem).map_err(key_error("read the PEM certificate"))?;
        let public = cert.public_key().map_err(key_error("read the certificate's public key"))?;
        if !public.public_eq(&pkey) {
            return Err(SamlIdpError::KeyMismatch);
        }
        IdpKey::from_parts(&pkey, &cert)
    }

    /// A key and certificate from two PEM files.
    pub fn from_pem_files(private_key: &Path, certificate: &Path) -> Result<IdpKey, SamlIdpError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|source| SamlIdpError::KeyFile { path: path.display().to_string(), source })
        };
        IdpKey::from_pem(&read(private_key)?, &read(certificate)?)
    }

    fn from_parts(pkey: &PKey<Private>, cert: &X509) -> Result<IdpKey, SamlIdpError> {
        let private_der = pkey.private_key_to_der().map_err(key_error("encode the private key"))?;
        let cert_der = cert.to_der().map_err(key_error("encode the certificate"))?;
        let cert_pem = cert
            .to_pem()
            .map_err(key_error("encode the certificate"))
            .map(|pem| String::from_utf8_lossy(&pem).into_owned())?;
        Ok(IdpKey { private_der, cert_der, cert_pem })
    }

    /// The private key as DER (what xmlsec signs with).
    pub(crate) fn private_der(&self) -> &[u8] {
        &self.private_der
    }

    /// The private key as PKCS#8 PEM, to save beside the certificate.
    pub fn private_key_pem(&self) -> Result<String, SamlIdpError> {
        let pkey = PKey::private_key_from_der(&self.private_der).map_err(key_error("read the private key"))?;
        let pem = pkey.private_key_to_pem_pkcs8().map_err(key_error("encode the private key"))?;
        Ok(String::from_utf8_lossy(&pem).into_owned())
    }

    /// The certificate as DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The certificate as PEM (`-----BEGIN CERTIFICATE-----`).
    pub fn certificate_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The certificate as one line of base64 DER, as `ds:X509Certificate` holds it.
    pub fn certificate_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.cert_der)
    }
}

fn self_signed(pkey: &PKey<Private>, common_name: &str) -> Result<X509, openssl::error::ErrorStack> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", common_name)?;
    let name = name.build();
    let mut builder = X509Builder::new()?;
    builder.set_version(2)?;
    // A random positive serial, so two keys of one name never share issuer and serial.
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    builder.set_serial_number(&*serial.to_asn1_integer()?)?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_pubkey(pkey)?;
    builder.set_not_before(&*Asn1Time::days_from_now(0)?)?;
    builder.set_not_after(&*Asn1Time::days_from_now(3650)?)?;
    builder.sign(pkey, MessageDigest::sha256())?;
    Ok(builder.build())
}
