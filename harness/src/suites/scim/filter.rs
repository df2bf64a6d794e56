//! Filtering (RFC 7644 §3.4.2.2): every attribute operator, logical operators, precedence and grouping, value
//! paths, sub-attributes, URN-qualified names, dateTime comparison, case rules, and rejection of invalid filters.
//!
//! Every check creates its own three users (see [`Trio`]) and scopes filters to them with the check's unique
//! prefix, so checks running at the same time, or data already in the target, cannot change the result.

use super::util::{Trio, expect_error};
use crate::check;
use crate::check::{Check, Step};
use crate::http::encode;
use crate::runner::Ctx;

const FILTER_OPS: &str = "Filters MUST be evaluated using the following order of operations, in order of precedence: 1. Grouping operators 2. Logical operators - where \"not\" takes precedence over \"and\", which takes precedence over \"or\" 3. Attribute operators";
const MULTI: &str = "If the specified attribute in a filter expression is a multi-valued attribute, the filter matches if any of the values of the specified attribute match the specified criterion; e.g., if a User has multiple \"emails\" values, only one has to match for the entire User to match.";
const COMPLEX: &str = "For complex attributes, a fully qualified sub-attribute MUST be specified using standard attribute notation (Section 3.10).";
const CASE_NAMES: &str = "Attribute names and attribute operators used in filters are case insensitive.";
const CASE_EXACT: &str = "When comparing attributes of type String, the case sensitivity for String type attributes SHALL be determined by the attribute's \"caseExact\" characteristic (see Section 2.2 of [RFC7643]).";
const DECLINE: &str = "Providers MUST decline to filter results if the specified filter operation is not recognized and return an HTTP 400 error with a \"scimType\" error of \"invalidFilter\" and an appropriate human-readable response as per Section 3.12.";

macro_rules! op_check {
    ($id:expr, $title:expr, $text:expr, $body:path, [$($tag:expr),*]) => {
        check! { id: $id, title: $title, spec: ("RFC 7644", "3.4.2.2", $text), level: Must, tags: [$($tag),*], run: $body }
    };
}

