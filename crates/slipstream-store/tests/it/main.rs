//! One conformance suite that every backend passes: the local folder and S3 (against a real
//! S3-compatible server on loopback that the suite starts itself).

// Tests run their own runtimes (`#[tokio::test]`); the one-runtime rule is for the library.
#![allow(clippy::disallowed_methods)]

mod conformance;
mod local;
mod run_index;
mod s3;
mod s3_server;
mod survey;
