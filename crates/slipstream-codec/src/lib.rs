//! Encoders and decoders for every type slipstream stores, independent of Python: the
//! binding turns Python objects into these inputs and back.

mod dictionary;
mod error;
pub mod frame;
pub mod image;
pub mod ndarray;
pub mod value;

pub use error::{CodecError, Result};

/// A payload must be exactly one envelope: trailing bytes mean it is not what we wrote.
fn check_consumed(used: usize, len: usize) -> Result<()> {
    if used != len {
        return Err(CodecError::Invalid(format!(
            "{} unexpected bytes after the encoded value",
            len - used
        )));
    }
    Ok(())
}
