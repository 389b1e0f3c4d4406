//! Trees of builtin Python values, and raw bytes, in bincode envelopes. The tree keeps the
//! distinctions JSON loses: int vs float, tuple vs list, non-string dict keys, bytes, and
//! integers of any size.

use serde::{Deserialize, Serialize};

use crate::{CodecError, Result};

const VALUE_FORMAT: u16 = 1;

/// A Python value built from None, bool, int, float, str, bytes, list, tuple and dict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An int outside i64, as little-endian two's-complement bytes.
    BigInt(#[serde(with = "serde_bytes")] Vec<u8>),
    Float(f64),
    Str(String),
    Bytes(#[serde(with = "serde_bytes")] Vec<u8>),
    List(Vec<Value>),
    Tuple(Vec<Value>),
    /// Entries in insertion order, as Python dicts keep them.
    Dict(Vec<(Value, Value)>),
}

#[derive(Serialize, Deserialize)]
struct ValueEnvelope<T> {
    format: u16,
    body: T,
}

/// Encodes a value tree.
pub fn encode_value(value: &Value) -> Result<Vec<u8>> {
    let envelope = ValueEnvelope {
        format: VALUE_FORMAT,
        body: value,
    };
    Ok(bincode::serde::encode_to_vec(
        &envelope,
        bincode::config::standard(),
    )?)
}

/// Decodes a value tree.
pub fn decode_value(payload: &[u8]) -> Result<Value> {
    let (envelope, used): (ValueEnvelope<Value>, usize) =
        bincode::serde::decode_from_slice(payload, bincode::config::standard())?;
    check_envelope(envelope.format, used, payload.len())?;
    Ok(envelope.body)
}

/// Encodes raw bytes without interpreting them.
pub fn encode_bytes(data: &[u8]) -> Result<Vec<u8>> {
    let envelope = ValueEnvelope {
        format: VALUE_FORMAT,
        body: serde_bytes::Bytes::new(data),
    };
    Ok(bincode::serde::encode_to_vec(
        &envelope,
        bincode::config::standard(),
    )?)
}

/// Decodes raw bytes, borrowing them from `payload`.
pub fn decode_bytes(payload: &[u8]) -> Result<&[u8]> {
    let (envelope, used): (ValueEnvelope<&serde_bytes::Bytes>, usize) =
        bincode::serde::borrow_decode_from_slice(payload, bincode::config::standard())?;
    check_envelope(envelope.format, used, payload.len())?;
    Ok(envelope.body)
}

fn check_envelope(format: u16, used: usize, len: usize) -> Result<()> {
    if format != VALUE_FORMAT {
        return Err(CodecError::Invalid(format!(
            "unknown value envelope format {format}"
        )));
    }
    crate::check_consumed(used, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trees_round_trip() {
        let value = Value::Dict(vec![
            (Value::Int(1), Value::Str("a".into())),
            (
                Value::Tuple(vec![Value::None, Value::Bool(true)]),
                Value::List(vec![Value::Float(f64::INFINITY)]),
            ),
            (
                Value::Str("big".into()),
                Value::BigInt(vec![0, 0, 0, 0, 0, 0, 0, 0, 1]),
            ),
            (Value::Bytes(vec![0, 255]), Value::Float(-0.0)),
        ]);
        assert_eq!(decode_value(&encode_value(&value).unwrap()).unwrap(), value);
        let nan = decode_value(&encode_value(&Value::Float(f64::NAN)).unwrap()).unwrap();
        assert!(matches!(nan, Value::Float(f) if f.is_nan()));
    }

    #[test]
    fn bytes_round_trip_and_garbage_fails() {
        let data: Vec<u8> = (0..=255).collect();
        assert_eq!(
            decode_bytes(&encode_bytes(&data).unwrap()).unwrap(),
            &data[..]
        );
        assert!(decode_value(&[1, 0, 99]).is_err());
        assert!(decode_bytes(&[]).is_err());
    }
}
