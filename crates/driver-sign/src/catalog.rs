//! Catalog files (`.cat`): a signed Microsoft certificate trust list (CTL) of file hashes.
//!
//! Structure (MS-CAESO "CertificateTrustList"; member and attribute layouts as found in
//! catalogs made by Microsoft tools, e.g. `inf2cat` and the Hardware Dev Center):
//!
//! ```text
//! ContentInfo { contentType id-signedData (1.2.840.113549.1.7.2),
//!   content [0] SignedData {                      -- PKCS #7, version 1
//!     digestAlgorithms { sha256 },
//!     contentInfo { contentType szOID_CTL (1.3.6.1.4.1.311.10.1),
//!                   content [0] EXPLICIT CertificateTrustList },   -- no OCTET STRING wrapper
//!     certificates [0] { signer certificate },
//!     signerInfos { v1, issuerAndSerialNumber, sha256,
//!                   signedAttrs { contentType = szOID_CTL, messageDigest },
//!                   rsaEncryption, signature } } }
//!
//! CertificateTrustList ::= SEQUENCE {
//!   version            INTEGER DEFAULT v1(0),      -- omitted
//!   subjectUsage       SEQUENCE OF OID,            -- { szOID_CATALOG_LIST 1.3.6.1.4.1.311.12.1.1 }
//!   listIdentifier     OCTET STRING OPTIONAL,      -- 16 bytes (a GUID in Microsoft's catalogs)
//!   sequenceNumber     INTEGER OPTIONAL,           -- omitted
//!   ctlThisUpdate      Time,                       -- UTCTime
//!   ctlNextUpdate      Time OPTIONAL,              -- omitted
//!   subjectAlgorithm   AlgorithmIdentifier,        -- szOID_CATALOG_LIST_MEMBER 1.3.6.1.4.1.311.12.1.2, NULL
//!   trustedSubjects    SEQUENCE OF TrustedSubject OPTIONAL,
//!   ctlExtensions      [0] EXPLICIT Extensions OPTIONAL }   -- catalog attributes
//!
//! TrustedSubject ::= SEQUENCE {                    -- one per member file
//!   subjectIdentifier  OCTET STRING,               -- the "tag": hex of the SHA-1 hash, UTF-16LE, NUL-terminated
//!   subjectAttributes  SET OF Attribute {
//!     CAT_NAMEVALUE (1.3.6.1.4.1.311.12.2.1)  { "File" = name }, { "OSAttr" = "2:10.0" },
//!     CAT_MEMBERINFO (1.3.6.1.4.1.311.12.2.2) { subject GUID (BMPString), certVersion 512 },
//!     SPC_INDIRECT_DATA (1.3.6.1.4.1.311.2.1.4) { SpcIndirectDataContent } } }
//!
//! NameValue ::= SEQUENCE { name BMPString, flags INTEGER, value OCTET STRING (UTF-16LE, NUL) }
//! ```
//!
//! The member hash is SHA-1 (a "version 1" catalog: subject algorithm 12.1.2), the form that
//! `inf2cat`-style driver catalogs use and that every Windows 10/11 release accepts; the
//! catalog's own signature is SHA-256 with RSA. For a PE image the indirect data is
//! `SPC_PE_IMAGE_DATAOBJ` (1.3.6.1.4.1.311.2.1.15) and the hash is the Authenticode hash; for any
//! other file it is `SPC_CAB_DATA_OBJID` (1.3.6.1.4.1.311.2.1.25) and the hash covers the whole
//! file. Catalog attributes are `CAT_NAMEVALUE` extensions, e.g. `OS` = `_v100_X64` and
//! `HWID1` = `root\rvmini` for `inf2cat /os:10_x64`.
//!
//! Everything is encoded with `der`/`cms`/`x509-cert` types; nothing is assembled byte by byte.

use std::time::SystemTime;

