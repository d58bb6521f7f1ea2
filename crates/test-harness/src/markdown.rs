//! The fenced code blocks of a Markdown document, with their info string
//! (```` ```sh guide-test:first-sync ````: language `sh`, tag
//! `guide-test:first-sync`). Renderers use only the first word, so the
//! tag marks a block for a test without showing. Pure.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBlock {
    pub language: String,
    /// The words after the language.
    pub tags: Vec<String>,
    pub body: String,
    /// 1-based line of the opening fence.
    pub line: usize,
}

impl CodeBlock {
    /// The value of a `prefix:value` tag, e.g. `name_tag("guide-test")`.
    pub fn tag_value(&self, prefix: &str) -> Option<&str> {
        self.tags
            .iter()
            .find_map(|t| t.strip_prefix(prefix)?.strip_prefix(':'))
    }
}

/// Every block fenced with three or more backticks, in order.
pub fn code_blocks(markdown: &str) -> Vec<CodeBlock> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, CodeBlock)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        let fence: String = trimmed.chars().take_while(|c| *c == '`').collect();
        match open.take() {
            None if fence.len() >= 3 => {
                let mut words = trimmed[fence.len()..].split_whitespace().map(str::to_owned);
                let block = CodeBlock {
                    language: words.next().unwrap_or_default(),
                    tags: words.collect(),
                    body: String::new(),
                    line: index + 1,
                };
                open = Some((fence, block));
            }
            None => {}
            Some((opening, block)) if fence.len() >= opening.len() && trimmed.trim() == fence => {
                blocks.push(block);
            }
            Some((opening, mut block)) => {
                block.body.push_str(line);
                block.body.push('\n');
                open = Some((opening, block));
            }
        }
    }
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_keep_their_language_tags_and_body() {
        let doc = "Intro\n\n```sh guide-test:status\ncurl -s \"$SITE/api/sync-status\"\n```\n\n````md\n```inner```\n````\n";
        let blocks = code_blocks(doc);
        assert_eq!(blocks.len(), 2);
        assert_eq!(blocks[0].language, "sh");
        assert_eq!(blocks[0].tag_value("guide-test"), Some("status"));
        assert_eq!(blocks[0].body, "curl -s \"$SITE/api/sync-status\"\n");
        assert_eq!(blocks[0].line, 3);
        assert_eq!(blocks[1].body, "```inner```\n");
        assert_eq!(blocks[1].tag_value("guide-test"), None);
    }
}
