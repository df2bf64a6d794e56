//! A hand-written recursive-descent parser for the filter grammar of RFC 7644 §3.4.2.2 (Figure 1) and the PATCH
//! path grammar of RFC 7644 §3.5.2 (Figure 7).
//!
//! The parser works on byte offsets into the input but only ever moves by whole characters, so every slice it takes
//! is on a character boundary and multi-byte UTF-8 cannot make it panic. Recursion is bounded by [`MAX_NESTING`]
//! (parentheses, `not`, brackets) and the length of `and`/`or` chains by [`MAX_LOGICAL_OPERATORS`], because the
//! resulting tree is walked recursively by the printer, the compiler and the evaluator: an unbounded filter from a
//! query string must not be able to overflow a worker thread's stack.

use super::{AttrPath, CompValue, CompareOp, Filter, ParseError, PatchPath};

/// How deeply parentheses, `not ( … )` and value filters `[ … ]` may nest.
pub const MAX_NESTING: usize = 64;

/// How many `and`/`or` operators one filter may contain. Chains build left-deep trees, so this also bounds the depth
/// of the tree (together with [`MAX_NESTING`]).
pub const MAX_LOGICAL_OPERATORS: usize = 1000;

/// The operators, in the order the error messages list them (RFC 7644 §3.4.2.2, Table 3).
const OPERATOR_LIST: &str = "eq, ne, co, sw, ew, gt, ge, lt, le, pr";

/// Parses a filter expression (RFC 7644 §3.4.2.2, Figure 1).
///
/// Operators, logical keywords and the literals `true`/`false`/`null` are matched case-insensitively (RFC 7644
/// §3.4.2.2: "Attribute names and attribute operators used in filters are case insensitive"); attribute names are
/// kept as written and resolved case-insensitively later. As an extension, the Microsoft Entra ID shape
/// `emails[type eq "work"].value eq "x"` is read as `emails[type eq "work" and value eq "x"]`.
pub fn parse_filter(input: &str) -> Result<Filter, ParseError> {
    let mut p = Parser::new(input);
    let filter = p.parse_or()?;
    p.skip_ws();
    p.expect_end()?;
    Ok(filter)
}

/// Parses a bare attribute path `[URI ":"] ATTRNAME ["." subAttr]` (RFC 7644 §3.10), e.g. for `sortBy` or
/// `attributes`. Surrounding whitespace is ignored.
pub fn parse_attr_path(input: &str) -> Result<AttrPath, ParseError> {
    let mut p = Parser::new(input);
    p.skip_ws();
    let path = p.parse_path()?;
    p.skip_ws();
    p.expect_end()?;
    Ok(path)
}

/// Parses a PATCH `path` (RFC 7644 §3.5.2, Figure 7: `PATH = attrPath / valuePath [subAttr]`).
///
/// For a value path such as `emails[type eq "work"].value`, `attr` is `emails` (without a sub-attribute), `filter`
/// holds `type eq "work"` and `sub_after_filter` holds `value`. Surrounding whitespace is ignored.
pub fn parse_patch_path(input: &str) -> Result<PatchPath, ParseError> {
    let mut p = Parser::new(input);
    p.skip_ws();
    let path_start = p.pos;
    let attr = p.parse_path()?;
    let mut filter = None;
    let mut sub_after_filter = None;
    if p.peek() == Some('[') {
        if attr.sub.is_some() {
            return Err(p.error_at(
                path_start,
                format!(
                    "a value filter must follow a multi-valued attribute, not the sub-attribute \"{}\"",
                    p.src(path_start, p.pos)
                ),
            ));
        }
        filter = Some(p.parse_bracket()?);
        if p.peek() == Some('.') {
            p.bump();
            sub_after_filter = Some(p.parse_name("a sub-attribute name after \"].\"")?);
        }
    }
    p.skip_ws();
    p.expect_end()?;
    Ok(PatchPath { attr, filter, sub_after_filter })
}

/// Whether `c` may appear in an attribute name after its first character (RFC 7644 §3.4.2.2: `nameChar`).
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

/// Whether `c` may appear in the URN part of a fully qualified attribute path. RFC 3986 allows more, but these are
/// the characters of URNs that name schemas; excluding brackets, parentheses, quotes and whitespace keeps the token
/// unambiguous.
fn is_urn_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.~:%+@!$&'*,;=/".contains(c)
}

