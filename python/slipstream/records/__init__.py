"""The records slipstream keeps beside the data, and a run's record as tasks write it.

Every record file has one typed definition in the Rust core (`slipstream_core::records`,
documented in `docs/formats.md`): `files` checks each record against it before it is written
and after it is read (a record of a newer format is refused with `NewerFormat`); `types`
gives the same shapes to type checkers; `runs` writes a run's header and op states, and
merges a run's files with the one merge the UI uses too.

Imports point down only: `records` uses `spec` and the native module, nothing above.
"""
