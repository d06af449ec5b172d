//! Reading and writing Kubernetes objects as multi-document YAML.
//!
//! Objects are held as `serde_json::Value` because the shard transform edits Flux's own
//! objects field by field and must carry every field it does not know through unchanged.

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

/// Why a manifest could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestError {
    /// A document is not valid YAML; `document` counts from 1, empty documents included.
    Yaml {
        /// Position of the document in the text, from 1.
        document: usize,
        /// The YAML parser's message, with line and column.
        message: String,
    },
    /// A document parsed but is not a mapping, so it cannot be a Kubernetes object.
    NotAnObject {
        /// Position of the document in the text, from 1.
        document: usize,
    },
    /// An object could not be written as YAML.
    Serialize {
        /// The serialiser's message.
        message: String,
    },
}

impl fmt::Display for ManifestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Yaml { document, message } => write!(f, "YAML document {document} is invalid: {message}"),
            Self::NotAnObject { document } => {
                write!(f, "YAML document {document} is not a mapping, so not a Kubernetes object")
            }
            Self::Serialize { message } => write!(f, "cannot write object as YAML: {message}"),
        }
    }
}

impl std::error::Error for ManifestError {}

/// Parses a multi-document YAML text into its objects, skipping empty documents.
pub fn parse_documents(text: &str) -> Result<Vec<Value>, ManifestError> {
    let mut objects = Vec::new();
    for (index, doc) in serde_norway::Deserializer::from_str(text).enumerate() {
        let document = index + 1;
        // Stop at the first error: the YAML document iterator repeats a parse error forever.
        let value =
            Value::deserialize(doc).map_err(|e| ManifestError::Yaml { document, message: e.to_string() })?;
        match value {
            // A document holding only comments or nothing between two `---` separators.
            Value::Null => {}
            Value::Object(_) => objects.push(value),
            _ => return Err(ManifestError::NotAnObject { document }),
        }
    }
    Ok(objects)
}

/// Writes one object as a YAML document (no leading `---`), keys sorted as `kubectl` prints them.
pub fn to_yaml(object: &Value) -> Result<String, ManifestError> {
    if has_yaml11_ambiguous_string(object) {
        // Kubernetes reads YAML 1.1, where a bare `yes` or `off` is a boolean, but serde_norway
        // (YAML 1.2) writes such strings unquoted; JSON is valid YAML and leaves no doubt.
        return serde_json::to_string_pretty(&sorted(object))
            .map(|s| s + "\n")
            .map_err(|e| ManifestError::Serialize { message: e.to_string() });
    }
    serde_norway::to_string(&yaml_value(object))
        .map_err(|e| ManifestError::Serialize { message: e.to_string() })
}

/// Writes objects as one multi-document YAML text, each document introduced by `---`.
pub fn to_documents(objects: &[Value]) -> Result<String, ManifestError> {
    let mut out = String::new();
    for object in objects {
        out.push_str("---\n");
        out.push_str(&to_yaml(object)?);
    }
    Ok(out)
}

/// Converts to a YAML value with map keys sorted, so output does not depend on whether some
/// crate in the build turned on serde_json's insertion-ordered maps.
fn yaml_value(value: &Value) -> serde_norway::Value {
    use serde_norway::Value as Y;
    match value {
        Value::Null => Y::Null,
        Value::Bool(b) => Y::Bool(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Y::Number(u.into())
            } else if let Some(i) = n.as_i64() {
                Y::Number(i.into())
            } else {
                Y::Number(n.as_f64().unwrap_or(f64::NAN).into())
            }
        }
        Value::String(s) => Y::String(s.clone()),
        Value::Array(items) => Y::Sequence(items.iter().map(yaml_value).collect()),
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Y::Mapping(entries.into_iter().map(|(k, v)| (Y::String(k.clone()), yaml_value(v))).collect())
        }
    }
}

/// A copy with map keys sorted, for the JSON fallback (same reason as `yaml_value`).
fn sorted(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k.clone(), sorted(v))).collect())
        }
        other => other.clone(),
    }
}

/// Whether a string anywhere in the value would be read back as a boolean by a YAML 1.1 reader.
fn has_yaml11_ambiguous_string(value: &Value) -> bool {
    match value {
        Value::String(s) => is_yaml11_bool_word(s),
        Value::Array(items) => items.iter().any(has_yaml11_ambiguous_string),
        // Keys are strings too: a key `on` would become `true` in Kubernetes' reader.
        Value::Object(map) => {
            map.iter().any(|(k, v)| is_yaml11_bool_word(k) || has_yaml11_ambiguous_string(v))
        }
        _ => false,
    }
}

/// YAML 1.1 boolean words that serde_norway leaves unquoted (it already quotes `true`/`false`).
fn is_yaml11_bool_word(s: &str) -> bool {
    ["y", "n", "yes", "no", "on", "off"].iter().any(|w| s.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn skips_empty_documents_and_numbers_errors_from_one() {
        let text = "---\n# only a comment\n---\na: 1\n---\n---\nb: [x\n---\nc: 2\n";
        let err = parse_documents(text).unwrap_err();
        let ManifestError::Yaml { document, .. } = &err else { panic!("unexpected {err:?}") };
        assert_eq!(*document, 4);
        assert!(err.to_string().starts_with("YAML document 4 is invalid"), "{err}");
        let ok = parse_documents("---\n---\na: 1\n---\n\n---\nb: 2\n").unwrap();
        assert_eq!(ok, vec![json!({"a": 1}), json!({"b": 2})]);
    }

    #[test]
    fn rejects_scalars_and_lists() {
        assert_eq!(parse_documents("a: 1\n---\n- x\n"), Err(ManifestError::NotAnObject { document: 2 }));
        assert_eq!(parse_documents("just text\n"), Err(ManifestError::NotAnObject { document: 1 }));
    }

    #[test]
    fn round_trips_with_sorted_keys_and_quoted_lookalikes() {
        let obj = json!({"kind": "X", "apiVersion": "v1", "port": "8080", "replicas": 80, "flag": "true"});
        let text = to_yaml(&obj).unwrap();
        assert_eq!(text, "apiVersion: v1\nflag: 'true'\nkind: X\nport: '8080'\nreplicas: 80\n");
        assert_eq!(
            parse_documents(&to_documents(&[obj.clone(), obj.clone()]).unwrap()).unwrap(),
            vec![obj.clone(), obj]
        );
    }

    #[test]
    fn yaml11_booleans_fall_back_to_json() {
        let obj = json!({"kind": "X", "value": "on"});
        let text = to_yaml(&obj).unwrap();
        assert!(text.contains("\"on\""), "{text}");
        assert_eq!(parse_documents(&text).unwrap(), vec![obj]);
    }
}