/// Whitespace between tokens. RFC 7644 says `SP`; tabs and line breaks are tolerated because clients wrap filters.
fn is_ws(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

struct Parser<'a> {
    input: &'a str,
    /// Byte offset of the next character; always on a character boundary.
    pos: usize,
    nesting: usize,
    logical_ops: usize,
    /// Inside `[ … ]`: value filters cannot nest (RFC 7644 §3.4.2.2, `valFilter`).
    in_value_filter: bool,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        Parser { input, pos: 0, nesting: 0, logical_ops: 0, in_value_filter: false }
    }

    fn rest(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or("")
    }

    fn src(&self, from: usize, to: usize) -> &'a str {
        self.input.get(from..to).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn peek_second(&self) -> Option<char> {
        self.rest().chars().nth(1)
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    /// Skips whitespace; returns whether there was any.
    fn skip_ws(&mut self) -> bool {
        let start = self.pos;
        while self.peek().is_some_and(is_ws) {
            self.bump();
        }
        self.pos > start
    }

    fn error_at(&self, position: usize, message: impl Into<String>) -> ParseError {
        ParseError { position, message: message.into() }
    }

    /// Up to 24 characters of the input from `pos`, for error messages.
    fn excerpt(&self, pos: usize) -> String {
        let rest = self.input.get(pos..).unwrap_or("");
        let mut out: String = rest.chars().take(24).collect();
        if rest.chars().nth(24).is_some() {
            out.push('…');
        }
        out
    }

    /// What is at `pos`, for "found …" in messages.
    fn found(&self, pos: usize) -> String {
        if pos >= self.input.len() { "the end of the filter".to_owned() } else { format!("\"{}\"", self.excerpt(pos)) }
    }

    fn expect_end(&self) -> Result<(), ParseError> {
        match self.peek() {
            None => Ok(()),
            Some(')') => Err(self.error_at(self.pos, "unbalanced parenthesis: \")\" without a matching \"(\"")),
            Some(']') => Err(self.error_at(self.pos, "unbalanced bracket: \"]\" without a matching \"[\"")),
            Some(_) => {
                Err(self.error_at(self.pos, format!("unexpected trailing input \"{}\"", self.excerpt(self.pos))))
            }
        }
    }

    fn enter(&mut self, at: usize) -> Result<(), ParseError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.error_at(
                at,
                format!("the filter nests too deeply (more than {MAX_NESTING} levels of parentheses, not or brackets)"),
            ));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    fn count_logical(&mut self, at: usize) -> Result<(), ParseError> {
        self.logical_ops += 1;
        if self.logical_ops > MAX_LOGICAL_OPERATORS {
            return Err(self.error_at(at, format!("the filter has more than {MAX_LOGICAL_OPERATORS} and/or operators")));
        }
        Ok(())
    }

    /// Consumes the keyword `kw` (ASCII, case-insensitive) when it is a whole word at the current position: followed
    /// by whitespace, `(` or the end, never by a name character (so `order pr` is not `or` + `der pr`).
    fn eat_keyword(&mut self, kw: &str) -> bool {
        let rest = self.rest();
        let Some(head) = rest.get(..kw.len()) else {
            return false;
        };
        if !head.eq_ignore_ascii_case(kw) {
            return false;
        }
        let next = rest.get(kw.len()..).and_then(|r| r.chars().next());
        if next.is_some_and(|c| !is_ws(c) && c != '(') {
            return false;
        }
        self.pos += kw.len();
        true
    }

    /// `filter *("or" filter)`: `or` binds loosest (RFC 7644 §3.4.2.2, order of operations); left-associative.
    fn parse_or(&mut self) -> Result<Filter, ParseError> {
        let mut left = self.parse_and()?;
        loop {
            let save = self.pos;
            self.skip_ws();
            let at = self.pos;
            if self.eat_keyword("or") {
                self.count_logical(at)?;
                let right = self.parse_and()?;
                left = Filter::Or(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    /// `filter *("and" filter)`: `and` binds tighter than `or`; left-associative.
    fn parse_and(&mut self) -> Result<Filter, ParseError> {
        let mut left = self.parse_unary()?;
        loop {
            let save = self.pos;
            self.skip_ws();
            let at = self.pos;
            if self.eat_keyword("and") {
                self.count_logical(at)?;
                let right = self.parse_unary()?;
                left = Filter::And(Box::new(left), Box::new(right));
            } else {
                self.pos = save;
                return Ok(left);
            }
        }
    }

    /// A grouping `( … )`, a negation `not ( … )`, or an attribute expression / value path.
    fn parse_unary(&mut self) -> Result<Filter, ParseError> {
        self.skip_ws();
        let start = self.pos;
        match self.peek() {
            Some('(') => self.parse_group(),
            Some(c) if c.is_ascii_alphabetic() || c == '$' => {
                // `not` is a keyword only when a parenthesis follows (RFC 7644 Figure 1: `"not" "(" FILTER ")"`);
                // otherwise it is an ordinary attribute name, as in `not pr`.
                if self.eat_keyword("not") {
                    self.skip_ws();
                    if self.peek() == Some('(') {
                        // parse_group counts the nesting level.
                        let inner = self.parse_group()?;
                        return Ok(Filter::Not(Box::new(inner)));
                    }
                    self.pos = start;
                }
                self.parse_attr_exp()
            }
            Some(')') => Err(self.error_at(start, "unbalanced parenthesis: expected a filter expression before \")\"")),
            _ => Err(self.error_at(
                start,
                format!(
                    "expected a filter expression (an attribute path, \"(\" or \"not (\"), found {}",
                    self.found(start)
                ),
            )),
        }
    }

    /// `"(" FILTER ")"`, the current character being `(`.
    fn parse_group(&mut self) -> Result<Filter, ParseError> {
        let open = self.pos;
        self.enter(open)?;
        self.bump();
        let inner = self.parse_or()?;
        self.skip_ws();
        if self.peek() != Some(')') {
            return Err(self.error_at(
                self.pos,
                format!(
                    "unbalanced parenthesis: expected \")\" to close the \"(\" at character {}, found {}",
                    open + 1,
                    self.found(self.pos)
                ),
            ));
        }
        self.bump();
        self.leave();
        Ok(inner)
    }

    /// `"[" valFilter "]"`, the current character being `[`; the inner paths are relative to the attribute.
    fn parse_bracket(&mut self) -> Result<Filter, ParseError> {
        let open = self.pos;
        if self.in_value_filter {
            return Err(self.error_at(open, "value filters cannot be nested (RFC 7644 §3.4.2.2, valFilter)"));
        }
        self.enter(open)?;
        self.bump();
        self.in_value_filter = true;
        let inner = self.parse_or()?;
        self.in_value_filter = false;
        self.skip_ws();
        if self.peek() != Some(']') {
            return Err(self.error_at(
                self.pos,
                format!(
                    "expected \"]\" to close the value filter opened at character {}, found {}",
                    open + 1,
                    self.found(self.pos)
                ),
            ));
        }
        self.bump();
        self.leave();
        Ok(inner)
    }

    /// `attrPath SP "pr"`, `attrPath SP compareOp SP compValue` or `attrPath "[" valFilter "]"`.
    fn parse_attr_exp(&mut self) -> Result<Filter, ParseError> {
        let path_start = self.pos;
        let path = self.parse_path()?;
        let path_text = self.src(path_start, self.pos);
        let had_ws = self.skip_ws();
        if self.peek() == Some('[') {
            let filter = self.parse_bracket()?;
            // Extension: Microsoft Entra ID's `emails[type eq "work"].value eq "x"` means
            // `emails[type eq "work" and value eq "x"]`.
            if self.peek() == Some('.') && self.peek_second().is_some_and(|c| c.is_ascii_alphabetic() || c == '$') {
                self.bump();
                let sub_start = self.pos;
                let sub = self.parse_name("a sub-attribute name after \"].\"")?;
                let sub_text = self.src(sub_start, self.pos);
                let sub_path = AttrPath { urn: None, name: sub, sub: None };
                let had_ws = self.skip_ws();
                let cmp = self.parse_operator_and_value(sub_path, sub_text, had_ws)?;
                return Ok(Filter::ValuePath { path, filter: Box::new(Filter::And(Box::new(filter), Box::new(cmp))) });
            }
            return Ok(Filter::ValuePath { path, filter: Box::new(filter) });
        }
        self.parse_operator_and_value(path, path_text, had_ws)
    }

    /// The `SP compareOp SP compValue` or `SP "pr"` after an attribute path (whitespace already skipped).
    fn parse_operator_and_value(
        &mut self,
        path: AttrPath,
        path_text: &str,
        had_ws: bool,
    ) -> Result<Filter, ParseError> {
        let op_start = self.pos;
        let expected_op = || format!("expected a comparison operator ({OPERATOR_LIST}) after \"{path_text}\"");
        if !had_ws {
            return Err(match self.peek() {
                None => self.error_at(op_start, expected_op()),
                Some(c) => self.error_at(op_start, format!("unexpected character \"{c}\" after \"{path_text}\"")),
            });
        }
        while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            self.bump();
        }
        let word = self.src(op_start, self.pos);
        let op = match word.to_ascii_lowercase().as_str() {
            "pr" => {
                self.expect_token_end("pr")?;
                return Ok(Filter::Present(path));
            }
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => {
                let found = if word.is_empty() { self.found(op_start) } else { format!("\"{word}\"") };
                // The position points at the unknown word itself, so the client sees which token was wrong.
                return Err(self.error_at(op_start, format!("{}, found {found}", expected_op())));
            }
        };
        self.skip_ws();
        let value = self.parse_value(word)?;
        self.expect_token_end("the comparison value")?;
        Ok(Filter::Compare { path, op, value })
    }

    /// After `pr` or a value: the next character must separate tokens, so `userName eq "a"x` is an error.
    fn expect_token_end(&self, what: &str) -> Result<(), ParseError> {
        match self.peek() {
            None | Some(')') | Some(']') => Ok(()),
            Some(c) if is_ws(c) => Ok(()),
            Some(_) => Err(self.error_at(
                self.pos,
                format!("expected whitespace, \")\" or \"]\" after {what}, found {}", self.found(self.pos)),
            )),
        }
    }

    /// `compValue = false / null / true / number / string` (RFC 7644 §3.4.2.2, JSON literals of RFC 7159).
    fn parse_value(&mut self, op: &str) -> Result<CompValue, ParseError> {
        let start = self.pos;
        let expected = || {
            format!(
                "expected a comparison value (a string in double quotes, a number, true, false or null) after \"{op}\""
            )
        };
        match self.peek() {
            Some('"') => Ok(CompValue::Str(self.parse_string()?)),
            Some(c) if c == '-' || c.is_ascii_digit() => Ok(CompValue::Number(self.parse_number()?)),
            Some(c) if c.is_ascii_alphabetic() => {
                while self.peek().is_some_and(|c| c.is_ascii_alphanumeric()) {
                    self.bump();
                }
                let word = self.src(start, self.pos);
                if word.eq_ignore_ascii_case("true") {
                    Ok(CompValue::Bool(true))
                } else if word.eq_ignore_ascii_case("false") {
                    Ok(CompValue::Bool(false))
                } else if word.eq_ignore_ascii_case("null") {
                    Ok(CompValue::Null)
                } else {
                    Err(self.error_at(start, format!("{}, found \"{word}\" (strings need double quotes)", expected())))
                }
            }
            _ => Err(self.error_at(start, format!("{}, found {}", expected(), self.found(start)))),
        }
    }

    /// A JSON string (RFC 7159 §7), the current character being `"`.
    fn parse_string(&mut self) -> Result<String, ParseError> {
        let open = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => {
                    return Err(self.error_at(open, "unterminated string: missing the closing double quote"));
                }
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some('"') => out.push('"'),
                    Some('\\') => out.push('\\'),
                    Some('/') => out.push('/'),
                    Some('b') => out.push('\u{8}'),
                    Some('f') => out.push('\u{c}'),
                    Some('n') => out.push('\n'),
                    Some('r') => out.push('\r'),
                    Some('t') => out.push('\t'),
                    Some('u') => out.push(self.parse_unicode_escape(at)?),
                    None => {
                        return Err(self.error_at(open, "unterminated string: missing the closing double quote"));
                    }
                    Some(c) => {
                        return Err(self.error_at(at, format!("invalid escape \"\\{c}\" in string")));
                    }
                },
                // RFC 7159 wants control characters escaped; accepting them raw costs nothing and helps clients that
                // forget.
                Some(c) => out.push(c),
            }
        }
    }

    /// The `XXXX` of `\uXXXX` (the `\u` already consumed), with UTF-16 surrogate pairs (RFC 7159 §7).
    fn parse_unicode_escape(&mut self, at: usize) -> Result<char, ParseError> {
        let high = self.parse_hex4(at)?;
        if (0xD800..0xDC00).contains(&high) {
            if self.rest().starts_with("\\u") {
                self.pos += 2;
                let low = self.parse_hex4(at)?;
                if (0xDC00..0xE000).contains(&low) {
                    let c = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
                    return char::from_u32(c).ok_or_else(|| self.error_at(at, "invalid \\u escape in string"));
                }
            }
            return Err(
                self.error_at(at, "invalid \\u escape in string: a high surrogate must be followed by a low one")
            );
        }
        char::from_u32(high).ok_or_else(|| self.error_at(at, "invalid \\u escape in string: unpaired low surrogate"))
    }

    fn parse_hex4(&mut self, at: usize) -> Result<u32, ParseError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = self.peek().and_then(|c| c.to_digit(16));
            match d {
                Some(d) => {
                    v = v * 16 + d;
                    self.bump();
                }
                None => {
                    return Err(self.error_at(at, "invalid \\u escape in string: expected four hex digits"));
                }
            }
        }
        Ok(v)
    }

    /// A JSON number (RFC 7159 §6): `-? (0 / [1-9] DIGIT*) ["." DIGIT+] [("e"/"E") ["+"/"-"] DIGIT+]`.
    fn parse_number(&mut self) -> Result<serde_json::Number, ParseError> {
        let start = self.pos;
        let invalid = |p: &Self| p.error_at(start, format!("invalid number \"{}\"", p.excerpt(start)));
        if self.peek() == Some('-') {
            self.bump();
        }
        match self.peek() {
            Some('0') => {
                self.bump();
            }
            Some(c) if c.is_ascii_digit() => self.digits(),
            _ => return Err(invalid(self)),
        }
        if self.peek() == Some('.') {
            self.bump();
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(invalid(self));
            }
            self.digits();
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            if !self.peek().is_some_and(|c| c.is_ascii_digit()) {
                return Err(invalid(self));
            }
            self.digits();
        }
        let text = self.src(start, self.pos);
        let out_of_range = || self.error_at(start, format!("number \"{text}\" is out of range"));
        // Integers stay exact; everything else goes through Rust's correctly rounded f64 parser (serde_json's own
        // fast path can be one ulp off without its `float_roundtrip` feature, which would break print → parse).
        if !text.contains(['.', 'e', 'E']) {
            if let Ok(n) = text.parse::<u64>() {
                return Ok(n.into());
            }
            if let Ok(n) = text.parse::<i64>() {
                return Ok(n.into());
            }
        }
        let x = text.parse::<f64>().map_err(|_| out_of_range())?;
        serde_json::Number::from_f64(x).filter(|_| x.is_finite()).ok_or_else(out_of_range)
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.bump();
        }
    }

    /// `ATTRNAME = ALPHA *(nameChar)`, plus a leading `$` so that `$ref` (RFC 7643 §2.3.7) is a name.
    fn parse_name(&mut self, what: &str) -> Result<String, ParseError> {
        let start = self.pos;
        if self.peek() == Some('$') {
            self.bump();
        }
        if !self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
            return Err(self.error_at(start, format!("expected {what}, found {}", self.found(start))));
        }
        while self.peek().is_some_and(is_name_char) {
            self.bump();
        }
        Ok(self.src(start, self.pos).to_owned())
    }

    /// `attrPath = [URI ":"] ATTRNAME *1subAttr` (RFC 7644 §3.4.2.2, §3.10).
    ///
    /// A URN contains colons and dots (`…:2.0:User`) while attribute names contain neither, so a path that starts
    /// with `urn:` is read as one token and split at its last colon (as `schema::split_urn` does).
    fn parse_path(&mut self) -> Result<AttrPath, ParseError> {
        let start = self.pos;
        let has_urn = self.rest().get(..4).is_some_and(|h| h.eq_ignore_ascii_case("urn:"));
        let mut urn = None;
        let mut token_end = None;
        if has_urn {
            while self.peek().is_some_and(is_urn_char) {
                self.bump();
            }
            let token = self.src(start, self.pos);
            let colon = token.rfind(':').unwrap_or(3);
            token_end = Some(self.pos);
            urn = Some(token[..colon].to_owned());
            self.pos = start + colon + 1;
            if self.pos >= token_end.unwrap_or(0) {
                return Err(self.error_at(
                    self.pos,
                    format!("expected an attribute name after the schema URN \"{}\"", &token[..colon]),
                ));
            }
        }
        let name = self.parse_name("an attribute name")?;
        let mut sub = None;
        if self.peek() == Some('.') {
            self.bump();
            sub = Some(self.parse_name(&format!("a sub-attribute name after \"{name}.\""))?);
            if self.peek() == Some('.') {
                return Err(self.error_at(
                    self.pos,
                    format!(
                        "attribute path \"{}\" has more than one sub-attribute",
                        self.src(start, token_end.unwrap_or(self.pos))
                    ),
                ));
            }
        }
        if let Some(end) = token_end
            && self.pos != end
        {
            return Err(self.error_at(
                self.pos,
                format!(
                    "invalid character \"{}\" in attribute path \"{}\"",
                    self.peek().unwrap_or(' '),
                    self.src(start, end)
                ),
            ));
        }
        // Attribute names never contain ':' (RFC 7643 §2.1); a colon here means a URN that does not start with
        // "urn:", which this server does not use.
        if self.peek() == Some(':') {
            return Err(self.error_at(
                self.pos,
                format!(
                    "invalid character \":\" in attribute path \"{}\" (schema URNs start with \"urn:\")",
                    self.src(start, self.pos)
                ),
            ));
        }
        Ok(AttrPath { urn, name, sub })
    }
}
