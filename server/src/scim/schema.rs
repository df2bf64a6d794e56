//! SCIM schema definitions as data: the core User and Group schemas, the Enterprise User extension and the common
//! attributes ([RFC 7643 §3.1], [§4], [§8.7]). Everything the server does with attributes — validation, mutability,
//! `returned`, case sensitivity, filtering, sorting, the `/Schemas` documents — is driven from these tables, so what
//! discovery declares is what the server does.
//!
//! [RFC 7643 §3.1]: https://www.rfc-editor.org/rfc/rfc7643#section-3.1
//! [§4]: https://www.rfc-editor.org/rfc/rfc7643#section-4
//! [§8.7]: https://www.rfc-editor.org/rfc/rfc7643#section-8.7

/// Schema URN of the core User resource (RFC 7643 §4.1).
pub const USER_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Schema URN of the core Group resource (RFC 7643 §4.2).
pub const GROUP_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Schema URN of the Enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER_URN: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// Message schema of list responses (RFC 7644 §3.4.2).
pub const LIST_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
/// Message schema of error responses (RFC 7644 §3.12).
pub const ERROR_URN: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
/// Message schema of PATCH requests (RFC 7644 §3.5.2).
pub const PATCH_OP_URN: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Message schema of search requests (RFC 7644 §3.4.3).
pub const SEARCH_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
/// Message schema of bulk requests (RFC 7644 §3.7).
pub const BULK_REQUEST_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
/// Message schema of bulk responses (RFC 7644 §3.7).
pub const BULK_RESPONSE_URN: &str = "urn:ietf:params:scim:api:messages:2.0:BulkResponse";
/// Schema URN of the ServiceProviderConfig resource (RFC 7643 §5).
pub const SPC_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
/// Schema URN of ResourceType resources (RFC 7643 §6).
pub const RESOURCE_TYPE_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
/// Schema URN of Schema resources (RFC 7643 §7).
pub const SCHEMA_URN: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Binary,
    Reference,
    Complex,
}

impl AttrType {
    /// The `type` value used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }
}

/// When an attribute may be written (RFC 7643 §7, "mutability").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

impl Mutability {
    /// The `mutability` value used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

/// When an attribute is returned (RFC 7643 §7, "returned").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

impl Returned {
    /// The `returned` value used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

/// How unique an attribute's value is (RFC 7643 §7, "uniqueness").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

impl Uniqueness {
    /// The `uniqueness` value used in schema documents.
    pub fn as_str(self) -> &'static str {
        match self {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        }
    }
}

/// One attribute definition (RFC 7643 §7).
#[derive(Debug)]
pub struct AttrDef {
    pub name: &'static str,
    pub ty: AttrType,
    pub multi_valued: bool,
    pub description: &'static str,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub canonical_values: &'static [&'static str],
    pub reference_types: &'static [&'static str],
    pub sub_attributes: &'static [AttrDef],
}

impl AttrDef {
    const fn new(name: &'static str, ty: AttrType, description: &'static str) -> Self {
        AttrDef {
            name,
            ty,
            multi_valued: false,
            description,
            required: false,
            case_exact: false,
            mutability: Mutability::ReadWrite,
            returned: Returned::Default,
            uniqueness: Uniqueness::None,
            canonical_values: &[],
            reference_types: &[],
            sub_attributes: &[],
        }
    }
    const fn string(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::String, description)
    }
    const fn boolean(name: &'static str, description: &'static str) -> Self {
        Self::new(name, AttrType::Boolean, description)
    }
    const fn reference(name: &'static str, refs: &'static [&'static str], description: &'static str) -> Self {
        let mut a = Self::new(name, AttrType::Reference, description);
        a.reference_types = refs;
        a
    }
    const fn complex(name: &'static str, subs: &'static [AttrDef], description: &'static str) -> Self {
        let mut a = Self::new(name, AttrType::Complex, description);
        a.sub_attributes = subs;
        a
    }
    const fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }
    const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    const fn case_exact(mut self) -> Self {
        self.case_exact = true;
        self
    }
    const fn mutability(mut self, m: Mutability) -> Self {
        self.mutability = m;
        self
    }
    const fn read_only(self) -> Self {
        self.mutability(Mutability::ReadOnly)
    }
    const fn returned(mut self, r: Returned) -> Self {
        self.returned = r;
        self
    }
    const fn uniqueness(mut self, u: Uniqueness) -> Self {
        self.uniqueness = u;
        self
    }
    const fn canonical(mut self, values: &'static [&'static str]) -> Self {
        self.canonical_values = values;
        self
    }

    /// The sub-attribute `name`, matched case-insensitively (RFC 7643 §2.1: attribute names are case insensitive).
    pub fn sub_attr(&self, name: &str) -> Option<&'static AttrDef> {
        find_attr(self.sub_attributes, name)
    }

    /// Whether this is a multi-valued complex attribute with a `value` sub-attribute (emails, members, …).
    pub fn has_value_sub(&self) -> bool {
        self.ty == AttrType::Complex && self.sub_attr("value").is_some()
    }
}