use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier;
use der::asn1::{Any, BmpString, OctetString, SetOfVec, UtcTime};
use der::{DateTime, Decode, Encode};
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use signature::{SignatureEncoding, Signer, Verifier};
use spki::AlgorithmIdentifierOwned;
use x509_cert::attr::Attribute;
use x509_cert::ext::Extension;
use x509_cert::time::Time;

use crate::Error;
use crate::identity::SigningIdentity;
use crate::pe::{HashAlgorithm, authenticode_digest, looks_like_pe};

/// Object identifiers used in catalogs.
pub mod oid {
    use const_oid::ObjectIdentifier as Oid;

    /// szOID_CTL: content type of a certificate trust list.
    pub const CTL: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.10.1");
    /// szOID_CATALOG_LIST: subject usage of a catalog.
    pub const CATALOG_LIST: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.12.1.1");
    /// szOID_CATALOG_LIST_MEMBER: subject algorithm of a version-1 (SHA-1 member) catalog.
    pub const CATALOG_LIST_MEMBER: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.12.1.2");
    /// szOID_CATALOG_LIST_MEMBER2: subject algorithm of a version-2 (SHA-256 member) catalog.
    pub const CATALOG_LIST_MEMBER_V2: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.12.1.3");
    /// CAT_NAMEVALUE_OBJID: a named attribute.
    pub const CAT_NAMEVALUE: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.12.2.1");
    /// CAT_MEMBERINFO_OBJID: subject interface package GUID and version of a member.
    pub const CAT_MEMBERINFO: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.12.2.2");
    /// SPC_INDIRECT_DATA_OBJID: the hash of a member (`SpcIndirectDataContent`).
    pub const SPC_INDIRECT_DATA: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.2.1.4");
    /// SPC_PE_IMAGE_DATAOBJ: the indirect data describes a PE image.
    pub const SPC_PE_IMAGE_DATA: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.2.1.15");
    /// SPC_CAB_DATA_OBJID: the indirect data describes a flat file.
    pub const SPC_CAB_DATA: Oid = Oid::new_unwrap("1.3.6.1.4.1.311.2.1.25");
    /// SHA-1.
    pub const SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
    /// SHA-256.
    pub const SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
    /// rsaEncryption (the signature algorithm Microsoft's tools write in SignerInfo).
    pub const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    /// id-signedData.
    pub const SIGNED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.2");
    /// id-contentType attribute.
    pub const CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
    /// id-messageDigest attribute.
    pub const MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
}

/// Subject interface package GUID of PE images (`CRYPT_SUBJTYPE_PE_IMAGE`).
pub const SUBJECT_GUID_PE: &str = "{C689AAB8-8E78-11D0-8C47-00C04FC295EE}";
/// Subject interface package GUID of flat files (`CRYPT_SUBJTYPE_FLAT_IMAGE`).
pub const SUBJECT_GUID_FLAT: &str = "{DE351A42-8E59-11D0-8C47-00C04FC295EE}";
/// `certVersion` of `CAT_MEMBERINFO` in catalogs made by Microsoft tools.
pub const MEMBERINFO_CERT_VERSION: u32 = 512;
/// Attribute flags `inf2cat` writes: `CRYPTCAT_ATTR_AUTHENTICATED | CRYPTCAT_ATTR_DATAASCII |
/// CRYPTCAT_ATTR_NAMEASCII`.
pub const ATTR_FLAGS_INF2CAT: u32 = 0x1001_0001;

/// The ASN.1 types of catalogs and Authenticode indirect data, as `der` derive types.
// The `Choice` derive expands to or-patterns that clippy would nest differently.
#[allow(clippy::unnested_or_patterns)]
pub mod asn1 {
    use der::asn1::{Any, BitString, BmpString, Ia5String, OctetString, SetOfVec};
    use der::{Choice, Sequence};
    use spki::AlgorithmIdentifierOwned;
    use x509_cert::attr::Attribute;
    use x509_cert::ext::Extension;
    use x509_cert::time::Time;

