//! Config text turned into SQL text: comments, LIKE patterns and regexes.

/// A glob with only `*` and `?` as a LIKE pattern (escape `\`); None when it has a `[...]`
/// class, which LIKE cannot say.
/// Config text (a rule or pool id, a tag key) made safe for a `--` comment: a line break
/// would end the comment and let the rest of the text run as SQL.
pub(super) fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

pub(super) fn glob_to_like(glob: &str) -> Option<String> {
    if glob.contains('[') {
        return None;
    }
    let mut out = String::new();
    for c in glob.chars() {
        match c {
            '*' => out.push('%'),
            '?' => out.push('_'),
            '%' | '_' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    Some(out)
}

/// A glob (`*`, `?`, `[...]`, `[!...]`) as an anchored regex that RE2 and Java both read.
pub(super) fn glob_to_regex(glob: &str) -> String {
    let mut out = String::from("^(?s)");
    let chars: Vec<char> = glob.chars().collect();
    let mut i = 0;
    let escape = |c: char, out: &mut String| {
        if c.is_ascii_punctuation() {
            out.push('\\');
        }
        out.push(c);
    };
    while i < chars.len() {
        match chars[i] {
            '*' => out.push_str(".*"),
            '?' => out.push('.'),
            '[' => {
                // glob::Pattern validated the class: it is closed, `!` negates, and a `]`
                // right after the opening (or the `!`) is a literal
                let mut j = i + 1;
                out.push('[');
                if chars.get(j) == Some(&'!') {
                    out.push('^');
                    j += 1;
                }
                let start = j;
                while j < chars.len() && (chars[j] != ']' || j == start) {
                    let c = chars[j];
                    if c == '-' && j != start && chars.get(j + 1) != Some(&']') {
                        out.push('-');
                    } else {
                        escape(c, &mut out);
                    }
                    j += 1;
                }
                out.push(']');
                i = j;
            }
            c => escape(c, &mut out),
        }
        i += 1;
    }
    out.push('$');
    out
}
