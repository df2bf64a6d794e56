//! A small XML tree for building and mutating SAML documents, read with quick-xml.
//!
//! It keeps text and attribute values in their escaped (raw) form and writes childless elements as `<x/>`, as
//! libxml2 does, so a document that xmlsec wrote comes back byte for byte when nothing was changed: an attack that
//! moves a signed element keeps its bytes. Namespaces are resolved while reading; each element remembers its URI.

use std::collections::HashMap;

use quick_xml::events::{BytesStart, Event};

use super::SamlIdpError;

/// The namespace bound to the `xml` prefix.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// A node of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Node {
    Element(Element),
    /// Character data, escaped as written (`&amp;`, entity references).
    Text(String),
    /// A comment's content, without `<!--` and `-->`.
    Comment(String),
    /// A CDATA section's content.
    CData(String),
    /// A processing instruction's content, without `<?` and `?>`.
    Pi(String),
}

/// An element: its qualified name, its namespace URI, attributes with escaped values (namespace declarations
/// included, in document order), and children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) ns: Option<String>,
    pub(crate) attrs: Vec<(String, String)>,
    pub(crate) children: Vec<Node>,
    /// Written as `<x/>` when it has no children (else `<x></x>`).
    empty_tag: bool,
}

/// A whole document: what comes before the root (declaration, DOCTYPE, comments), the root, and what follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Document {
    pub(crate) prolog: String,
    pub(crate) root: Element,
    pub(crate) epilog: String,
}