    /// `CertificateTrustList` (MS-CAESO).
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct CertificateTrustList {
        /// `version CTLVersion DEFAULT v1` (absent = v1).
        #[asn1(optional = "true")]
        pub version: Option<u32>,
        /// `subjectUsage` (an enhanced-key-usage list).
        pub subject_usage: Vec<const_oid::ObjectIdentifier>,
        /// `listIdentifier`.
        #[asn1(optional = "true")]
        pub list_identifier: Option<OctetString>,
        /// `sequenceNumber`.
        #[asn1(optional = "true")]
        pub sequence_number: Option<der::asn1::Int>,
        /// `ctlThisUpdate`.
        pub this_update: Time,
        /// `ctlNextUpdate`.
        #[asn1(optional = "true")]
        pub next_update: Option<Time>,
        /// `subjectAlgorithm`.
        pub subject_algorithm: AlgorithmIdentifierOwned,
        /// `trustedSubjects`.
        #[asn1(optional = "true")]
        pub trusted_subjects: Option<Vec<TrustedSubject>>,
        /// `ctlExtensions [0] EXPLICIT Extensions`.
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        pub extensions: Option<Vec<Extension>>,
    }

    /// `TrustedSubject`: one catalog member.
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct TrustedSubject {
        /// `subjectIdentifier` (the member tag).
        pub subject_identifier: OctetString,
        /// `subjectAttributes`.
        #[asn1(optional = "true")]
        pub subject_attributes: Option<SetOfVec<Attribute>>,
    }

    /// `CAT_NAMEVALUE`.
    #[derive(Clone, Debug, Eq, PartialEq, PartialOrd, Ord, Sequence)]
    pub struct NameValue {
        /// Attribute name.
        pub name: BmpString,
        /// `CRYPTCAT_ATTR_*` flags.
        pub flags: u32,
        /// UTF-16LE value with a terminating NUL.
        pub value: OctetString,
    }

    /// `CAT_MEMBERINFO`.
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct MemberInfo {
        /// Subject interface package GUID, `{...}` form.
        pub subject_guid: BmpString,
        /// Version (512).
        pub cert_version: u32,
    }

    /// `SpcAttributeTypeAndOptionalValue`.
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct SpcAttributeTypeAndOptionalValue {
        /// What the value describes.
        pub value_type: const_oid::ObjectIdentifier,
        /// The value.
        #[asn1(optional = "true")]
        pub value: Option<Any>,
    }

    /// `DigestInfo`.
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct DigestInfo {
        /// Digest algorithm.
        pub digest_algorithm: AlgorithmIdentifierOwned,
        /// Digest.
        pub digest: OctetString,
    }

    /// `SpcIndirectDataContent`.
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct SpcIndirectDataContent {
        /// What was hashed.
        pub data: SpcAttributeTypeAndOptionalValue,
        /// The hash.
        pub message_digest: DigestInfo,
    }

    /// `SpcString`.
    #[derive(Clone, Debug, Eq, PartialEq, Choice)]
    pub enum SpcString {
        /// `unicode [0] IMPLICIT BMPString`.
        #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
        Unicode(BmpString),
        /// `ascii [1] IMPLICIT IA5String`.
        #[asn1(context_specific = "1", tag_mode = "IMPLICIT")]
        Ascii(Ia5String),
    }

    /// `SpcLink` (the `url` and `file` alternatives; `moniker` is not used here).
    #[derive(Clone, Debug, Eq, PartialEq, Choice)]
    pub enum SpcLink {
        /// `url [0] IMPLICIT IA5String`.
        #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
        Url(Ia5String),
        /// `file [2] EXPLICIT SpcString`.
        #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
        File(SpcString),
    }

