//! The JSON Schema of every record kind, made from the record types themselves (`schemars`):
//! what the SDK's Python record classes are generated from (`scripts/gen_record_types.py`,
//! checked in CI against this build), so that Python has no second definition of a record.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

use super::{RECORD_KINDS, RunSummary, UnreadableRun};

/// `{"kinds": {kind: type name}, "$defs": {type name: schema}}` (with the rows readers list,
/// which are not stored: [`RunSummary`], [`UnreadableRun`]), describing records as they
/// are written: a field skipped when empty (or at its default) is not required, every other
/// field is. A field that older records may lack carries the `default` readers take.
pub fn records_schema() -> Value {
    let (kinds, mut written) = definitions(SchemaSettings::draft2020_12().for_serialize());
    let (_, read) = definitions(SchemaSettings::draft2020_12().for_deserialize());
    for (name, schema) in &mut written {
        let Some(properties) = schema.get_mut("properties").and_then(Value::as_object_mut) else {
            continue;
        };
        for (field, property) in properties {
            let default = read
                .get(name)
                .and_then(|s| s.pointer(&format!("/properties/{field}/default")));
            if let (Some(default), Some(property)) = (default, property.as_object_mut()) {
                property.insert("default".into(), default.clone());
            }
        }
    }
    json!({"kinds": kinds, "$defs": written})
}

/// The kinds' type names and every definition, under `settings`.
fn definitions(settings: SchemaSettings) -> (Map<String, Value>, Map<String, Value>) {
    let mut generator = settings.into_generator();
    let mut kinds = Map::new();
    for kind in RECORD_KINDS {
        let reference = crate::with_record_type!(kind, R => generator.subschema_for::<R>(), _ => unreachable!());
        let name = reference
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/$defs/"))
            .expect("every record type is a definition");
        kinds.insert(kind.to_string(), Value::from(name));
    }
    generator.subschema_for::<RunSummary>();
    generator.subschema_for::<UnreadableRun>();
    (kinds, generator.take_definitions(true))
}