/// The filter checks.
pub fn checks() -> Vec<Check> {
    vec![
        op_check!(
            "scim.filter.eq",
            "eq matches an equal value",
            "eq: equal. The attribute and operator values must be identical for a match.",
            eq,
            ["interop", "okta", "entra", "okta-must", "entra-must"]
        ),
        op_check!(
            "scim.filter.ne",
            "ne excludes the equal value",
            "ne: not equal. The attribute and operator values are not identical.",
            ne,
            []
        ),
        op_check!(
            "scim.filter.co",
            "co matches a substring",
            "co: contains. The entire operator value must be a substring of the attribute value for a match.",
            co,
            []
        ),
        op_check!(
            "scim.filter.sw",
            "sw matches a prefix",
            "sw: starts with. The entire operator value must be a substring of the attribute value, starting at the beginning of the attribute value. This criterion is satisfied if the two strings are identical.",
            sw,
            ["interop"]
        ),
        op_check!(
            "scim.filter.ew",
            "ew matches a suffix",
            "ew: ends with. The entire operator value must be a substring of the attribute value, matching at the end of the attribute value. This criterion is satisfied if the two strings are identical.",
            ew,
            []
        ),
        op_check!(
            "scim.filter.pr",
            "pr matches resources that have a value",
            "pr: present (has value). If the attribute has a non-empty value, or if it contains a non-empty node for complex attributes, there is a match.",
            pr,
            []
        ),
        op_check!(
            "scim.filter.gt",
            "gt compares strings lexicographically",
            "gt: greater than. If the attribute value is greater than the operator value, there is a match. The actual comparison is dependent on the attribute type. For string attribute types, this is a lexicographical comparison, and for DateTime types, it is a chronological comparison.",
            gt,
            []
        ),
        op_check!(
            "scim.filter.ge",
            "ge includes the equal value",
            "ge: greater than or equal to. If the attribute value is greater than or equal to the operator value, there is a match.",
            ge,
            []
        ),
        op_check!(
            "scim.filter.lt",
            "lt compares strings lexicographically",
            "lt: less than. If the attribute value is less than the operator value, there is a match.",
            lt,
            []
        ),
        op_check!(
            "scim.filter.le",
            "le includes the equal value",
            "le: less than or equal to. If the attribute value is less than or equal to the operator value, there is a match.",
            le,
            []
        ),
        op_check!(
            "scim.filter.and-or",
            "and / or combine expressions",
            "and: Logical \"and\". The filter is only a match if both expressions evaluate to true. or: Logical \"or\". The filter is a match if either expression evaluates to true.",
            and_or,
            ["interop"]
        ),
        op_check!(
            "scim.filter.not",
            "not negates a grouped expression",
            "not: \"Not\" function. The filter is a match if the expression evaluates to false.",
            not,
            []
        ),
        op_check!("scim.filter.precedence", "and binds tighter than or", FILTER_OPS, precedence, []),
        op_check!("scim.filter.grouping", "Parentheses override precedence", FILTER_OPS, grouping, []),
        op_check!(
            "scim.filter.value-path",
            "A value path filters within a multi-valued attribute",
            "valuePath = attrPath \"[\" valFilter \"]\" ; FILTER uses sub-attributes of a parent attrPath",
            value_path,
            ["interop"]
        ),
        op_check!(
            "scim.filter.multi-valued",
            "A multi-valued attribute matches if any value matches",
            MULTI,
            multi_valued,
            ["interop", "entra"]
        ),
        op_check!(
            "scim.filter.sub-attribute",
            "name.familyName filters on a sub-attribute",
            COMPLEX,
            sub_attribute,
            []
        ),
        op_check!(
            "scim.filter.urn-qualified",
            "A URN-qualified attribute name filters like the short name",
            "attrPath = [URI \":\"] ATTRNAME *1subAttr ; SCIM attribute name ; URI is SCIM \"schema\" URI",
            urn_qualified,
            []
        ),
        op_check!(
            "scim.filter.datetime",
            "meta.lastModified gt compares dateTimes",
            "gt: greater than. If the attribute value is greater than the operator value, there is a match. The actual comparison is dependent on the attribute type. For string attribute types, this is a lexicographical comparison, and for DateTime types, it is a chronological comparison.",
            datetime,
            []
        ),
        op_check!(
            "scim.filter.case-insensitive-names",
            "Attribute names and operators are case insensitive",
            CASE_NAMES,
            case_names,
            ["interop"]
        ),
        op_check!(
            "scim.filter.case-exact",
            "userName (caseExact false) matches regardless of case",
            CASE_EXACT,
            case_exact,
            ["interop", "okta"]
        ),
        op_check!("scim.filter.invalid", "A malformed filter answers 400 invalidFilter", DECLINE, invalid, ["interop"]),
        op_check!(
            "scim.filter.unknown-operator",
            "An unknown operator answers 400 invalidFilter",
            DECLINE,
            unknown_operator,
            []
        ),
    ]
}

async fn eq(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("userName eq \"{}-beta\"", t.prefix), &["beta"]).await
}

async fn ne(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("userName sw \"{p}\" and displayName ne \"Beta {p}\"", p = t.prefix), &["alpha", "gamma"])
        .await
}

async fn co(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("displayName co \"eta {}\"", t.prefix), &["beta"]).await
}

async fn sw(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("userName sw \"{}-g\"", t.prefix), &["gamma"]).await?;
    t.expect(ctx, &format!("userName sw \"{}\"", t.prefix), &["alpha", "beta", "gamma"]).await
}

async fn ew(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("displayName ew \"ma {}\"", t.prefix), &["gamma"]).await
}

async fn pr(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("userName sw \"{}\" and title pr", t.prefix), &["alpha", "beta"]).await
}