    /// `SpcPeImageData`.
    #[derive(Clone, Debug, Eq, PartialEq, Sequence)]
    pub struct SpcPeImageData {
        /// `SpcPeImageFlags` (named bit list).
        pub flags: BitString,
        /// `file [0] EXPLICIT SpcLink`.
        #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
        pub file: Option<SpcLink>,
    }
}

use asn1::{
    CertificateTrustList, DigestInfo, MemberInfo, NameValue, SpcAttributeTypeAndOptionalValue, SpcIndirectDataContent,
    SpcLink, SpcPeImageData, SpcString, TrustedSubject,
};

/// How a member file is hashed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberKind {
    /// A PE image: Authenticode hash, `SPC_PE_IMAGE_DATAOBJ`.
    PeImage,
    /// Any other file: hash of all bytes, `SPC_CAB_DATA_OBJID`.
    Flat,
}

/// A named attribute (`CAT_NAMEVALUE`) with the flags `inf2cat` uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogAttribute {
    /// Name, e.g. `OSAttr`.
    pub name: String,
    /// Value, e.g. `2:10.0`.
    pub value: String,
}

impl CatalogAttribute {
    /// A name/value pair.
    #[must_use]
    pub fn new(name: &str, value: &str) -> Self {
        CatalogAttribute { name: name.to_string(), value: value.to_string() }
    }
}

/// One file listed in a catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CatalogMember {
    /// File name as written in the `File` attribute (no directory).
    pub file_name: String,
    /// How the file was hashed.
    pub kind: MemberKind,
    /// SHA-1 digest (Authenticode for PE images).
    pub digest: Vec<u8>,
    /// Further member attributes (e.g. `OSAttr`). `File` is added from `file_name`.
    pub attributes: Vec<CatalogAttribute>,
}

impl CatalogMember {
    /// Hashes a file's content for the catalog: a PE image by its Authenticode hash, anything
    /// else flat. `os_attr` (e.g. `2:10.0`) becomes the member's `OSAttr` attribute.
    pub fn from_bytes(file_name: &str, bytes: &[u8], os_attr: Option<&str>) -> Result<Self, Error> {
        let (kind, digest) = if looks_like_pe(bytes) {
            (MemberKind::PeImage, authenticode_digest(bytes, HashAlgorithm::Sha1)?)
        } else {
            (MemberKind::Flat, HashAlgorithm::Sha1.digest(bytes))
        };
        Ok(CatalogMember {
            file_name: file_name.to_string(),
            kind,
            digest,
            attributes: os_attr.map(|v| CatalogAttribute::new("OSAttr", v)).into_iter().collect(),
        })
    }

    /// The member tag: the digest as upper-case hex, UTF-16LE, NUL-terminated.
    #[must_use]
    pub fn tag(&self) -> Vec<u8> {
        utf16le_nul(&crate::hex_upper(&self.digest))
    }
}

/// Catalog-wide settings.
#[derive(Clone, Debug)]
pub struct CatalogOptions {
    /// `ctlThisUpdate`.
    pub this_update: SystemTime,
    /// `listIdentifier`; `None` = first 16 bytes of SHA-256 over the member tags, so that the
    /// same members give the same identifier.
    pub list_identifier: Option<[u8; 16]>,
    /// Catalog attributes (`OS`, `HWID1`, ...), written in this order.
    pub attributes: Vec<CatalogAttribute>,
}

impl CatalogOptions {
    /// The catalog attributes `inf2cat /os:10_x64` writes for a package with the given
    /// hardware IDs: `OS` = `_v100_X64`, `HWID1..n` (lower case).
    #[must_use]
    pub fn inf2cat_10_x64(hardware_ids: &[&str], this_update: SystemTime) -> Self {
        let mut attributes = vec![CatalogAttribute::new("OS", "_v100_X64")];
        for (i, id) in hardware_ids.iter().enumerate() {
            attributes.push(CatalogAttribute::new(&format!("HWID{}", i + 1), &id.to_lowercase()));
        }
        CatalogOptions { this_update, list_identifier: None, attributes }
    }
}

