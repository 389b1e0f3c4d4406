//! numpy arrays as dtype + shape + raw buffer in a bincode envelope.

use serde::{Deserialize, Serialize};

use crate::{CodecError, Result};

const ARRAY_FORMAT: u16 = 1;

/// An array's description and its bytes in `order`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrayEnvelope<'a> {
    pub format: u16,
    /// numpy's `dtype.str`, e.g. `<f8`, `|b1`, `<M8[ns]`, `<U5`.
    pub dtype: String,
    pub shape: Vec<u64>,
    /// True when `data` is in Fortran (column-major) order.
    pub fortran_order: bool,
    /// True for a numpy scalar (`np.float64(1.5)`), stored as a 0-d array.
    pub scalar: bool,
    #[serde(borrow, with = "serde_bytes")]
    pub data: &'a [u8],
}

impl<'a> ArrayEnvelope<'a> {
    /// Describes `data`, checking that its length fits the shape and item size.
    pub fn new(
        dtype: String,
        item_size: usize,
        shape: Vec<u64>,
        fortran_order: bool,
        scalar: bool,
        data: &'a [u8],
    ) -> Result<Self> {
        let items: u64 = shape.iter().product();
        if items * item_size as u64 != data.len() as u64 {
            return Err(CodecError::Invalid(format!(
                "array of shape {shape:?} and dtype {dtype} needs {} bytes, got {}",
                items * item_size as u64,
                data.len()
            )));
        }
        Ok(Self {
            format: ARRAY_FORMAT,
            dtype,
            shape,
            fortran_order,
            scalar,
            data,
        })
    }

    /// The envelope's bytes.
    pub fn encode(&self) -> Result<Vec<u8>> {
        Ok(bincode::serde::encode_to_vec(
            self,
            bincode::config::standard(),
        )?)
    }

    /// Reads an envelope, borrowing the array bytes from `payload`.
    pub fn decode(payload: &'a [u8]) -> Result<Self> {
        let (envelope, used): (Self, usize) =
            bincode::serde::borrow_decode_from_slice(payload, bincode::config::standard())?;
        crate::check_consumed(used, payload.len())?;
        if envelope.format != ARRAY_FORMAT {
            return Err(CodecError::Invalid(format!(
                "unknown array envelope format {}",
                envelope.format
            )));
        }
        Ok(envelope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_checks_sizes() {
        let data = [1u8, 2, 3, 4, 5, 6, 7, 8];
        let env = ArrayEnvelope::new("<i4".into(), 4, vec![2], false, false, &data).unwrap();
        let bytes = env.encode().unwrap();
        assert_eq!(ArrayEnvelope::decode(&bytes).unwrap(), env);
        assert!(ArrayEnvelope::new("<i4".into(), 4, vec![3], false, false, &data).is_err());
        let zero_d = ArrayEnvelope::new("<i8".into(), 8, vec![], false, true, &data).unwrap();
        assert_eq!(
            ArrayEnvelope::decode(&zero_d.encode().unwrap())
                .unwrap()
                .shape,
            Vec::<u64>::new()
        );
        assert!(ArrayEnvelope::decode(&bytes[..5]).is_err());
    }
}