fn find_attr(attrs: &'static [AttrDef], name: &str) -> Option<&'static AttrDef> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

/// A schema: an id (URN) and its attributes (RFC 7643 §7).
#[derive(Debug)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: &'static [AttrDef],
}

impl SchemaDef {
    /// The top-level attribute `name`, matched case-insensitively.
    pub fn attr(&self, name: &str) -> Option<&'static AttrDef> {
        find_attr(self.attributes, name)
    }
}

/// A schema extension of a resource type (RFC 7643 §6, "schemaExtensions").
#[derive(Debug)]
pub struct ExtensionDef {
    pub schema: &'static SchemaDef,
    pub required: bool,
}

/// A resource type: endpoint, core schema and extensions (RFC 7643 §6).
#[derive(Debug)]
pub struct ResourceTypeDef {
    pub id: &'static str,
    pub name: &'static str,
    pub endpoint: &'static str,
    pub description: &'static str,
    pub schema: &'static SchemaDef,
    pub extensions: &'static [ExtensionDef],
}

/// Where an attribute lives in a resource's JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrHome {
    /// A common attribute (`id`, `externalId`, `meta`), RFC 7643 §3.1; at the top level.
    Common,
    /// An attribute of the core schema; at the top level.
    Core,
    /// An attribute of an extension schema; inside the object keyed by the extension URN (RFC 7643 §3.3).
    Extension(&'static str),
}

/// A path resolved against a resource type: the attribute, the optional sub-attribute, and where it lives.
#[derive(Debug, Clone, Copy)]
pub struct Resolved {
    pub home: AttrHome,
    pub attr: &'static AttrDef,
    pub sub: Option<&'static AttrDef>,
}

impl Resolved {
    /// The definition that the path finally names (the sub-attribute when there is one).
    pub fn leaf(&self) -> &'static AttrDef {
        self.sub.unwrap_or(self.attr)
    }
}

impl ResourceTypeDef {
    /// All schemas of this resource type: the core schema, then the extensions.
    pub fn schemas(&self) -> impl Iterator<Item = &'static SchemaDef> + '_ {
        std::iter::once(self.schema).chain(self.extensions.iter().map(|e| e.schema))
    }

    /// The extension with this URN (case-insensitive, RFC 7643 §2.1 and §3.3).
    pub fn extension(&self, urn: &str) -> Option<&'static SchemaDef> {
        self.extensions.iter().map(|e| e.schema).find(|s| s.id.eq_ignore_ascii_case(urn))
    }

    /// Whether `urn` names the core schema or one of the extensions.
    pub fn knows_schema(&self, urn: &str) -> bool {
        self.schema.id.eq_ignore_ascii_case(urn) || self.extension(urn).is_some()
    }

    /// Resolves an attribute path (`[urn:]attr[.sub]`, already split) against this resource type.
    ///
    /// Names match case-insensitively (RFC 7643 §2.1). Without a URN, the core schema and the common attributes are
    /// searched; extension attributes need their URN (RFC 7644 §3.10). A sub-attribute must exist on a complex
    /// attribute.
    pub fn resolve(&self, urn: Option<&str>, attr: &str, sub: Option<&str>) -> Option<Resolved> {
        let (home, def) = match urn {
            None => match self.schema.attr(attr) {
                Some(d) => (AttrHome::Core, d),
                None => (AttrHome::Common, find_attr(COMMON_ATTRIBUTES, attr)?),
            },
            Some(u) if u.eq_ignore_ascii_case(self.schema.id) => match self.schema.attr(attr) {
                Some(d) => (AttrHome::Core, d),
                None => (AttrHome::Common, find_attr(COMMON_ATTRIBUTES, attr)?),
            },
            Some(u) => {
                let ext = self.extension(u)?;
                (AttrHome::Extension(ext.id), ext.attr(attr)?)
            }
        };
        let sub = match sub {
            None => None,
            Some(s) => Some(def.sub_attr(s)?),
        };
        Some(Resolved { home, attr: def, sub })
    }

    /// Resolves a full attribute path string such as `name.givenName`, `emails.value`, `meta.lastModified` or
    /// `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value` (RFC 7644 §3.10).
    pub fn resolve_str(&self, path: &str) -> Option<Resolved> {
        let (urn, rest) = split_urn(path);
        let (attr, sub) = match rest.split_once('.') {
            Some((a, s)) => (a, Some(s)),
            None => (rest, None),
        };
        self.resolve(urn, attr, sub)
    }
}

