//! The sentences a Rust source file can show a person, found in its string
//! literals, and whether a document (the setup guide) quotes each of them.
//! Pure: text in, text out.
//!
//! A message is a string literal of three words or more outside the file's
//! `#[cfg(test)]` part (`"The token works (integration \"{}\")."`).
//! Placeholders (`{}`, `{name}`, `{v:?}`) stand for values the guide cannot
//! know, so a message is quoted when every run of three words or more
//! between them appears in the document, whatever it shows for the values.

/// Calls whose message only a developer sees (a broken invariant).
const DEVELOPER_ONLY: [&str; 4] = ["expect(", "panic!(", "unreachable!(", "assert!("];

/// The message templates of `source`, in order, deduplicated.
pub fn message_templates(source: &str) -> Vec<String> {
    let code = source.split("#[cfg(test)]").next().unwrap_or(source);
    let mut templates: Vec<String> = Vec::new();
    for (start, literal) in located_string_literals(code) {
        let before: String = code.chars().take(start).collect();
        let before = before.trim_end();
        let for_developers = DEVELOPER_ONLY.iter().any(|call| before.ends_with(call));
        if !for_developers && word_count(&literal) >= 3 && !templates.contains(&literal) {
            templates.push(literal);
        }
    }
    templates
}

/// The fixed parts of `template` a quotation must contain: the text between
/// placeholders, whitespace collapsed, keeping the parts of three words or
/// more (shorter ones are glue such as `' to `).
pub fn fragments(template: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                parts.last_mut().expect("one part").push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                parts.last_mut().expect("one part").push('}');
            }
            '{' => {
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
                parts.push(String::new());
            }
            c => parts.last_mut().expect("one part").push(c),
        }
    }
    parts
        .iter()
        .map(|p| normalize(p))
        .filter(|p| word_count(p) >= 3)
        .collect()
}

/// The fragments of `template` missing from `document` (normalized).
pub fn missing_fragments(template: &str, document: &str) -> Vec<String> {
    let document = normalize_document(document);
    fragments(template)
        .into_iter()
        .filter(|f| !document.contains(f.as_str()))
        .collect()
}

/// Markdown as plain running text: blockquote markers dropped, whitespace
/// collapsed, so a message may be wrapped or quoted over several lines.
pub fn normalize_document(markdown: &str) -> String {
    let lines: Vec<&str> = markdown
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            trimmed.strip_prefix('>').unwrap_or(trimmed)
        })
        .collect();
    normalize(&lines.join(" "))
}

fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn word_count(text: &str) -> usize {
    text.split_whitespace()
        .filter(|w| w.chars().any(char::is_alphabetic))
        .count()
}

/// The values of the string literals in Rust `code` (escapes resolved;
/// comments, char literals and lifetimes skipped).
pub fn string_literals(code: &str) -> Vec<String> {
    located_string_literals(code)
        .into_iter()
        .map(|(_, literal)| literal)
        .collect()
}

/// [`string_literals`] with the char index where each begins.
fn located_string_literals(code: &str) -> Vec<(usize, String)> {
    let chars: Vec<char> = code.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1).copied()) {
            ('/', Some('/')) => i = skip_until(&chars, i, "\n"),
            ('/', Some('*')) => i = skip_until(&chars, i + 2, "*/"),
            ('\'', _) => i = skip_char_literal(&chars, i),
            ('r', Some('"' | '#')) if !is_ident(chars.get(i.wrapping_sub(1))) => {
                let (literal, next) = raw_literal(&chars, i + 1);
                out.extend(literal.map(|l| (i, l)));
                i = next;
            }
            ('"', _) => {
                let (literal, next) = quoted_literal(&chars, i + 1);
                out.push((i, literal));
                i = next;
            }
            _ => i += 1,
        }
    }
    out
}

fn is_ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// The index just after `end` (or the end of input), searching from `from`.
fn skip_until(chars: &[char], from: usize, end: &str) -> usize {
    let end: Vec<char> = end.chars().collect();
    (from..chars.len())
        .find(|&j| chars[j..].starts_with(&end))
        .map_or(chars.len(), |j| j + end.len())
}

/// `'x'`, `'\n'`, `'"'` are skipped whole; a lifetime `'a` only its quote.
fn skip_char_literal(chars: &[char], at: usize) -> usize {
    match (chars.get(at + 1), chars.get(at + 2)) {
        (Some('\\'), _) => skip_until(chars, at + 3, "'"),
        (Some(_), Some('\'')) => at + 3,
        _ => at + 1,
    }
}

/// A `"..."` literal starting after its opening quote.
fn quoted_literal(chars: &[char], mut i: usize) -> (String, usize) {
    let mut value = String::new();
    while i < chars.len() {
        match chars[i] {
            '"' => return (value, i + 1),
            '\\' => {
                i += 1;
                match chars.get(i) {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some('\n') => {
                        // A line continuation: the newline and the next
                        // line's leading whitespace are dropped.
                        while chars.get(i + 1).is_some_and(|c| c.is_whitespace()) {
                            i += 1;
                        }
                    }
                    Some(c) => value.push(*c),
                    None => {}
                }
                i += 1;
            }
            c => {
                value.push(c);
                i += 1;
            }
        }
    }
    (value, i)
}

/// A raw literal `r#"..."#` starting after the `r`; `None` when the `r`
/// began something else (`r#ident`).
fn raw_literal(chars: &[char], mut i: usize) -> (Option<String>, usize) {
    let hashes = chars[i..].iter().take_while(|c| **c == '#').count();
    i += hashes;
    if chars.get(i) != Some(&'"') {
        return (None, i);
    }
    let close: String = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    let end = skip_until(chars, i + 1, &close);
    let body_end = end.saturating_sub(close.chars().count()).max(i + 1);
    (Some(chars[i + 1..body_end].iter().collect()), end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_with_escapes_continuations_and_raw_strings() {
        let code = r##"
            // "a comment with three words"
            let c = '"'; fn f<'a>(x: &'a str) {}
            format!("The token works (integration \"{}\").", name);
            let s = "Notion rejected the token. Copy it \
                     again from notion.so.";
            let r = r#"a "raw" string here"#;
        "##;
        assert_eq!(
            string_literals(code),
            [
                "The token works (integration \"{}\").",
                "Notion rejected the token. Copy it again from notion.so.",
                "a \"raw\" string here",
            ]
        );
    }

    #[test]
    fn messages_are_sentences_outside_the_tests() {
        let code = r#"
            Step { name: "token", message: "Read {} contact(s) from Notion.".into() }
            let url = Url::parse(DEFAULT).expect("DEFAULT is a valid URL");
            #[cfg(test)]
            mod tests { const X: &str = "only in a test here"; }
        "#;
        assert_eq!(message_templates(code), ["Read {} contact(s) from Notion."]);
    }

    #[test]
    fn fragments_are_the_runs_between_placeholders() {
        assert_eq!(
            fragments("Change the type of '{name}' to {} (it is {} now){}"),
            ["Change the type of '"]
        );
        assert_eq!(
            fragments("must be a JSON object such as {{\"phone\": \"Mobile\"}}: {e}"),
            ["must be a JSON object such as {\"phone\": \"Mobile\"}:"]
        );
    }

    #[test]
    fn a_quotation_may_wrap_and_show_any_values() {
        let guide = "> **\"Read 3 contact(s)\n> from Notion.\"** All good.";
        assert!(missing_fragments("Read {} contact(s) from Notion.", guide).is_empty());
        assert_eq!(
            missing_fragments("The database \"{}\" is shared with the integration.", guide),
            ["\" is shared with the integration."]
        );
    }
}
