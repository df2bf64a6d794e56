//! Test support shared by the ACS unit tests (`saml::tests`) and the integration tests (`server/tests/it/saml_*`):
//! RSA keys with self-signed certificates made at test time, and xmlsec signing through samael. Compiled only for
//! tests: `cfg(test)` here, the `testing` feature for the integration tests (a dev-dependency of the crate on
//! itself turns it on). Nothing in it is part of the server.

use base64::Engine;
use openssl::asn1::Asn1Time;
use openssl::bn::BigNum;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509Builder, X509NameBuilder};
use samael::crypto::{Crypto, CryptoProvider};

use super::SigningCertificate;

/// An RSA key and its self-signed certificate.
pub struct TestKey {
    /// The key.
    pub pkey: PKey<Private>,
    /// The private key, DER (what samael signs with).
    pub private_der: Vec<u8>,
    /// The certificate, DER.
    pub cert_der: Vec<u8>,
}

impl TestKey {
    /// A 2048-bit RSA key with a certificate for `cn`, valid for ten years from today.
    pub fn generate(cn: &str) -> TestKey {
        let pkey = PKey::from_rsa(Rsa::generate(2048).expect("RSA key")).expect("PKey");
        let mut name = X509NameBuilder::new().expect("name builder");
        name.append_entry_by_text("CN", cn).expect("CN");
        let name = name.build();
        let mut builder = X509Builder::new().expect("X509 builder");
        builder.set_version(2).expect("version");
        let serial = BigNum::from_u32(1).and_then(|n| n.to_asn1_integer()).expect("serial");
        builder.set_serial_number(&serial).expect("serial");
        builder.set_subject_name(&name).expect("subject");
        builder.set_issuer_name(&name).expect("issuer");
        builder.set_pubkey(&pkey).expect("pubkey");
        builder.set_not_before(&Asn1Time::days_from_now(0).expect("time")).expect("not before");
        builder.set_not_after(&Asn1Time::days_from_now(3650).expect("time")).expect("not after");
        builder.sign(&pkey, MessageDigest::sha256()).expect("self-sign");
        let cert = builder.build();
        TestKey {
            private_der: pkey.private_key_to_der().expect("key DER"),
            cert_der: cert.to_der().expect("cert DER"),
            pkey,
        }
    }

    /// The certificate as a connection holds it.
    pub fn cert(&self) -> SigningCertificate {
        SigningCertificate::from_der(self.cert_der.clone()).expect("valid certificate")
    }

    /// The certificate as metadata and KeyInfo carry it: base64 DER.
    pub fn cert_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.cert_der)
    }

    /// The certificate, PEM.
    pub fn cert_pem(&self) -> String {
        let pem = openssl::x509::X509::from_der(&self.cert_der).and_then(|c| c.to_pem()).expect("PEM");
        String::from_utf8(pem).expect("PEM is ASCII")
    }

    /// Signs XML holding a signature template with xmlsec, and drops the XML declaration libxml2 adds, so the
    /// result can be embedded in a Response.
    pub fn sign_xml(&self, xml: &str) -> String {
        let signed = Crypto::sign_xml(xml, &self.private_der).expect("xmlsec signs");
        match signed.strip_prefix("<?xml") {
            Some(rest) => rest.split_once("?>").map(|(_, body)| body.trim_start().to_owned()).unwrap_or(signed),
            None => signed,
        }
    }

    /// An RSA-SHA256 signature of the HTTP-Redirect binding's octets (SAML Bindings §3.4.4.1), base64.
    pub fn sign_query(&self, octets: &str) -> String {
        let mut signer = openssl::sign::Signer::new(MessageDigest::sha256(), &self.pkey).expect("signer");
        signer.update(octets.as_bytes()).expect("update");
        base64::engine::general_purpose::STANDARD.encode(signer.sign_to_vec().expect("sign"))
    }
}