/// Splits `urn:…:attr.sub` into the URN and `attr.sub`. Attribute names never contain `:` (RFC 7643 §2.1), while the
/// URN may contain dots (`2.0`), so the split is at the last colon.
pub fn split_urn(path: &str) -> (Option<&str>, &str) {
    // `get` rather than indexing: client text may put a multi-byte character across byte 4.
    if path.len() > 4 && path.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:")) {
        match path.rfind(':') {
            Some(i) => (Some(&path[..i]), &path[i + 1..]),
            None => (None, path),
        }
    } else {
        (None, path)
    }
}

use AttrDef as A;
use Mutability::{Immutable, WriteOnly};
use Returned::{Always, Never};

const TYPE_CANON_EMAIL: &[&str] = &["work", "home", "other"];
const TYPE_CANON_PHONE: &[&str] = &["work", "home", "mobile", "fax", "pager", "other"];
const TYPE_CANON_IMS: &[&str] = &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"];
const TYPE_CANON_PHOTO: &[&str] = &["photo", "thumbnail"];
const TYPE_CANON_ADDRESS: &[&str] = &["work", "home", "other"];

/// The common attributes of every resource (RFC 7643 §3.1).
pub static COMMON_ATTRIBUTES: &[AttrDef] = &[
    A::string("id", "Unique identifier for the resource, assigned by the service provider.")
        .case_exact()
        .read_only()
        .returned(Always)
        .uniqueness(Uniqueness::Server),
    A::string("externalId", "Identifier of the resource as defined by the provisioning client.").case_exact(),
    A::complex(
        "meta",
        &[
            A::string("resourceType", "The name of the resource type of the resource.").case_exact().read_only(),
            A::new("created", AttrType::DateTime, "When the resource was added to the service provider.").read_only(),
            A::new("lastModified", AttrType::DateTime, "When the resource was last modified.").read_only(),
            A::reference("location", &["uri"], "The URI of the resource being returned.").case_exact().read_only(),
            A::string("version", "The version (weak entity tag) of the resource.").case_exact().read_only(),
        ],
        "Resource metadata.",
    )
    .read_only(),
];

const MULTI_VALUE_SUBS_EMAIL: &[AttrDef] = &[
    A::string("value", "Email address for the user."),
    A::string("display", "A human-readable name, primarily used for display purposes."),
    A::string("type", "A label indicating the attribute's function.").canonical(TYPE_CANON_EMAIL),
    A::boolean("primary", "Whether this is the primary or preferred value."),
];