fn utf16le_nul(s: &str) -> Vec<u8> {
    s.encode_utf16().chain(std::iter::once(0)).flat_map(u16::to_le_bytes).collect()
}

fn utf16le_nul_decode(b: &[u8]) -> String {
    let units: Vec<u16> = b.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
    String::from_utf16_lossy(&units[..end])
}

fn name_value(attr: &CatalogAttribute) -> Result<NameValue, Error> {
    Ok(NameValue {
        name: BmpString::from_utf8(&attr.name)?,
        flags: ATTR_FLAGS_INF2CAT,
        value: OctetString::new(utf16le_nul(&attr.value))?,
    })
}

fn attribute<T: der::Tagged + der::EncodeValue>(oid: ObjectIdentifier, value: &T) -> Result<Attribute, Error> {
    let mut values = SetOfVec::new();
    values.insert(Any::encode_from(value)?)?;
    Ok(Attribute { oid, values })
}

fn alg_with_null(oid: ObjectIdentifier) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid, parameters: Some(Any::null()) }
}

/// An empty `file [2] { unicode [0] "" }` link, as Microsoft's catalogs carry.
fn empty_file_link() -> Result<SpcLink, Error> {
    Ok(SpcLink::File(SpcString::Unicode(BmpString::from_utf8("")?)))
}

fn indirect_data(member: &CatalogMember) -> Result<SpcIndirectDataContent, Error> {
    if member.digest.len() != HashAlgorithm::Sha1.len() {
        return Err(Error::Catalog(format!(
            "member {} has a {}-byte digest; version-1 catalogs list SHA-1 digests",
            member.file_name,
            member.digest.len()
        )));
    }
    let data = match member.kind {
        MemberKind::PeImage => SpcAttributeTypeAndOptionalValue {
            value_type: oid::SPC_PE_IMAGE_DATA,
            value: Some(Any::encode_from(&SpcPeImageData {
                // includeResources(0) and includeImportAddressTable(2): bits "101", as in
                // Microsoft's catalogs.
                flags: der::asn1::BitString::new(5, vec![0xa0])?,
                file: Some(empty_file_link()?),
            })?),
        },
        MemberKind::Flat => SpcAttributeTypeAndOptionalValue {
            value_type: oid::SPC_CAB_DATA,
            value: Some(Any::encode_from(&empty_file_link()?)?),
        },
    };
    Ok(SpcIndirectDataContent {
        data,
        message_digest: DigestInfo {
            digest_algorithm: alg_with_null(oid::SHA1),
            digest: OctetString::new(member.digest.clone())?,
        },
    })
}

fn trusted_subject(member: &CatalogMember) -> Result<TrustedSubject, Error> {
    if member.file_name.is_empty() || member.file_name.contains(['/', '\\']) {
        return Err(Error::Catalog(format!("member file name {:?} must be a bare file name", member.file_name)));
    }
    let mut attrs = SetOfVec::new();
    attrs.insert(attribute(oid::CAT_NAMEVALUE, &name_value(&CatalogAttribute::new("File", &member.file_name))?)?)?;
    for a in &member.attributes {
        if a.name.eq_ignore_ascii_case("File") {
            return Err(Error::Catalog("the File attribute comes from file_name".into()));
        }
        attrs.insert(attribute(oid::CAT_NAMEVALUE, &name_value(a)?)?)?;
    }
    let guid = match member.kind {
        MemberKind::PeImage => SUBJECT_GUID_PE,
        MemberKind::Flat => SUBJECT_GUID_FLAT,
    };
    attrs.insert(attribute(
        oid::CAT_MEMBERINFO,
        &MemberInfo { subject_guid: BmpString::from_utf8(guid)?, cert_version: MEMBERINFO_CERT_VERSION },
    )?)?;
    attrs.insert(attribute(oid::SPC_INDIRECT_DATA, &indirect_data(member)?)?)?;
    Ok(TrustedSubject { subject_identifier: OctetString::new(member.tag())?, subject_attributes: Some(attrs) })
}

