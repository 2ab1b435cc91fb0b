//! Free text as every use case accepts it: trimmed, blank meaning absent, and bounded.

use skinledger_domain::ValidationErrors;

/// Longest free text accepted in notes, addenda and reasons.
pub(crate) const MAX_TEXT_LEN: usize = 10_000;

/// Free text trimmed to `None` when blank, refused beyond `max` characters.
pub(crate) fn optional_text(
    errors: &mut ValidationErrors,
    field: &str,
    value: Option<&str>,
    max: usize,
) -> Option<String> {
    let value = value.map(str::trim).filter(|v| !v.is_empty())?;
    if value.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
        return None;
    }
    Some(value.to_owned())
}

/// Free text that must be there: trimmed, 1 to `max` characters.
pub(crate) fn required_text(
    errors: &mut ValidationErrors,
    field: &str,
    value: &str,
    max: usize,
) -> Option<String> {
    let text = optional_text(errors, field, Some(value), max);
    if text.is_none() && value.trim().is_empty() {
        errors.add(field, "must not be empty");
    }
    text
}
