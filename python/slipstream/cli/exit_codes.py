"""The exit codes of every `slipstream` command, in one table (the README's).

| code | meaning |
|------|---------|
| 0 | done (for `ui` and `sync`: also stopped with Ctrl-C or SIGTERM) |
| 1 | `task`: the op failed (its error is printed and in the try record); `replay`: the function raised; `get`: the output file cannot be written |
| 2 | bad command line (for `task`: also a store or version it cannot use; for `replay`: code that cannot be loaded) |
| 3 | no such flow, version, run, op, output or try |
| 4 | the store cannot be read: unreachable, refused, a record or artifact corrupt, or written by a newer slipstream |
| 5 | Airflow cannot be reached, or answers what sync cannot use |
| 6 | Airflow refused the credentials |
| 7 | `delete`: refused (the run is not over, other runs use its outputs, or no confirmation) |
"""  # noqa: E501

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    OP_FAILED = 1
    FILE_ERROR = 1
    USAGE = 2
    NOT_FOUND = 3
    STORE_ERROR = 4
    AIRFLOW_UNREACHABLE = 5
    AIRFLOW_REFUSED = 6
    REFUSED = 7