const fn labelled(value_desc: &'static str, canon: &'static [&'static str]) -> [AttrDef; 4] {
    [
        A::string("value", value_desc),
        A::string("display", "A human-readable name, primarily used for display purposes."),
        A::string("type", "A label indicating the attribute's function.").canonical(canon),
        A::boolean("primary", "Whether this is the primary or preferred value."),
    ]
}

const PHONE_SUBS: &[AttrDef] = &labelled("Phone number of the User.", TYPE_CANON_PHONE);
const IMS_SUBS: &[AttrDef] = &labelled("Instant messaging address for the User.", TYPE_CANON_IMS);
const PHOTO_SUBS: &[AttrDef] = &[
    A::reference("value", &["external"], "URL of a photo of the User.").case_exact(),
    A::string("display", "A human-readable name, primarily used for display purposes."),
    A::string("type", "A label indicating the attribute's function.").canonical(TYPE_CANON_PHOTO),
    A::boolean("primary", "Whether this is the primary or preferred value."),
];
const PLAIN_MULTI_SUBS: &[AttrDef] = &[
    A::string("value", "The value of the entry."),
    A::string("display", "A human-readable name, primarily used for display purposes."),
    A::string("type", "A label indicating the attribute's function."),
    A::boolean("primary", "Whether this is the primary or preferred value."),
];
const CERT_SUBS: &[AttrDef] = &[
    A::new("value", AttrType::Binary, "The value of an X.509 certificate.").case_exact(),
    A::string("display", "A human-readable name, primarily used for display purposes."),
    A::string("type", "A label indicating the attribute's function."),
    A::boolean("primary", "Whether this is the primary or preferred value."),
];

/// The core User schema (RFC 7643 §4.1, §8.7.1).
pub static USER_SCHEMA: SchemaDef = SchemaDef {
    id: USER_URN,
    name: "User",
    description: "User Account",
    attributes: &[
        A::string("userName", "Unique identifier for the User, used to authenticate.")
            .required()
            .uniqueness(Uniqueness::Server),
        A::complex(
            "name",
            &[
                A::string("formatted", "The full name, formatted for display."),
                A::string("familyName", "The family name of the User."),
                A::string("givenName", "The given name of the User."),
                A::string("middleName", "The middle name(s) of the User."),
                A::string("honorificPrefix", "The honorific prefix(es) of the User."),
                A::string("honorificSuffix", "The honorific suffix(es) of the User."),
            ],
            "The components of the user's real name.",
        ),
        A::string("displayName", "The name of the User, suitable for display to end-users."),
        A::string("nickName", "The casual way to address the user in real life."),
        A::reference(
            "profileUrl",
            &["external"],
            "A fully qualified URL pointing to a page representing the User's online profile.",
        ),
        A::string("title", "The user's title, such as \"Vice President\"."),
        A::string("userType", "Identifies the relationship between the organization and the user."),
        A::string("preferredLanguage", "The User's preferred written or spoken language."),
        A::string("locale", "The User's default location for localizing content."),
        A::string("timezone", "The User's time zone in the 'Olson' time zone database format."),
        A::boolean("active", "The User's administrative status."),
        A::string("password", "The User's cleartext password; never returned.")
            .mutability(WriteOnly)
            .returned(Never)
            .case_exact(),
        A::complex("emails", MULTI_VALUE_SUBS_EMAIL, "Email addresses for the user.").multi(),
        A::complex("phoneNumbers", PHONE_SUBS, "Phone numbers for the User.").multi(),
        A::complex("ims", IMS_SUBS, "Instant messaging addresses for the User.").multi(),
        A::complex("photos", PHOTO_SUBS, "URLs of photos of the User.").multi(),
        A::complex(
            "addresses",
            &[
                A::string("formatted", "The full mailing address, formatted for display."),
                A::string("streetAddress", "The full street address component."),
                A::string("locality", "The city or locality component."),
                A::string("region", "The state or region component."),
                A::string("postalCode", "The zip code or postal code component."),
                A::string("country", "The country name component."),
                A::string("type", "A label indicating the attribute's function.").canonical(TYPE_CANON_ADDRESS),
                A::boolean("primary", "Whether this is the primary or preferred address."),
            ],
            "A physical mailing address for this User.",
        )
        .multi(),
        A::complex(
            "groups",
            &[
                A::string("value", "The identifier of the User's group.").read_only(),
                A::reference("$ref", &["User", "Group"], "The URI of the corresponding Group resource.").read_only(),
                A::string("display", "A human-readable name of the group.").read_only(),
                A::string("type", "'direct' or 'indirect' membership.").canonical(&["direct", "indirect"]).read_only(),
            ],
            "Groups to which the user belongs, directly or through nested groups.",
        )
        .multi()
        .read_only(),
        A::complex("entitlements", PLAIN_MULTI_SUBS, "Entitlements the User has.").multi(),
        A::complex("roles", PLAIN_MULTI_SUBS, "Roles of the User.").multi(),
        A::complex("x509Certificates", CERT_SUBS, "X.509 certificates issued to the User.").multi(),
    ],
};

/// The Enterprise User extension (RFC 7643 §4.3, §8.7.1).
pub static ENTERPRISE_USER_SCHEMA: SchemaDef = SchemaDef {
    id: ENTERPRISE_USER_URN,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: &[
        A::string("employeeNumber", "Numeric or alphanumeric identifier assigned to a person."),
        A::string("costCenter", "Identifies the name of a cost center."),
        A::string("organization", "Identifies the name of an organization."),
        A::string("division", "Identifies the name of a division."),
        A::string("department", "Identifies the name of a department."),
        A::complex(
            "manager",
            &[
                A::string("value", "The id of the SCIM resource representing the User's manager."),
                A::reference("$ref", &["User"], "The URI of the SCIM resource representing the User's manager."),
                A::string("displayName", "The displayName of the User's manager.").read_only(),
            ],
            "The User's manager.",
        ),
    ],
};

/// The core Group schema (RFC 7643 §4.2, §8.7.1).
pub static GROUP_SCHEMA: SchemaDef = SchemaDef {
    id: GROUP_URN,
    name: "Group",
    description: "Group",
    attributes: &[
        A::string("displayName", "A human-readable name for the Group.").required(),
        A::complex(
            "members",
            &[
                A::string("value", "Identifier of the member of this Group.").mutability(Immutable),
                A::reference("$ref", &["User", "Group"], "The URI of the member resource.").mutability(Immutable),
                A::string("display", "A human-readable name of the member.").read_only(),
                A::string("type", "The type of member: 'User' or 'Group'.")
                    .canonical(&["User", "Group"])
                    .mutability(Immutable),
            ],
            "A list of members of the Group.",
        )
        .multi(),
        A::reference("logo", &["external"], "URL of the Group's logo image, uploaded with PUT /Groups/{id}/Logo.")
            .read_only()
            .case_exact(),
    ],
};

/// The User resource type (RFC 7643 §6, §8.6).
pub static USER_RESOURCE_TYPE: ResourceTypeDef = ResourceTypeDef {
    id: "User",
    name: "User",
    endpoint: "/Users",
    description: "User Account",
    schema: &USER_SCHEMA,
    extensions: &[ExtensionDef { schema: &ENTERPRISE_USER_SCHEMA, required: false }],
};

/// The Group resource type (RFC 7643 §6, §8.6).
pub static GROUP_RESOURCE_TYPE: ResourceTypeDef = ResourceTypeDef {
    id: "Group",
    name: "Group",
    endpoint: "/Groups",
    description: "Group",
    schema: &GROUP_SCHEMA,
    extensions: &[],
};

/// The kinds of resource the server stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    /// Every kind, in discovery order.
    pub const ALL: [ResourceKind; 2] = [ResourceKind::User, ResourceKind::Group];

    /// The resource type definition of this kind.
    pub fn def(self) -> &'static ResourceTypeDef {
        match self {
            ResourceKind::User => &USER_RESOURCE_TYPE,
            ResourceKind::Group => &GROUP_RESOURCE_TYPE,
        }
    }

    /// The `meta.resourceType` value.
    pub fn name(self) -> &'static str {
        self.def().name
    }

    /// Parses a `meta.resourceType` value or an endpoint segment (`Users`, `Groups`).
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "User" | "Users" => Some(ResourceKind::User),
            "Group" | "Groups" => Some(ResourceKind::Group),
            _ => None,
        }
    }
}