fn utc_time(t: SystemTime) -> Result<Time, Error> {
    Ok(Time::UtcTime(UtcTime::from_date_time(DateTime::from_system_time(t)?)?))
}

/// Builds the (unsigned) certificate trust list of a catalog. Members are ordered by tag.
pub fn build_ctl(members: &[CatalogMember], opts: &CatalogOptions) -> Result<CertificateTrustList, Error> {
    if members.is_empty() {
        return Err(Error::Catalog("a catalog needs at least one member".into()));
    }
    let mut sorted: Vec<&CatalogMember> = members.iter().collect();
    sorted.sort_by_key(|m| m.tag());
    if sorted.windows(2).any(|w| w[0].tag() == w[1].tag()) {
        return Err(Error::Catalog("two members have the same hash".into()));
    }
    let subjects = sorted.iter().map(|m| trusted_subject(m)).collect::<Result<Vec<_>, _>>()?;

    let list_identifier = opts.list_identifier.unwrap_or_else(|| {
        let mut h = Sha256::new();
        for m in &sorted {
            h.update(m.tag());
        }
        let d = h.finalize();
        let mut id = [0u8; 16];
        id.copy_from_slice(&d[..16]);
        id
    });

    let mut extensions = Vec::with_capacity(opts.attributes.len());
    for a in &opts.attributes {
        extensions.push(Extension {
            extn_id: oid::CAT_NAMEVALUE,
            critical: false,
            extn_value: OctetString::new(name_value(a)?.to_der()?)?,
        });
    }

    Ok(CertificateTrustList {
        version: None,
        subject_usage: vec![oid::CATALOG_LIST],
        list_identifier: Some(OctetString::new(list_identifier.to_vec())?),
        sequence_number: None,
        this_update: utc_time(opts.this_update)?,
        next_update: None,
        subject_algorithm: alg_with_null(oid::CATALOG_LIST_MEMBER),
        trusted_subjects: Some(subjects),
        extensions: if extensions.is_empty() { None } else { Some(extensions) },
    })
}

/// Wraps a CTL in a PKCS #7 SignedData signed by `id` (SHA-256, RSA PKCS #1 v1.5) and returns
/// the DER `.cat` bytes. The signature is checked with the certificate's public key before
/// returning.
pub fn sign_ctl(ctl: &CertificateTrustList, id: &SigningIdentity) -> Result<Vec<u8>, Error> {
    let content = Any::encode_from(ctl)?;
    // PKCS #7 §9.3: only the contents octets of the content (the CTL's value, without its
    // SEQUENCE tag and length) are digested.
    let digest = Sha256::digest(content.value());

    let mut signed_attrs: SignedAttributes = SetOfVec::new();
    signed_attrs.insert(attribute(oid::CONTENT_TYPE, &oid::CTL)?)?;
    signed_attrs.insert(attribute(oid::MESSAGE_DIGEST, &OctetString::new(digest.to_vec())?)?)?;
    let to_sign = signed_attrs.to_der()?;

    let signing_key = SigningKey::<Sha256>::new(id.private_key().clone());
    let signature = signing_key.try_sign(&to_sign).map_err(|e| Error::Other(e.to_string()))?;
    VerifyingKey::<Sha256>::new(RsaPublicKey::from(id.private_key()))
        .verify(&to_sign, &signature)
        .map_err(|e| Error::Other(format!("catalog signature does not verify: {e}")))?;

    let cert = id.certificate().clone();
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: cert.tbs_certificate.issuer.clone(),
            serial_number: cert.tbs_certificate.serial_number.clone(),
        }),
        digest_alg: alg_with_null(oid::SHA256),
        signed_attrs: Some(signed_attrs),
        signature_algorithm: alg_with_null(oid::RSA_ENCRYPTION),
        signature: OctetString::new(signature.to_vec())?,
        unsigned_attrs: None,
    };
    let mut digest_algorithms = SetOfVec::new();
    digest_algorithms.insert(alg_with_null(oid::SHA256))?;
    let mut certs = SetOfVec::new();
    certs.insert(CertificateChoices::Certificate(cert))?;
    let mut signer_infos = SetOfVec::new();
    signer_infos.insert(signer_info)?;
    let signed_data = SignedData {
        // Version 1, as PKCS #7 and Microsoft's tools write it for CTL content.
        version: CmsVersion::V1,
        digest_algorithms,
        encap_content_info: EncapsulatedContentInfo { econtent_type: oid::CTL, econtent: Some(content) },
        certificates: Some(CertificateSet(certs)),
        crls: None,
        signer_infos: SignerInfos(signer_infos),
    };
    let ci = ContentInfo { content_type: oid::SIGNED_DATA, content: Any::encode_from(&signed_data)? };
    Ok(ci.to_der()?)
}