/// Escapes character data.
pub(crate) fn escape_text(value: &str) -> String {
    value.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Escapes an attribute value for double quotes.
pub(crate) fn escape_attr(value: &str) -> String {
    escape_text(value).replace('"', "&quot;")
}

/// Resolves the five predefined entities and character references; other references are kept as written.
pub(crate) fn unescape(raw: &str) -> String {
    match quick_xml::escape::unescape(raw) {
        Ok(text) => text.into_owned(),
        Err(_) => raw.to_owned(),
    }
}

impl Element {
    /// A new element with no attributes and no children.
    pub(crate) fn new(name: &str, ns: &str) -> Element {
        Element {
            name: name.to_owned(),
            ns: Some(ns.to_owned()),
            attrs: Vec::new(),
            children: Vec::new(),
            empty_tag: true,
        }
    }

    /// Adds an attribute (the value is escaped here).
    pub(crate) fn with_attr(mut self, key: &str, value: &str) -> Element {
        self.set_attr(key, value);
        self
    }

    /// Adds an attribute when `value` is some.
    pub(crate) fn with_opt_attr(self, key: &str, value: Option<&str>) -> Element {
        match value {
            Some(value) => self.with_attr(key, value),
            None => self,
        }
    }

    /// Adds a child element.
    pub(crate) fn with_child(mut self, child: Element) -> Element {
        self.children.push(Node::Element(child));
        self
    }

    /// Sets the text content (escaped here), replacing every child.
    pub(crate) fn with_text(mut self, text: &str) -> Element {
        self.set_text(text);
        self
    }

    /// The local part of the name.
    pub(crate) fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    /// The prefix of the name, if any.
    fn prefix(&self) -> Option<&str> {
        self.name.split_once(':').map(|(prefix, _)| prefix)
    }

    /// Whether this element is `{ns}local`.
    pub(crate) fn is(&self, ns: &str, local: &str) -> bool {
        self.ns.as_deref() == Some(ns) && self.local() == local
    }

    /// An attribute's value, unescaped.
    pub(crate) fn attr(&self, key: &str) -> Option<String> {
        self.attrs.iter().find(|(k, _)| k == key).map(|(_, v)| unescape(v))
    }

    /// Sets (or adds) an attribute; the value is escaped here.
    pub(crate) fn set_attr(&mut self, key: &str, value: &str) {
        let escaped = escape_attr(value);
        match self.attrs.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = escaped,
            None => self.attrs.push((key.to_owned(), escaped)),
        }
    }

    /// The text of this element and its descendants, unescaped, comments left out (what C14N digests).
    pub(crate) fn text(&self) -> String {
        let mut out = String::new();
        for child in &self.children {
            match child {
                Node::Element(e) => out.push_str(&e.text()),
                Node::Text(raw) => out.push_str(&unescape(raw)),
                Node::CData(data) => out.push_str(data),
                Node::Comment(_) | Node::Pi(_) => {}
            }
        }
        out
    }

    /// Replaces every child with one text node (escaped here).
    pub(crate) fn set_text(&mut self, text: &str) {
        self.children = vec![Node::Text(escape_text(text))];
    }

    /// The element children.
    pub(crate) fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            _ => None,
        })
    }

    /// The index (in `children`) of the first child element `{ns}local`.
    pub(crate) fn child_index(&self, ns: &str, local: &str) -> Option<usize> {
        self.children.iter().position(|n| matches!(n, Node::Element(e) if e.is(ns, local)))
    }

    /// The first child element `{ns}local`.
    pub(crate) fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, local))
    }

    /// The first child element `{ns}local`, mutable.
    pub(crate) fn child_mut(&mut self, ns: &str, local: &str) -> Option<&mut Element> {
        self.children.iter_mut().find_map(|n| match n {
            Node::Element(e) if e.is(ns, local) => Some(e),
            _ => None,
        })
    }

    /// Removes every child element `{ns}local` (not deeper ones); returns how many went.
    pub(crate) fn remove_children(&mut self, ns: &str, local: &str) -> usize {
        let before = self.children.len();
        self.children.retain(|n| !matches!(n, Node::Element(e) if e.is(ns, local)));
        before - self.children.len()
    }

    /// Removes every descendant element `{ns}local`, at any depth; returns how many went.
    pub(crate) fn remove_descendants(&mut self, ns: &str, local: &str) -> usize {
        let mut removed = self.remove_children(ns, local);
        for child in &mut self.children {
            if let Node::Element(e) = child {
                removed += e.remove_descendants(ns, local);
            }
        }
        removed
    }

    /// The first descendant element (self included, depth first) matching `pred`, mutable.
    pub(crate) fn find_mut(&mut self, pred: &dyn Fn(&Element) -> bool) -> Option<&mut Element> {
        if pred(self) {
            return Some(self);
        }
        self.children.iter_mut().find_map(|n| match n {
            Node::Element(e) => e.find_mut(pred),
            _ => None,
        })
    }

    /// Every descendant element (self included) matching `pred`, in document order.
    pub(crate) fn find_all<'a>(&'a self, pred: &dyn Fn(&Element) -> bool, out: &mut Vec<&'a Element>) {
        if pred(self) {
            out.push(self);
        }
        for e in self.elements() {
            e.find_all(pred, out);
        }
    }

    /// The namespace bindings this element declares (`""` is the default namespace).
    fn declarations(&self) -> impl Iterator<Item = (&str, String)> {
        self.attrs.iter().filter_map(|(k, v)| {
            if k == "xmlns" { Some(("", unescape(v))) } else { k.strip_prefix("xmlns:").map(|p| (p, unescape(v))) }
        })
    }

    /// Every prefix the names of this subtree use (`""` for unprefixed element names).
    fn used_prefixes(&self, out: &mut Vec<String>) {
        let mut push = |p: &str| {
            if !out.iter().any(|q| q == p) {
                out.push(p.to_owned());
            }
        };
        push(self.prefix().unwrap_or(""));
        for (k, _) in &self.attrs {
            if let Some((p, _)) = k.split_once(':')
                && p != "xmlns"
                && p != "xml"
            {
                push(p);
            }
        }
        for e in self.elements() {
            e.used_prefixes(out);
        }
    }

    /// Makes this element (about to move from a place where `from` was in scope to one where `to` is) declare
    /// every binding its subtree uses that `to` would bind differently, so every name keeps its namespace.
    pub(crate) fn keep_namespaces(&mut self, from: &Scope, to: &Scope) {
        let mut used = Vec::new();
        self.used_prefixes(&mut used);
        let own: Vec<String> = self.declarations().map(|(p, _)| p.to_owned()).collect();
        for prefix in used {
            if own.contains(&prefix) {
                continue;
            }
            let source = from.get(&prefix);
            if source != to.get(&prefix) {
                let key = if prefix.is_empty() { "xmlns".to_owned() } else { format!("xmlns:{prefix}") };
                self.attrs.insert(0, (key, escape_attr(source.unwrap_or(""))));
            }
        }
    }

    fn write(&self, out: &mut String) {
        out.push('<');
        out.push_str(&self.name);
        for (k, v) in &self.attrs {
            let quote = if v.contains('"') { '\'' } else { '"' };
            out.push(' ');
            out.push_str(k);
            out.push('=');
            out.push(quote);
            out.push_str(v);
            out.push(quote);
        }
        if self.children.is_empty() && self.empty_tag {
            out.push_str("/>");
            return;
        }
        out.push('>');
        for child in &self.children {
            match child {
                Node::Element(e) => e.write(out),
                Node::Text(raw) => out.push_str(raw),
                Node::Comment(c) => {
                    out.push_str("<!--");
                    out.push_str(c);
                    out.push_str("-->");
                }
                Node::CData(c) => {
                    out.push_str("<![CDATA[");
                    out.push_str(c);
                    out.push_str("]]>");
                }
                Node::Pi(p) => {
                    out.push_str("<?");
                    out.push_str(p);
                    out.push_str("?>");
                }
            }
        }
        out.push_str("</");
        out.push_str(&self.name);
        out.push('>');
    }

    /// The element as XML text.
    pub(crate) fn to_xml(&self) -> String {
        let mut out = String::new();
        self.write(&mut out);
        out
    }
}

