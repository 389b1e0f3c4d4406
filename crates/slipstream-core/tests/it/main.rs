//! Integration tests of the record formats: golden files of every kind still read, and the
//! merge of a run's files.

mod golden;
mod merge;