async fn gt(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("userName sw \"{p}\" and userName gt \"{p}-beta\"", p = t.prefix), &["gamma"]).await
}

async fn ge(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("userName sw \"{p}\" and userName ge \"{p}-beta\"", p = t.prefix), &["beta", "gamma"]).await
}

async fn lt(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("userName sw \"{p}\" and userName lt \"{p}-beta\"", p = t.prefix), &["alpha"]).await
}

async fn le(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("userName sw \"{p}\" and userName le \"{p}-beta\"", p = t.prefix), &["alpha", "beta"]).await
}

async fn and_or(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    let p = &t.prefix;
    t.expect(ctx, &format!("userName eq \"{p}-alpha\" or userName eq \"{p}-gamma\""), &["alpha", "gamma"]).await?;
    t.expect(ctx, &format!("userName sw \"{p}\" and title eq \"Manager\""), &["beta"]).await
}

async fn not(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("userName sw \"{}\" and not (title eq \"Engineer\")", t.prefix), &["beta", "gamma"]).await
}

async fn precedence(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    let p = &t.prefix;
    // Evaluated left to right this would be (gamma or Manager) and alpha = nothing; with "and" first it is gamma.
    t.expect(
        ctx,
        &format!("userName eq \"{p}-gamma\" or title eq \"Manager\" and userName eq \"{p}-alpha\""),
        &["gamma"],
    )
    .await
}

async fn grouping(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    let p = &t.prefix;
    t.expect(ctx, &format!("(userName eq \"{p}-gamma\" or title eq \"Manager\") and userName sw \"{p}-b\""), &["beta"])
        .await
}

async fn value_path(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(
        ctx,
        &format!("userName sw \"{}\" and emails[type eq \"work\" and value co \"@work.example\"]", t.prefix),
        &["alpha"],
    )
    .await?;
    t.expect(ctx, &format!("userName sw \"{}\" and emails[type eq \"home\"]", t.prefix), &["alpha", "gamma"]).await
}

async fn multi_valued(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    // alpha@home.example is alpha's second email: any value may match.
    t.expect(ctx, &format!("userName sw \"{}\" and emails.value eq \"alpha@home.example\"", t.prefix), &["alpha"]).await
}

async fn sub_attribute(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("name.familyName eq \"Beta-{}\"", t.prefix), &["beta"]).await
}

async fn urn_qualified(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("urn:ietf:params:scim:schemas:core:2.0:User:userName eq \"{}-gamma\"", t.prefix), &["gamma"])
        .await
}

async fn datetime(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    let p = &t.prefix;
    t.expect(
        ctx,
        &format!("userName sw \"{p}\" and meta.lastModified gt \"2000-01-01T00:00:00Z\""),
        &["alpha", "beta", "gamma"],
    )
    .await?;
    t.expect(ctx, &format!("userName sw \"{p}\" and meta.lastModified gt \"2999-01-01T00:00:00Z\""), &[]).await
}

async fn case_names(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("USERNAME EQ \"{}-alpha\"", t.prefix), &["alpha"]).await
}

async fn case_exact(ctx: &Ctx) -> Step {
    let t = Trio::create(ctx).await?;
    t.expect(ctx, &format!("userName eq \"{}-ALPHA\"", t.prefix.to_uppercase()), &["alpha"]).await
}

async fn invalid(ctx: &Ctx) -> Step {
    let r = ctx.get(&format!("/Users?filter={}", encode("userName eq"))).await?;
    expect_error(&r, 400, Some("invalidFilter"), "GET /Users?filter=userName eq (no value)")
}

async fn unknown_operator(ctx: &Ctx) -> Step {
    let r = ctx.get(&format!("/Users?filter={}", encode("userName regex \"a.*\""))).await?;
    expect_error(&r, 400, Some("invalidFilter"), "GET /Users?filter=userName regex \"a.*\"")
}
