"""The records slipstream keeps beside the data, and a run's record as tasks write it.

Every record file has one typed definition in the Rust core (`slipstream_core::records`,
documented in `docs/formats.md`). `types` holds the same records as Python classes,
generated from the Rust types (`scripts/gen_record_types.py`), immutable and read by
attribute; `files` reads and writes them, each checked by the Rust core (a record of a newer
format is refused with `NewerFormat`); `runs` writes a run's header and op states and reads
Airflow's word into a run that is over (the merge of a run's files is the Rust core's).

Imports point down only: `records` uses `spec` and the native module, nothing above.
"""

from slipstream.records.types import TryRecord

#: The name the try record had before (`ss.TaskRecord`); code written against it still runs.
TaskRecord = TryRecord
