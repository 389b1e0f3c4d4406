//! The JSON Schema of the records, which the SDK's Python classes are generated from.

use serde_json::Value;
use slipstream_core::records::{RECORD_KINDS, canonical, records_schema};

#[test]
fn every_record_kind_names_a_definition_and_every_reference_resolves() {
    let schema = records_schema();
    let defs = schema["$defs"].as_object().unwrap();
    for kind in RECORD_KINDS {
        let name = schema["kinds"][kind].as_str().unwrap();
        assert!(defs.contains_key(name), "{kind}: {name}");
    }
    let text = schema.to_string();
    for reference in text.split("\"#/$defs/").skip(1) {
        let name = &reference[..reference.find('"').unwrap()];
        assert!(defs.contains_key(name), "dangling reference to {name}");
    }
    assert!(defs.contains_key("RunSummary") && defs.contains_key("UnreadableRun"));
}

#[test]
fn a_field_written_only_when_set_is_optional_with_the_default_readers_take() {
    let schema = records_schema();
    let op_state = &schema["$defs"]["OpState"];
    let required: Vec<&str> = op_state["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // always written, in the order of the Rust fields
    assert_eq!(required, ["format", "status", "kind", "prefix", "tries"]);
    // skipped when empty: optional; `cache` of a spec is written only when false
    assert!(op_state["properties"]["cached_from"].is_object());
    let cache = &schema["$defs"]["FlowSpec"]["properties"]["cache"];
    assert_eq!(cache["default"], Value::Bool(true));
    // a field older records lack carries the default readers take
    assert_eq!(
        schema["$defs"]["TryRecord"]["properties"]["kind"]["default"],
        "op"
    );
}

#[test]
fn a_record_is_read_back_whole_with_its_defaults_and_without_a_newer_releases_fields() {
    let golden = include_bytes!("../golden/format-1/try-record-failed.json");
    let mut record: Value = serde_json::from_slice(golden).unwrap();
    record.as_object_mut().unwrap().remove("kind"); // the first try records had none
    record["added_later"] = Value::from(1); // a newer release's
    let bytes = serde_json::to_vec(&record).unwrap();
    let read: Value = serde_json::from_slice(&canonical("try", &bytes).unwrap().unwrap()).unwrap();
    assert_eq!(read["kind"], "op", "the default readers take");
    assert!(read.get("added_later").is_none());
    assert_eq!(read["error"], record["error"]);
    assert!(matches!(
        canonical("try", br#"{"format": 99}"#),
        Some(Err(slipstream_core::CoreError::NewerFormat { .. }))
    ));
}
