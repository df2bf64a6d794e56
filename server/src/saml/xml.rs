//! A small, strict, namespace-aware XML tree for SAML messages, read with quick-xml.
//!
//! Strict where libxml2 (which samael parses with, in recover mode) is lenient, so that a document this module
//! accepts means one thing to both parsers: no DOCTYPE (so no entities but the five predefined ones and character
//! references), no unbound prefix, no duplicate attribute, no unclosed or mismatched element, no text or second
//! element outside the root, no character XML 1.0 forbids, and an encoding declaration only of UTF-8. Depth and node
//! count are bounded. Comments are dropped and the text on either side of one is joined, so an element's text is
//! read in full (the CVE-2017-11427 family truncates it at the comment).

use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;

/// Deepest element nesting accepted; a SAML Response needs about ten levels.
const MAX_DEPTH: usize = 64;
/// Most elements accepted in one document.
const MAX_ELEMENTS: usize = 10_000;

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum XmlError {
    /// A document type declaration (the entry point of XXE and entity-expansion attacks).
    Doctype,
    /// Anything else; the reason is for logs.
    Malformed(String),
}

fn malformed(reason: impl Into<String>) -> XmlError {
    XmlError::Malformed(reason.into())
}

/// An attribute, with its namespace URI resolved (`None`: no namespace).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attr {
    pub ns: Option<String>,
    pub name: String,
    pub value: String,
}

/// A child of an element: an element, or a run of text (adjacent text, CDATA and references joined).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Element(Element),
    Text(String),
}

/// An element, with its namespace URI resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub ns: Option<String>,
    pub name: String,
    pub attrs: Vec<Attr>,
    pub children: Vec<Node>,
}

impl Element {
    /// Whether this element is `{ns}name`.
    pub fn is(&self, ns: &str, name: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.name == name
    }

    /// The value of the un-namespaced attribute `name` (SAML's own attributes are never namespaced).
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|a| a.ns.is_none() && a.name == name).map(|a| a.value.as_str())
    }

    /// The element children, in order.
    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    /// The element children named `{ns}name`.
    pub fn children_named<'a>(&'a self, ns: &'a str, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.elements().filter(move |e| e.is(ns, name))
    }

    /// The child `{ns}name`: `Ok(None)` when absent, `Err(())` when there are several.
    pub fn single_child(&self, ns: &str, name: &str) -> Result<Option<&Element>, ()> {
        let mut found = self.elements().filter(|e| e.is(ns, name));
        let first = found.next();
        if found.next().is_some() { Err(()) } else { Ok(first) }
    }

    /// The whole text content, every text node joined (comments were dropped at parse time, never cut at).
    /// `None` if the element has element children (SAML's string-valued elements have none).
    pub fn text(&self) -> Option<String> {
        let mut out = String::new();
        for child in &self.children {
            match child {
                Node::Text(t) => out.push_str(t),
                Node::Element(_) => return None,
            }
        }
        Some(out)
    }

    /// This element and every element below it, depth first, in document order.
    pub fn descendants(&self) -> Vec<&Element> {
        let mut out = Vec::new();
        let mut stack = vec![self];
        while let Some(e) = stack.pop() {
            out.push(e);
            let children: Vec<&Element> = e.elements().collect();
            stack.extend(children.into_iter().rev());
        }
        out
    }

    fn push_text(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        if let Some(Node::Text(last)) = self.children.last_mut() {
            last.push_str(text);
        } else {
            self.children.push(Node::Text(text.to_owned()));
        }
    }
}

/// Whether `c` is a Char of XML 1.0 §2.2.
fn legal_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn namespace(ns: ResolveResult<'_>) -> Result<Option<String>, XmlError> {
    match ns {
        ResolveResult::Unbound => Ok(None),
        ResolveResult::Bound(ns) => std::str::from_utf8(ns.as_ref())
            .map(|s| Some(s.to_owned()))
            .map_err(|_| malformed("namespace is not UTF-8")),
        ResolveResult::Unknown(prefix) => {
            Err(malformed(format!("unbound namespace prefix `{}`", String::from_utf8_lossy(&prefix))))
        }
    }
}

fn utf8(bytes: &[u8]) -> Result<String, XmlError> {
    std::str::from_utf8(bytes).map(str::to_owned).map_err(|_| malformed("name is not UTF-8"))
}

