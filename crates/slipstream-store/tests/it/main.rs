//! One conformance suite that every backend passes: the local folder and S3 (against a real
//! S3-compatible server on loopback that the suite starts itself).

mod conformance;
mod local;
mod s3;
mod s3_server;
