//! JSON documents read with precise errors: 400 for what is not JSON, 422 naming every wrong
//! field. REST bodies and the JSON that gRPC messages carry (the policy document) alike.

use serde::de::DeserializeOwned;
use skinledger_app::Error;
use skinledger_domain::ValidationErrors;

use crate::error::ApiError;

/// Most fields one answer names; a document with more wrong fields is refused with these.
const MAX_FIELD_ERRORS: usize = 32;

/// Values put in place of a missing field so that the rest of its object is read: one of them
/// fits most field types (yes/no, number, text, id, date, list, object).
const STAND_INS: [&str; 7] = [
    "false",
    "0",
    "\"00000000-0000-0000-0000-000000000000\"",
    "\"2000-01-01\"",
    "[]",
    "{}",
    "null",
];

/// Parses JSON, telling malformed documents (400) from wrong values (422). A 422 names every
/// wrong field at once: after each refusal a wrong field is set aside (a top-level one removed,
/// a missing one filled with a stand-in) and the rest read again, so that every missing answer
/// of a nested questionnaire is named too.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError(Error::BadRequest(format!("malformed JSON: {e}"))))?;
    // An array or a scalar is never a body here (serde would read an array as a struct's
    // fields in order, so `[]` could stand for "every field default").
    if !value.is_object() {
        return Err(Error::invalid("body", "must be a JSON object").into());
    }
    let mut errors = ValidationErrors::new();
    let mut set_aside: Vec<String> = Vec::new();
    // The missing field being filled, and the stand-in tried last.
    let mut filling: Option<(Refused, usize)> = None;
    for _ in 0..MAX_FIELD_ERRORS * STAND_INS.len() {
        let err = match serde_path_to_error::deserialize::<_, T>(&value) {
            Ok(parsed) if errors.is_empty() => return Ok(parsed),
            Ok(_) => break,
            Err(err) => err,
        };
        let refused = Refused::of(&err);
        // A stand-in that does not fit its field: the next one.
        if let Some((missing, tried)) = filling.take()
            && (refused.field == missing.field
                || refused.field.starts_with(&format!("{}.", missing.field)))
        {
            if missing.fill(&mut value, tried + 1) {
                filling = Some((missing, tried + 1));
                continue;
            }
            break;
        }
        if refused.missing.is_some() {
            let again = set_aside.contains(&refused.field);
            if !again {
                errors.add(refused.field.clone(), refused.message.clone());
                if errors.0.len() >= MAX_FIELD_ERRORS {
                    break;
                }
            }
            if !refused.fill(&mut value, 0) {
                break;
            }
            filling = Some((refused, 0));
            continue;
        }
        if set_aside.contains(&refused.top) {
            break;
        }
        errors.add(refused.field, refused.message);
        let removed = value
            .as_object_mut()
            .and_then(|object| object.remove(&refused.top))
            .is_some();
        if !removed || errors.0.len() >= MAX_FIELD_ERRORS {
            break;
        }
        set_aside.push(refused.top);
    }
    Err(Error::Invalid(errors).into())
}

/// One refused value, as serde saw it.
struct Refused {
    /// The field, as answered: `passes`, `answers.pregnant`, `consumables[0].lot_id`.
    field: String,
    /// The top-level member it is in.
    top: String,
    /// For a missing field: the path of the object it is missing from, and its name.
    missing: Option<(Vec<PathStep>, String)>,
    /// What serde said, without its position.
    message: String,
}

/// One step into a JSON document.
enum PathStep {
    Key(String),
    Index(usize),
}

impl Refused {
    fn of(err: &serde_path_to_error::Error<serde_json::Error>) -> Self {
        let message = err.inner().to_string();
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_owned();
        let steps: Vec<PathStep> = err
            .path()
            .iter()
            .filter_map(|segment| match segment {
                serde_path_to_error::Segment::Map { key } => Some(PathStep::Key(key.clone())),
                serde_path_to_error::Segment::Seq { index } => Some(PathStep::Index(*index)),
                _ => None,
            })
            .collect();
        let path = err.path().to_string();
        // For an unknown field the path already ends with its name; for a missing one it names
        // the object the field is missing from.
        let missing = named_field(&message, "missing field `");
        let unknown = named_field(&message, "unknown field `");
        let field = match (path.as_str(), &missing, unknown) {
            (".", Some(name), _) => name.clone(),
            (".", None, Some(name)) => name,
            (_, Some(name), _) => format!("{path}.{name}"),
            (".", None, None) => "body".into(),
            _ => path,
        };
        let top = field
            .split(['.', '['])
            .next()
            .unwrap_or_default()
            .to_owned();
        Self {
            field,
            top,
            missing: missing.map(|name| (steps, name)),
            message,
        }
    }

    /// Puts stand-in `which` in place of the missing field; `false` when there is no object to
    /// put it in.
    fn fill(&self, value: &mut serde_json::Value, which: usize) -> bool {
        let (Some((steps, name)), Some(raw)) = (&self.missing, STAND_INS.get(which)) else {
            return false;
        };
        let mut at = value;
        for step in steps {
            let next = match step {
                PathStep::Key(key) => at.get_mut(key.as_str()),
                PathStep::Index(index) => at.get_mut(*index),
            };
            let Some(next) = next else {
                return false;
            };
            at = next;
        }
        let (Some(object), Ok(stand_in)) = (at.as_object_mut(), serde_json::from_str(raw)) else {
            return false;
        };
        object.insert(name.clone(), stand_in);
        true
    }
}

/// The field named in a serde message starting with `prefix` (`unknown field \``).
fn named_field(message: &str, prefix: &str) -> Option<String> {
    let rest = message.strip_prefix(prefix)?;
    Some(rest.split('`').next()?.to_owned())
}
