//! Escaping of untrusted text (tag values, model ids, file names, cell values) for the medium
//! it is written to: a terminal, Markdown, HTML, or a CSV a spreadsheet will open. Every
//! value that came from an input goes through one of these before it is printed or written
//! outside a Parquet table. Long values are shortened only where a person reads them
//! (summaries, messages); the tables keep them whole.

/// Longest value a summary line shows before it is shortened.
pub const SUMMARY_WIDTH: usize = 80;

/// `s` for a terminal: control characters (ESC, BEL, CR, LF, DEL, C1 controls, bidi
/// overrides) are written as `\u{..}` escapes so no input can move the cursor, change the
/// title or colours, or hide text; then shortened to `max` characters.
pub fn terminal(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max + 8));
    for c in s.chars() {
        if is_unsafe(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    shorten(&out, max)
}

/// Whole text (possibly many lines) about to be printed: every control character but line
/// breaks and tabs is escaped, the last defence for values no formatter escaped. JSON,
/// HTML and Markdown written by mlcost carry no raw control characters, so they pass as they are.
pub fn terminal_text(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(|c| c != '\n' && c != '\t' && is_unsafe(c)) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if c != '\n' && c != '\t' && is_unsafe(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Control characters and the invisible formatting characters that reorder text.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// At most `max` characters: the start, `…`, and how many characters were left out.
pub fn shorten(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(1).max(1);
    let head: String = s.chars().take(keep).collect();
    format!("{head}… ({} more characters)", n - keep)
}

/// `s` as HTML text or attribute content.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_unsafe(c) => out.push_str(&format!("&#x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// `s` inside a Markdown table cell: HTML is escaped (Markdown renderers pass raw HTML
/// through), `|` cannot end the cell, a line break cannot end the row, and the characters
/// that open emphasis, links and code are escaped; `_` only where it can open or close
/// emphasis (`__unallocated__`), not inside a word (`cost_center`), where GitHub and
/// CommonMark do not read it as emphasis.
pub fn markdown_cell(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    for (i, &c) in chars.iter().enumerate() {
        let word = |j: Option<usize>| {
            j.and_then(|j| chars.get(j))
                .is_some_and(|c| c.is_alphanumeric())
        };
        match c {
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            '_' if !(word(i.checked_sub(1)) && word(Some(i + 1))) => out.push_str("\\_"),
            '\\' | '`' | '*' | '[' | ']' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if is_unsafe(c) => out.push_str(&format!("&#x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Prose of a Markdown document that may carry values from inputs (titles, notes): raw HTML
/// is escaped, Markdown itself is kept.
pub fn markdown_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c if c != '\n' && is_unsafe(c) => out.push_str(&format!("&#x{:x};", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A CSV cell a spreadsheet will not run as a formula: text starting with `=`, `+`, `-`, `@`,
/// a tab or a carriage return gets a leading `'` (the OWASP rule), unless it is a plain
/// number such as `-12.5`, which is left as it is. Quoting for CSV itself is the `csv`
/// crate's job.
pub fn spreadsheet_cell(s: &str) -> std::borrow::Cow<'_, str> {
    let risky = s.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && crate::money::Money::parse(s).is_err() {
        std::borrow::Cow::Owned(format!("'{s}"))
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_controls_and_shortens() {
        assert_eq!(
            terminal("a\u{1b}]0;pwned\u{7}b", 80),
            "a\\u{1b}]0;pwned\\u{7}b"
        );
        assert_eq!(terminal("x\ny", 80), "x\\u{a}y");
        assert_eq!(terminal("\u{202e}evil", 80), "\\u{202e}evil");
        let long = "m".repeat(1_000_000);
        let short = terminal(&long, 80);
        assert!(short.chars().count() < 120, "{}", short.len());
        assert!(short.ends_with("(999921 more characters)"), "{short}");
        assert_eq!(terminal("ranker-v2", 80), "ranker-v2");
    }

    #[test]
    fn html_and_markdown_cannot_inject() {
        assert_eq!(html("<script>x</script>"), "&lt;script&gt;x&lt;/script&gt;");
        assert_eq!(html("a\"b'c&"), "a&quot;b&#39;c&amp;");
        assert_eq!(markdown_cell("a|b\nc"), "a\\|b c");
        assert_eq!(
            markdown_cell("<img src=x onerror=alert(1)>"),
            "&lt;img src=x onerror=alert(1)&gt;"
        );
        assert_eq!(markdown_cell("[x](javascript:y)"), "\\[x\\](javascript:y)");
        assert_eq!(markdown_cell("__unallocated__"), "\\_\\_unallocated\\_\\_");
        assert_eq!(markdown_cell("missing:cost_center"), "missing:cost_center");
    }

    #[test]
    fn spreadsheet_formulas_are_defused_numbers_kept() {
        assert_eq!(spreadsheet_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(
            spreadsheet_cell("+cmd|' /C calc'!A0"),
            "'+cmd|' /C calc'!A0"
        );
        assert_eq!(spreadsheet_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_cell("-2+3"), "'-2+3");
        assert_eq!(spreadsheet_cell("\tx"), "'\tx");
        assert_eq!(spreadsheet_cell("-12.5"), "-12.5");
        assert_eq!(spreadsheet_cell("+3e2"), "+3e2");
        assert_eq!(spreadsheet_cell("ranker"), "ranker");
    }
}