/// The namespace bindings in scope at some place of a document (`""` is the default namespace).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Scope(HashMap<String, String>);

impl Scope {
    fn get(&self, prefix: &str) -> Option<&str> {
        self.0.get(prefix).map(String::as_str).filter(|uri| !uri.is_empty())
    }

    /// The scope inside `element`, given the scope around it.
    pub(crate) fn inside(&self, element: &Element) -> Scope {
        let mut scope = self.clone();
        for (prefix, uri) in element.declarations() {
            scope.0.insert(prefix.to_owned(), uri);
        }
        scope
    }
}

impl Document {
    /// Reads `xml`: well-formedness, matching end tags, no duplicate attribute, every prefix bound.
    pub(crate) fn parse(xml: &str) -> Result<Document, SamlIdpError> {
        let bad = |what: String| SamlIdpError::Xml(what);
        let mut reader = quick_xml::Reader::from_str(xml);
        reader.config_mut().check_end_names = true;
        let mut prolog = String::new();
        let mut epilog = String::new();
        let mut stack: Vec<(Element, Scope)> = Vec::new();
        let mut root: Option<Element> = None;
        let base = Scope::default();
        loop {
            let event = reader.read_event().map_err(|e| bad(e.to_string()))?;
            let outside = stack.is_empty();
            // Markup outside the root goes to the prolog or the epilog, raw.
            let misc = if root.is_none() { &mut prolog } else { &mut epilog };
            match event {
                Event::Start(start) | Event::Empty(start) if root.is_some() && outside => {
                    let _ = start;
                    return Err(bad("more than one root element".into()));
                }
                Event::Start(start) => {
                    let scope = stack.last().map(|(_, s)| s.clone()).unwrap_or_else(|| base.clone());
                    let (element, scope) = open(&start, &scope)?;
                    stack.push((element, scope));
                }
                Event::Empty(start) => {
                    let scope = stack.last().map(|(_, s)| s.clone()).unwrap_or_else(|| base.clone());
                    let (element, _) = open(&start, &scope)?;
                    match stack.last_mut() {
                        Some((parent, _)) => parent.children.push(Node::Element(element)),
                        None => root = Some(element),
                    }
                }
                Event::End(_) => {
                    let Some((mut element, _)) = stack.pop() else {
                        return Err(bad("unexpected end tag".into()));
                    };
                    element.empty_tag = false;
                    match stack.last_mut() {
                        Some((parent, _)) => parent.children.push(Node::Element(element)),
                        None => root = Some(element),
                    }
                }
                Event::Text(text) => {
                    let raw = String::from_utf8_lossy(&text.into_inner()).into_owned();
                    match stack.last_mut() {
                        Some((parent, _)) => push_text(parent, &raw),
                        None if raw.trim().is_empty() => misc.push_str(&raw),
                        None => return Err(bad("text outside the root element".into())),
                    }
                }
                Event::GeneralRef(reference) => {
                    let raw = format!("&{};", String::from_utf8_lossy(&reference.into_inner()));
                    match stack.last_mut() {
                        Some((parent, _)) => push_text(parent, &raw),
                        None => return Err(bad("reference outside the root element".into())),
                    }
                }
                Event::CData(data) => {
                    let data = String::from_utf8_lossy(&data.into_inner()).into_owned();
                    match stack.last_mut() {
                        Some((parent, _)) => parent.children.push(Node::CData(data)),
                        None => return Err(bad("CDATA outside the root element".into())),
                    }
                }
                Event::Comment(comment) => {
                    let comment = String::from_utf8_lossy(&comment.into_inner()).into_owned();
                    match stack.last_mut() {
                        Some((parent, _)) => parent.children.push(Node::Comment(comment)),
                        None => misc.push_str(&format!("<!--{comment}-->")),
                    }
                }
                Event::PI(pi) => {
                    let pi = String::from_utf8_lossy(&pi.into_inner()).into_owned();
                    match stack.last_mut() {
                        Some((parent, _)) => parent.children.push(Node::Pi(pi)),
                        None => misc.push_str(&format!("<?{pi}?>")),
                    }
                }
                Event::Decl(decl) => {
                    misc.push_str(&format!("<?{}?>", String::from_utf8_lossy(&decl)));
                }
                Event::DocType(doctype) => {
                    misc.push_str(&format!("<!DOCTYPE {}>", String::from_utf8_lossy(&doctype.into_inner())));
                }
                Event::Eof => break,
            }
        }
        if !stack.is_empty() {
            return Err(bad("unclosed element".into()));
        }
        let root = root.ok_or_else(|| bad("no root element".into()))?;
        Ok(Document { prolog, root, epilog })
    }

