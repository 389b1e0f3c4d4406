//! The one line diff of an op's code between two versions: the version diff page draws it,
//! and `slipstream diff` prints it as a unified diff (through `slipstream._native.code_diff`).

use similar::TextDiff;
use slipstream_core::records::OpSpec;

/// Lines of context kept around each change.
pub const CONTEXT: usize = 3;

/// The code of an op that a diff compares: its captured module when it has one (the function
/// and the helpers it uses), else its own source.
pub fn op_code(op: &OpSpec) -> &str {
    op.function
        .module_source
        .as_deref()
        .unwrap_or(&op.function.source)
}

/// Code as the diff compares it: its lines that are not blank, each ending in a newline. A
/// captured module keeps each definition at its line with blank lines in between, which
/// would drown the change.
pub fn diffed(code: &str) -> String {
    code.lines()
        .filter(|line| !line.trim().is_empty())
        .flat_map(|line| [line, "\n"])
        .collect()
}

/// The line diff from `old` to `new`, both [`diffed`] first; its hunks are
/// `grouped_ops(CONTEXT)`.
pub fn line_diff<'a>(old: &'a str, new: &'a str) -> TextDiff<'a, 'a, 'a, str> {
    TextDiff::from_lines(old, new)
}

/// The diff of `old` and `new` (blank lines left out: [`diffed`]) as text in the unified
/// format: `--- from`, `+++ to`, then each hunk under its `@@ -l,n +l,n @@` line (line
/// numbers among the lines compared). Empty when they are the same but for blank lines.
pub fn unified(old: &str, new: &str, from: &str, to: &str) -> String {
    let (old, new) = (diffed(old), diffed(new));
    line_diff(&old, &new)
        .unified_diff()
        .context_radius(CONTEXT)
        .missing_newline_hint(false)
        .header(from, to)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_unified_diff_with_headers_and_nothing_for_the_same_code() {
        let old = "def f(x):\n    return x\n";
        let new = "\n\ndef f(x):\n\n    return x + 1";
        assert_eq!(
            unified(old, new, "f (v1)", "f (v2)"),
            "--- f (v1)\n+++ f (v2)\n@@ -1,2 +1,2 @@\n def f(x):\n-    return x\n+    return x + 1\n"
        );
        assert_eq!(unified(old, "\ndef f(x):\n  \n    return x", "a", "b"), "");
    }
}