/// Builds and signs a catalog: [`build_ctl`] then [`sign_ctl`].
pub fn build_catalog(members: &[CatalogMember], opts: &CatalogOptions, id: &SigningIdentity) -> Result<Vec<u8>, Error> {
    sign_ctl(&build_ctl(members, opts)?, id)
}

/// A member as read back from a catalog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedMember {
    /// The tag, decoded from UTF-16 (the hex digest for version-1 catalogs).
    pub tag: String,
    /// `PeImage` if the indirect data is `SPC_PE_IMAGE_DATAOBJ`.
    pub kind: Option<MemberKind>,
    /// The digest in the indirect data.
    pub digest: Vec<u8>,
    /// Digest algorithm OID of the indirect data.
    pub digest_algorithm: Option<ObjectIdentifier>,
    /// Subject GUID from `CAT_MEMBERINFO`.
    pub subject_guid: Option<String>,
    /// Name/value attributes (`File`, `OSAttr`, ...).
    pub attributes: Vec<CatalogAttribute>,
}

/// A catalog as read back (structure only: the signature is checked with [`verify_catalog_signature`]).
#[derive(Clone, Debug)]
pub struct ParsedCatalog {
    /// The trust list.
    pub ctl: CertificateTrustList,
    /// The members.
    pub members: Vec<ParsedMember>,
    /// Catalog attributes.
    pub attributes: Vec<CatalogAttribute>,
    /// The SignedData.
    pub signed_data: SignedData,
}

impl ParsedCatalog {
    /// The member whose `File` attribute is `name` (case-insensitive, as on Windows).
    #[must_use]
    pub fn member_by_file(&self, name: &str) -> Option<&ParsedMember> {
        self.members
            .iter()
            .find(|m| m.attributes.iter().any(|a| a.name == "File" && a.value.eq_ignore_ascii_case(name)))
    }
}

fn parse_name_value(bytes: &[u8]) -> Result<CatalogAttribute, Error> {
    let nv = NameValue::from_der(bytes)?;
    Ok(CatalogAttribute {
        name: String::from_utf16_lossy(&nv.name.codepoints().collect::<Vec<_>>()),
        value: utf16le_nul_decode(nv.value.as_bytes()),
    })
}