/// Parses `xml` into its root element, or says why it is refused.
pub(crate) fn parse(xml: &str) -> Result<Element, XmlError> {
    if let Some(c) = xml.chars().find(|c| !legal_xml_char(*c)) {
        return Err(malformed(format!("character U+{:04X} is not allowed in XML", u32::from(c))));
    }
    let mut reader = NsReader::from_str(xml);
    let config = reader.config_mut();
    config.expand_empty_elements = true;
    config.check_end_names = true;
    config.check_comments = true;
    config.allow_dangling_amp = false;
    config.allow_unmatched_ends = false;
    config.trim_text(false);

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    let mut seen_markup = false;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| malformed(e.to_string()))?;
        let ns = match &event {
            Event::Start(_) => namespace(ns)?,
            _ => None,
        };
        match event {
            Event::Decl(decl) => {
                if seen_markup {
                    return Err(malformed("XML declaration not at the start"));
                }
                if let Some(encoding) = decl.encoding() {
                    let encoding = encoding.map_err(|e| malformed(e.to_string()))?;
                    if !encoding.eq_ignore_ascii_case(b"utf-8") {
                        return Err(malformed("only UTF-8 is accepted"));
                    }
                }
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Start(start) => {
                if root.is_some() {
                    return Err(malformed("a second root element"));
                }
                elements += 1;
                if elements > MAX_ELEMENTS || stack.len() >= MAX_DEPTH {
                    return Err(malformed("document too deep or too large"));
                }
                let name = utf8(start.local_name().as_ref())?;
                let mut attrs = Vec::new();
                for attr in start.attributes() {
                    let attr = attr.map_err(|e| malformed(e.to_string()))?;
                    if attr.key.as_namespace_binding().is_some() {
                        continue;
                    }
                    if attr.value.contains(&b'<') {
                        return Err(malformed("`<` in an attribute value"));
                    }
                    let value = attr.unescape_value().map_err(|e| malformed(e.to_string()))?.into_owned();
                    if value.chars().any(|c| !legal_xml_char(c)) {
                        return Err(malformed("illegal character reference in an attribute"));
                    }
                    let (attr_ns, local) = reader.resolve_attribute(attr.key);
                    attrs.push(Attr { ns: namespace(attr_ns)?, name: utf8(local.as_ref())?, value });
                }
                stack.push(Element { ns, name, attrs, children: Vec::new() });
            }
            Event::End(_) => {
                let element = stack.pop().ok_or_else(|| malformed("unmatched end tag"))?;
                match stack.last_mut() {
                    Some(parent) => parent.children.push(Node::Element(element)),
                    None => root = Some(element),
                }
            }
            Event::Empty(_) => return Err(malformed("unexpected empty-element event")),
            Event::Text(text) => {
                let text = text.xml10_content().map_err(|e| malformed(e.to_string()))?;
                match stack.last_mut() {
                    Some(top) => top.push_text(&text),
                    None if text.chars().all(|c| matches!(c, ' ' | '\t' | '\n' | '\r')) => {}
                    None => return Err(malformed("text outside the root element")),
                }
            }
            Event::CData(cdata) => {
                let text = cdata.xml10_content().map_err(|e| malformed(e.to_string()))?;
                stack.last_mut().ok_or_else(|| malformed("CDATA outside the root element"))?.push_text(&text);
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref().map_err(|e| malformed(e.to_string()))? {
                    Some(c) if legal_xml_char(c) => c,
                    Some(_) => return Err(malformed("illegal character reference")),
                    None => match &*reference {
                        b"amp" => '&',
                        b"lt" => '<',
                        b"gt" => '>',
                        b"apos" => '\'',
                        b"quot" => '"',
                        // Without a DOCTYPE no other entity can be declared (XML 1.0 §4.1, WFC: Entity Declared).
                        _ => return Err(malformed("undeclared entity reference")),
                    },
                };
                let mut buf = [0u8; 4];
                stack
                    .last_mut()
                    .ok_or_else(|| malformed("reference outside the root element"))?
                    .push_text(resolved.encode_utf8(&mut buf));
            }
            // Comments and processing instructions carry no SAML data; dropping a comment joins the text around it.
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
        seen_markup = true;
    }
    if !stack.is_empty() {
        return Err(malformed("unclosed element"));
    }
    root.ok_or_else(|| malformed("no root element"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_do_not_cut_text() {
        let root = parse("<a>user@example.com<!-- x -->.evil.test</a>").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(root.text().as_deref(), Some("user@example.com.evil.test"));
    }

    #[test]
    fn references_and_cdata_join_the_text() {
        let root = parse("<a>x&amp;y&#x41;<![CDATA[<z>]]></a>").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(root.text().as_deref(), Some("x&yA<z>"));
    }

    #[test]
    fn namespaces_are_resolved() {
        let root = parse(r#"<p:a xmlns:p="urn:x" b="1"><c xmlns="urn:y"/></p:a>"#).unwrap_or_else(|e| panic!("{e:?}"));
        assert!(root.is("urn:x", "a"));
        assert_eq!(root.attr("b"), Some("1"));
        assert!(root.elements().all(|c| c.is("urn:y", "c")));
    }

    #[test]
    fn refuses_what_libxml2_would_recover_from() {
        for bad in [
            "<!DOCTYPE a><a/>",
            "<a><b></a>",
            "<a>",
            "<a/><b/>",
            "<a/>text",
            r#"<a x="1" x="2"/>"#,
            "<p:a/>",
            "<a>&ent;</a>",
            "<a>&#0;</a>",
            "<a>\u{1}</a>",
            "<a>& b</a>",
            r#"<?xml version="1.0" encoding="ISO-8859-1"?><a/>"#,
            "",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
        assert_eq!(parse("<!DOCTYPE a []><a/>"), Err(XmlError::Doctype));
    }

    #[test]
    fn depth_is_bounded() {
        let deep = format!("{}{}", "<a>".repeat(MAX_DEPTH + 1), "</a>".repeat(MAX_DEPTH + 1));
        assert!(parse(&deep).is_err());
    }
}
