//! Integration tests of the record formats: golden files of every kind still read, the merge
//! of a run's files, and the schema the SDK's record classes are made from.

mod golden;
mod merge;
mod schema;