/// Parses a `.cat` file.
pub fn parse_catalog(bytes: &[u8]) -> Result<ParsedCatalog, Error> {
    let ci = ContentInfo::from_der(bytes)?;
    if ci.content_type != oid::SIGNED_DATA {
        return Err(Error::Catalog("not a PKCS #7 SignedData".into()));
    }
    let signed_data = ci.content.decode_as::<SignedData>()?;
    if signed_data.encap_content_info.econtent_type != oid::CTL {
        return Err(Error::Catalog("content is not a certificate trust list".into()));
    }
    let content =
        signed_data.encap_content_info.econtent.as_ref().ok_or_else(|| Error::Catalog("no content".into()))?;
    let ctl: CertificateTrustList = content.decode_as()?;
    let mut members = Vec::new();
    for subject in ctl.trusted_subjects.iter().flatten() {
        let mut m = ParsedMember {
            tag: utf16le_nul_decode(subject.subject_identifier.as_bytes()),
            kind: None,
            digest: Vec::new(),
            digest_algorithm: None,
            subject_guid: None,
            attributes: Vec::new(),
        };
        for attr in subject.subject_attributes.iter().flat_map(SetOfVec::iter) {
            for v in attr.values.iter() {
                let der_v = v.to_der()?;
                if attr.oid == oid::CAT_NAMEVALUE {
                    m.attributes.push(parse_name_value(&der_v)?);
                } else if attr.oid == oid::CAT_MEMBERINFO {
                    let mi = MemberInfo::from_der(&der_v)?;
                    m.subject_guid = Some(String::from_utf16_lossy(&mi.subject_guid.codepoints().collect::<Vec<_>>()));
                } else if attr.oid == oid::SPC_INDIRECT_DATA {
                    let idc = SpcIndirectDataContent::from_der(&der_v)?;
                    m.kind = Some(if idc.data.value_type == oid::SPC_PE_IMAGE_DATA {
                        MemberKind::PeImage
                    } else {
                        MemberKind::Flat
                    });
                    m.digest = idc.message_digest.digest.as_bytes().to_vec();
                    m.digest_algorithm = Some(idc.message_digest.digest_algorithm.oid);
                }
            }
        }
        members.push(m);
    }
    let mut attributes = Vec::new();
    for ext in ctl.extensions.iter().flatten() {
        if ext.extn_id == oid::CAT_NAMEVALUE {
            attributes.push(parse_name_value(ext.extn_value.as_bytes())?);
        }
    }
    Ok(ParsedCatalog { ctl, members, attributes, signed_data })
}

/// Checks a catalog's signature with this crate's own code: the message digest matches the
/// content and the signature over the signed attributes verifies with the public key of
/// `cert_der`. (The tests check catalogs with independent tools as well.)
pub fn verify_catalog_signature(cat: &ParsedCatalog, cert_der: &[u8]) -> Result<(), Error> {
    use spki::DecodePublicKey;
    let cert = x509_cert::Certificate::from_der(cert_der)?;
    let public = RsaPublicKey::from_public_key_der(&cert.tbs_certificate.subject_public_key_info.to_der()?)
        .map_err(|e| Error::Cert(e.to_string()))?;
    let content =
        cat.signed_data.encap_content_info.econtent.as_ref().ok_or_else(|| Error::Catalog("no content".into()))?;
    let digest = Sha256::digest(content.value());
    let si = cat.signed_data.signer_infos.0.iter().next().ok_or_else(|| Error::Catalog("no signer".into()))?;
    let attrs = si.signed_attrs.as_ref().ok_or_else(|| Error::Catalog("no signed attributes".into()))?;
    let md = attrs
        .iter()
        .find(|a| a.oid == oid::MESSAGE_DIGEST)
        .and_then(|a| a.values.iter().next())
        .ok_or_else(|| Error::Catalog("no message digest attribute".into()))?;
    let md: OctetString = md.decode_as()?;
    if md.as_bytes() != digest.as_slice() {
        return Err(Error::Catalog("message digest does not match the catalog content".into()));
    }
    let sig = rsa::pkcs1v15::Signature::try_from(si.signature.as_bytes()).map_err(|e| Error::Catalog(e.to_string()))?;
    VerifyingKey::<Sha256>::new(public)
        .verify(&attrs.to_der()?, &sig)
        .map_err(|e| Error::Catalog(format!("signature does not verify: {e}")))
}
