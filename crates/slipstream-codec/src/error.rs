use thiserror::Error;

/// Why a value could not be encoded, or a payload decoded.
#[derive(Debug, Error)]
pub enum CodecError {
    #[error("Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("Arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("PNG: {0}")]
    Image(#[from] ::image::ImageError),
    #[error("bincode encoding: {0}")]
    Encode(#[from] bincode::error::EncodeError),
    #[error("bincode decoding: {0}")]
    Decode(#[from] bincode::error::DecodeError),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = CodecError> = std::result::Result<T, E>;