/// Every schema the server serves at `/Schemas`.
pub static ALL_SCHEMAS: [&SchemaDef; 3] = [&USER_SCHEMA, &ENTERPRISE_USER_SCHEMA, &GROUP_SCHEMA];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_paths_case_insensitively() {
        let rt = ResourceKind::User.def();
        let r = rt.resolve_str("NAME.givenname").expect("resolves");
        assert_eq!(r.attr.name, "name");
        assert_eq!(r.sub.map(|s| s.name), Some("givenName"));
        assert_eq!(r.home, AttrHome::Core);
        let r =
            rt.resolve_str("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value").expect("ext");
        assert_eq!(r.home, AttrHome::Extension(ENTERPRISE_USER_URN));
        assert_eq!(r.leaf().name, "value");
        let r = rt.resolve_str("urn:ietf:params:scim:schemas:core:2.0:User:userName").expect("core urn");
        assert_eq!(r.attr.name, "userName");
        assert_eq!(rt.resolve_str("meta.lastModified").map(|r| r.home), Some(AttrHome::Common));
        assert!(rt.resolve_str("employeeNumber").is_none(), "extension attributes need their URN");
        assert!(rt.resolve_str("name.nope").is_none());
        assert!(rt.resolve_str("urn:example:unknown:attr").is_none());
    }

    #[test]
    fn client_text_with_multibyte_characters_never_panics() {
        let rt = ResourceKind::User.def();
        for path in ["abcé", "éééé", "urn:é", "ur\u{e9}n:x", "日本語の属性", "a.é", ""] {
            assert!(rt.resolve_str(path).is_none(), "{path}");
            let _ = split_urn(path);
        }
    }
}
