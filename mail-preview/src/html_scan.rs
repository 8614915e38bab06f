//! Just enough HTML scanning for the checks: start tags and their attributes. The checked HTML is
//! our own templates' output, so a full parser would add weight without catching more.

/// A start tag: lowercase name and its attributes (names lowercase, values unescaped of quotes only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub attributes: Vec<(String, Option<String>)>,
}

impl Tag {
    pub fn attr(&self, name: &str) -> Option<Option<&str>> {
        self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_deref())
    }
}

/// Every start tag in document order (comments, doctype and end tags skipped).
pub fn start_tags(html: &str) -> Vec<Tag> {
    let mut tags = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        if let Some(after) = rest.strip_prefix("!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let name_len = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
        if name_len == 0 {
            continue; // `</x>`, `<!DOCTYPE>`, or a stray `<` in text
        }
        let name = rest[..name_len].to_ascii_lowercase();
        let (attributes, consumed) = parse_attributes(&rest[name_len..]);
        tags.push(Tag { name, attributes });
        rest = &rest[name_len + consumed..];
    }
    tags
}

fn parse_attributes(s: &str) -> (Vec<(String, Option<String>)>, usize) {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut out = Vec::new();
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] == b'>' {
            return (out, (i + 1).min(bytes.len()));
        }
        let start = i;
        while i < bytes.len() && !bytes[i].is_ascii_whitespace() && !matches!(bytes[i], b'=' | b'>' | b'/') {
            i += 1;
        }
        let name = s[start..i].to_ascii_lowercase();
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            let value = if i < bytes.len() && (bytes[i] == b'"' || bytes[i] == b'\'') {
                let quote = bytes[i];
                let begin = i + 1;
                let end = s[begin..].find(quote as char).map_or(s.len(), |e| begin + e);
                i = (end + 1).min(bytes.len());
                &s[begin..end]
            } else {
                let begin = i;
                while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                    i += 1;
                }
                &s[begin..i]
            };
            out.push((name, Some(value.to_string())));
        } else {
            out.push((name, None));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_and_attributes_are_found() {
        let tags = start_tags(
            r#"<!DOCTYPE html><!-- <img> --><TABLE role="presentation" width=600><tr><td><a href='https://x.example/?a=1&amp;b=2' target="_blank">x</a><img src="a.png" alt></td></tr></TABLE>"#,
        );
        let names: Vec<&str> = tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["table", "tr", "td", "a", "img"]);
        assert_eq!(tags[0].attr("role"), Some(Some("presentation")));
        assert_eq!(tags[0].attr("width"), Some(Some("600")));
        assert_eq!(tags[3].attr("href"), Some(Some("https://x.example/?a=1&amp;b=2")));
        assert_eq!(tags[4].attr("alt"), Some(None));
        assert_eq!(tags[4].attr("title"), None);
    }
}