    /// The document as XML text.
    pub(crate) fn to_xml(&self) -> String {
        let mut out = self.prolog.clone();
        self.root.write(&mut out);
        out.push_str(&self.epilog);
        out
    }

    /// The scope in force inside the root element.
    pub(crate) fn root_scope(&self) -> Scope {
        Scope::default().inside(&self.root)
    }
}

fn push_text(parent: &mut Element, raw: &str) {
    if let Some(Node::Text(last)) = parent.children.last_mut() {
        last.push_str(raw);
    } else {
        parent.children.push(Node::Text(raw.to_owned()));
    }
}

/// An element from its start tag, and the scope inside it.
fn open(start: &BytesStart<'_>, around: &Scope) -> Result<(Element, Scope), SamlIdpError> {
    let name = String::from_utf8_lossy(start.name().as_ref()).into_owned();
    let mut attrs = Vec::new();
    for attr in start.attributes().with_checks(true) {
        let attr = attr.map_err(|e| SamlIdpError::Xml(e.to_string()))?;
        let key = String::from_utf8_lossy(attr.key.as_ref()).into_owned();
        let value = String::from_utf8_lossy(&attr.value).into_owned();
        attrs.push((key, value));
    }
    let mut element = Element { name, ns: None, attrs, children: Vec::new(), empty_tag: true };
    let scope = around.inside(&element);
    let prefix = element.prefix().unwrap_or("");
    element.ns = match prefix {
        "xml" => Some(XML_NS.to_owned()),
        _ => match scope.get(prefix) {
            Some(uri) => Some(uri.to_owned()),
            None if prefix.is_empty() => None,
            None => return Err(SamlIdpError::Xml(format!("unbound prefix {prefix}"))),
        },
    };
    Ok((element, scope))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_round_trips_byte_for_byte() {
        let xml = r#"<?xml version="1.0"?>
<a:r xmlns:a="urn:a" x="1&amp;2"><a:b>t&lt;&#65;</a:b><c/><d></d><!-- c --><![CDATA[<z>]]></a:r>
"#;
        let doc = Document::parse(xml).expect("parses");
        assert_eq!(doc.to_xml(), xml);
        assert_eq!(doc.root.ns.as_deref(), Some("urn:a"));
        assert_eq!(doc.root.attr("x").as_deref(), Some("1&2"));
        assert_eq!(doc.root.child("urn:a", "b").map(Element::text).as_deref(), Some("t<A"));
    }

    #[test]
    fn malformed_input_is_refused() {
        for xml in ["<a><b></a>", "<p:a/>", "<a x='1' x='2'/>", "<a/><b/>", "", "<a>"] {
            assert!(Document::parse(xml).is_err(), "{xml}");
        }
    }

    #[test]
    fn a_moved_element_keeps_its_namespaces() {
        let doc = Document::parse(r#"<r xmlns="urn:r"><x><y/></x><s xmlns="urn:s"/></r>"#).expect("parses");
        let mut x = doc.root.child("urn:r", "x").cloned().expect("x");
        let from = doc.root_scope();
        let s = doc.root.child("urn:s", "s").expect("s");
        x.keep_namespaces(&from, &from.inside(s));
        assert_eq!(x.to_xml(), r#"<x xmlns="urn:r"><y/></x>"#);
    }
}
