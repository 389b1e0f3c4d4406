"""The records slipstream keeps, as Python classes, generated from the Rust core's
record types (`slipstream_core::records`, through their JSON Schema) by
`scripts/gen_record_types.py`. Do not edit: `make records` writes it again, and a test fails
when it is out of date.

`docs/formats.md` documents each record field by field."""

from __future__ import annotations

from typing import Any, Literal, TypeAlias

import msgspec

from slipstream.records.record import Record

# What an op is: an ordinary op, a metric (returns a number), a check (returns a verdict), or
# another flow's output taken as input (`upstream`: it runs no code).
OpKind: TypeAlias = Literal["op", "metric", "check", "upstream"]


# Where an op stands in a run. Airflow's task states map onto these
# ([`super::op_status_from_airflow`]); a state neither knows is kept as Airflow spelled it.
OpStatus: TypeAlias = str


# `running` until every op has ended (or Airflow says otherwise).
RunStatus: TypeAlias = Literal["queued", "running", "success", "failed", "interrupted"]


# A failing `error` check stops the consumers of what it checks; a `warning` does not.
Severity: TypeAlias = Literal["error", "warning"]


TryStatus: TypeAlias = Literal["success", "failed"]


# What kind of Python value an artifact holds; decides the codec.
TypeTag: TypeAlias = Literal["frame", "image", "ndarray", "bytes", "value", "pickle"]


# The status of a run whose records cannot be read.
UnreadableStatus: TypeAlias = Literal["unreadable"]


class AirflowRun(Record, frozen=True, kw_only=True):
    """A DAG run with its task instances."""

    format: int = 0
    dag_id: str | None
    run_id: str

    # `queued`, `running`, `success` or `failed`.
    state: str | None
    run_type: str | None
    start_date: str | None
    end_date: str | None

    # Task instances by task id (= op name); mapped instances are left out.
    tasks: dict[str, AirflowTask]


class AirflowTask(Record, frozen=True, kw_only=True):
    """One task instance: its current state and every try Airflow remembers."""

    state: str | None

    # 0 before the first try.
    try_number: int
    start_date: str | None
    end_date: str | None
    tries: tuple[AirflowTry, ...]


class AirflowTry(Record, frozen=True, kw_only=True):
    """One try of a task instance."""

    try_number: int
    state: str | None
    start_date: str | None
    end_date: str | None
    hostname: str | None


class Attempt(Record, frozen=True, kw_only=True):
    """One try of an op in a run: which version ran it and where its record and outputs are."""

    try_number: int
    version: str
    prefix: str
    code_hash: str


class CacheEntry(Record, frozen=True, kw_only=True):
    """The outputs an op wrote for one cache key."""

    format: int = 0

    # The key, a SHA-256 of what the outputs were made from.
    key: str
    op: str

    # Where the outputs are.
    at: OutputsAt

    # The version whose op wrote them.
    version: str

    # Output name → checksum of its payload when it was written.
    outputs: dict[str, str]
    written_at: str
    check: CheckResult | None = None

    # A metric's value or a check's verdict, which a reusing run records as its own.
    metric: Any = None

    # (2) What the key is the hash of, part by part (`slipstream cache explain`): `code`, `op`,
    # `inputs`, `arguments`, `environment`, `packages`, `image` and the formats.
    parts: Any = None


class CheckResult(Record, frozen=True, kw_only=True):
    """What a check found: `failed` of `total` elements were false (1 of 1 for a bool)."""

    passed: bool
    severity: Severity
    failed: int
    total: int


class ColumnProfile(Record, frozen=True, kw_only=True):
    """One column's profile: nulls, distinct values, range and histogram of numbers."""

    name: str
    type: str
    nulls: int

    # Distinct non-null values: counted, or (`distinct_exact` false, and always before format 2)
    # estimated.
    distinct: int | None
    distinct_exact: bool = False
    histogram: Histogram | None = None
    max: Any = None
    mean: Any = None
    min: Any = None


class Deleted(Record, frozen=True, kw_only=True):
    """A run deleted at `deleted_at` (RFC 3339, UTC)."""

    run_id: str
    deleted_at: str


class Environment(Record, frozen=True, kw_only=True):
    """Where the version was published from."""

    python: str
    libraries: dict[str, str]


class ErrorRecord(Record, frozen=True, kw_only=True):
    """Why a try failed: the exception, in which phase, with the user's frames only."""

    type: str
    message: str

    # `inputs`, `call`, `outputs` or `check`.
    phase: str
    traceback: str
    frames: tuple[StackFrame, ...]


class ErrorSummary(Record, frozen=True, kw_only=True):
    """The exception of a failed try, in short."""

    # The exception's qualified class name (`ValueError`, `slipstream.errors.CheckFailed`).
    type: str
    message: str


class Expiry(Record, frozen=True, kw_only=True):
    """The payloads of one op's outputs in one run were deleted by retention."""

    format: int = 0
    flow: str
    run_id: str

    # When retention deleted them (RFC 3339, UTC).
    expired_at: str

    # The policy that selected the run, for people: "keep the last 30 runs".
    reason: str


class FlowOutput(Record, frozen=True, kw_only=True):
    """One output of one op of a flow: another flow's, read through an `upstream` op, and the
    Airflow Asset `slipstream://<flow>/<op>/<output>`.
    """

    flow: str
    op: str
    output: str


class FlowSpec(Record, frozen=True, kw_only=True):
    """A published flow version."""

    format: int = 0
    flow: str
    description: str | None

    # The Airflow schedule (`@daily`, a cron line) or none.
    schedule: str | None
    params: dict[str, ParamSpec]

    # Every op in dependency order: an op comes after everything it reads.
    ops: tuple[OpSpec, ...]

    # The artifacts the flow was built from.
    outputs: tuple[OutputRef, ...]
    version: str
    environment: Environment

    # When the version was first published to this store (RFC 3339, UTC).
    published_at: str | None

    # Whether ops may reuse earlier outputs (absent: yes).
    cache: bool = True

    # Outputs of other flows whose new data triggers a run: the DAG is scheduled on their Airflow
    # Assets (format 2; absent: none).
    schedule_on: tuple[FlowOutput, ...] = ()


class FrameHead(Record, frozen=True, kw_only=True):
    """Column names and rows of cells (numbers, booleans, null, capped text)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


class FunctionSpec(Record, frozen=True, kw_only=True):
    """The function an op calls and how to load it where it runs."""

    module: str
    qualname: str
    file: str
    line: int

    # Imported by module path where it runs; otherwise `module_source` is run.
    importable: bool

    # The function's own source, for people.
    source: str

    # `sha256:` of the code the op runs: the function and the helpers captured with it.
    code_hash: str

    # The captured module of an op defined in a script or notebook.
    module_source: str | None = None


class Histogram(Record, frozen=True, kw_only=True):
    """Equal-width bins: `edges` has one more entry than `counts`."""

    edges: tuple[float, ...]
    counts: tuple[int, ...]


class ImageInfo(Record, frozen=True, kw_only=True):
    """Image geometry and PIL mode."""

    mode: str
    width: int
    height: int


class IndexSegment(Record, frozen=True, kw_only=True):
    """One segment of a flow's run index."""

    format: int = 0
    flow: str

    # When it was written (RFC 3339, UTC).
    written_at: str

    # Written from every run record of the flow (a rebuild, or a compaction of segments one of which
    # was): with it, the index holds every ended run. Without any, readers read every run record
    # instead.
    base: bool
    runs: tuple[RunSummary, ...]

    # Runs deleted (`slipstream delete`): they hide entries of the run indexed before.
    deleted: tuple[Deleted, ...] = ()


class InputRef(Record, frozen=True, kw_only=True):
    """An artifact by its key parts."""

    op_prefix: str
    run_id: str
    output: str


class Manifest(Record, frozen=True, kw_only=True):
    """Everything recorded about one stored output."""

    format: int = 0
    op_prefix: str
    run_id: str
    output: str
    type: TypeTag

    # `parquet`, `png`, `bincode` or `pickle`.
    codec: str

    # The Python library the value came from and goes back to (`pandas.DataFrame`,
    # `polars.DataFrame`, `pyarrow.Table`, `PIL.Image`, `numpy.ndarray`, `builtins`…).
    flavor: str

    # The exact Python type of the value that was stored.
    python_type: str

    # Object name of the payload, relative to the output's folder.
    payload: str

    # Size of the payload in bytes.
    bytes: int

    # Checksum of the payload, verified on every read.
    checksum: str
    try_number: int

    # Versions of Python, slipstream and the value's library at write time.
    libraries: dict[str, str]
    encode_seconds: float
    write_seconds: float

    # RFC 3339 UTC time the manifest was written.
    written_at: str
    dtype: str | None = None

    # Fields added by callers (producing op, code hash…), kept as given.
    extra: dict[str, Any] = msgspec.field(default_factory=dict)
    image: ImageInfo | None = None
    pickle: PickleInfo | None = None
    rows: int | None = None

    # Frames: one entry per column, `{name, type, nullable}`.
    schema: Any = None
    shape: tuple[int, ...] | None = None


class MetricAlert(Record, frozen=True, kw_only=True):
    """The bounds a metric's value is expected within; outside them, an alert is sent."""

    # Alert when the value is above this.
    above: float | None = None

    # Alert when the value is below this.
    below: float | None = None


class OpSpec(Record, frozen=True, kw_only=True):
    """One op of a version."""

    name: str
    kind: OpKind

    # Checks only.
    severity: Severity | None
    description: str
    function: FunctionSpec

    # Parameter name → the artifact it receives.
    inputs: dict[str, OutputRef]

    # Parameter name → the run param it receives.
    params: dict[str, str]

    # Parameter name → a plain value, as the spec encodes values.
    constants: dict[str, Any]

    # Parameter name → the frame library the input is converted to.
    convert: dict[str, str]
    outputs: tuple[str, ...]

    # Ops that must end first: producers of its inputs and the error checks gating them.
    upstream: tuple[str, ...]
    allow_pickle: bool
    retries: int

    # Kubernetes requests and limits (`cpu`, `memory`, `nvidia.com/gpu`), strings or numbers as
    # given.
    resources: dict[str, Any]

    # The container image of its pod, if not the DAG's.
    image: str | None

    # `file:line` of the call that added the op to the flow.
    defined_at: str

    # The UUID its artifacts are stored under in every run of this version.
    prefix: str

    # (4) A metric's alert: the value it must stay within (`@ss.metric(alert_below=...,
    # alert_above=...)`); crossing it calls the flow's notifiers.
    alert: MetricAlert | None = None

    # Whether the op may reuse an earlier output with the same cache key (absent: yes; SQL extracts
    # and publishes say no).
    cache: bool = True

    # (3) The version of its code the user names (`@ss.op(code_version=...)`): the cache key takes
    # it instead of the code hash and the modules the code imports.
    code_version: str | None = None

    # The other flow's output an op of kind `upstream` stands for (format 2).
    source: FlowOutput | None = None


class OpState(Record, frozen=True, kw_only=True):
    """The state of one op in one run, in `run.json` and in `ops/<op>.json`."""

    format: int = 0
    status: OpStatus
    kind: OpKind

    # The op prefix its outputs and try records are stored under.
    prefix: str

    # How many tries have started (0: none yet).
    tries: int

    # Airflow's record of every try (merged from `airflow.json`; kept in a run's summary, never in
    # an op file).
    airflow_tries: tuple[AirflowTry, ...] | None = None

    # Every try that started, first to last, with the version it ran and where its record is (format
    # 2; before, tries `1..=tries` under `prefix`). A task cleared after a recompile runs a newer
    # version than the tries before it.
    attempts: tuple[Attempt, ...] = ()

    # Upstream ops whose failure kept this one from running.
    blocked_by: tuple[str, ...] = ()

    # The cache key of its outputs: what the op's code, inputs, arguments and environment were (a
    # successful op).
    cache_key: str | None = None

    # Where its outputs are when the op did not run but reused those of an earlier run.
    cached_from: OutputsAt | None = None

    # A check's verdict.
    check: CheckResult | None = None

    # The code hash of the op in that version.
    code_hash: str | None = None
    ended_at: str | None = None

    # The last try's exception, when it failed.
    error: ErrorSummary | None = None

    # A metric's value.
    metric: Any = None
    started_at: str | None = None

    # The flow version whose code the last try ran (format 2; before, the run's version).
    version: str | None = None


class OutputRef(Record, frozen=True, kw_only=True):
    """One output of one op."""

    op: str
    output: str


class OutputsAt(Record, frozen=True, kw_only=True):
    """The outputs of one op in one run: under `prefix`, in run `run_id`."""

    run_id: str
    prefix: str

    # Another flow's, for an op of kind `upstream` (absent: this flow's).
    flow: str | None = None


class ParamSpec(Record, frozen=True, kw_only=True):
    """A run parameter: overridable per run, with a default unless required."""

    description: str
    required: bool
    default: Any = None


class Phases(Record, frozen=True, kw_only=True):
    """Seconds a try spent reading its inputs (lazy inputs are read during the call), in the
    function, and storing its outputs (checking a check's result included).
    """

    inputs: float
    call: float
    outputs: float


class PickleInfo(Record, frozen=True, kw_only=True):
    """How a pickled artifact was written; reading it back needs a compatible Python."""

    python: str
    protocol: int


class Pin(Record, frozen=True, kw_only=True):
    """A run kept whatever the retention policy."""

    format: int = 0
    flow: str
    run_id: str

    # When it was pinned (RFC 3339, UTC).
    pinned_at: str

    # Why, in the user's words; empty if none was given.
    note: str


class PreviewFrame(Record, frozen=True, kw_only=True, tag_field="kind", tag="frame"):
    """The first rows of a frame and a profile of each column shown."""

    format: int = 0
    rows: int
    columns: int
    columns_shown: int
    head: FrameHead
    profile: tuple[ColumnProfile, ...]

    # Rows the head and profile were taken from, when fewer than `rows`: a frame streamed as it was
    # stored keeps only its first rows.
    profiled_rows: int | None = None


class PreviewImage(Record, frozen=True, kw_only=True, tag_field="kind", tag="image"):
    """A thumbnail (base64 PNG) of an image."""

    format: int = 0
    width: int
    height: int
    mode: str
    thumbnail: str


class PreviewArray(Record, frozen=True, kw_only=True, tag_field="kind", tag="array"):
    """A numpy array printed by numpy, capped."""

    format: int = 0
    shape: tuple[int, ...]
    dtype: str
    text: str
    length: int
    truncated: bool


class PreviewBytes(Record, frozen=True, kw_only=True, tag_field="kind", tag="bytes"):
    """The first 256 bytes in hex."""

    format: int = 0
    length: int
    hex: str


class PreviewNumber(Record, frozen=True, kw_only=True, tag_field="kind", tag="number"):
    """A number (non-finite floats as text)."""

    format: int = 0
    value: Any


class PreviewText(Record, frozen=True, kw_only=True, tag_field="kind", tag="text"):
    """Text cut at a fixed length; `length` is the whole text's."""

    format: int = 0
    text: str
    length: int
    truncated: bool


class PreviewJson(Record, frozen=True, kw_only=True, tag_field="kind", tag="json"):
    """Lists, dicts, None and booleans as indented JSON, capped."""

    format: int = 0
    text: str
    length: int
    truncated: bool


class PreviewNone(Record, frozen=True, kw_only=True, tag_field="kind", tag="none"):
    """Why there is no preview."""

    format: int = 0
    reason: str


class RetentionPolicy(Record, frozen=True, kw_only=True):
    """Which runs' payloads expire: beyond the newest `keep_last` and, when both are set, older than
    `older_than_days`.
    """

    format: int = 0
    flow: str
    keep_last: int | None
    older_than_days: float | None

    # The version whose publication set it.
    version: str


class RunRecord(Record, frozen=True, kw_only=True):
    """One run of a flow version."""

    format: int = 0
    flow: str

    # The flow version the run started with.
    version: str

    # Airflow's `run_id`, or the id a local run was given.
    run_id: str

    # `local` or `airflow`.
    trigger: str
    status: RunStatus

    # The params the run used, as the flow spec encodes values.
    params: dict[str, Any]

    # RFC 3339, UTC.
    started_at: str
    ended_at: str | None

    # Every op of the version, in the version's order.
    ops: dict[str, OpState]

    # Metric values by op name (a whole run; a merged run takes them from its ops).
    metrics: dict[str, Any]

    # Check results by op name.
    checks: dict[str, CheckResult]

    # The process of a local run (format 3), so that readers can tell a run whose process is gone
    # (killed) from one still going.
    runner: Runner | None = None

    # How the version was found when `slipstream sync` wrote the header (no task had).
    version_from: str | None = None


class RunSummary(Record, frozen=True, kw_only=True):
    """What the runs list, a run's row in it and a metric's or check's history show of a run."""

    run_id: str
    version: str
    trigger: str
    status: RunStatus
    params: dict[str, Any]
    started_at: str
    ended_at: str | None
    metrics: dict[str, Any]
    checks: dict[str, CheckResult]

    # When this entry was written (RFC 3339, UTC): of two entries of a run, the later is the run's.
    indexed_at: str

    # The ops that failed, with their exception when one was recorded.
    failed: dict[str, ErrorSummary | None] = msgspec.field(default_factory=dict)


class Runner(Record, frozen=True, kw_only=True):
    """The process of a local run: its host and id, and (on Linux) what tells it from another
    process of the same id: the boot, the pid namespace (a container), its start time.
    """

    host: str
    pid: int

    # `/proc/sys/kernel/random/boot_id` when the run started.
    boot_id: str | None = None

    # `/proc/self/ns/pid` of the process, e.g. `pid:[4026531836]`.
    pid_namespace: str | None = None

    # Its start time, in clock ticks after boot (`/proc/<pid>/stat`, field 22).
    started: int | None = None


class StackFrame(Record, frozen=True, kw_only=True):
    """One frame of the user's code."""

    file: str
    line: int | None
    function: str
    code: str | None


class TryRecord(Record, frozen=True, kw_only=True):
    """One try of one op."""

    format: int = 0
    op_prefix: str
    run_id: str
    try_number: int

    # The qualified name of the function called.
    function: str
    status: TryStatus
    started_at: str
    ended_at: str
    duration_seconds: float
    peak_rss_bytes: int

    # Parameter name → the artifact read for it.
    inputs: dict[str, InputRef]

    # Output name → the manifest of what was stored (outputs stored before a failure too).
    outputs: dict[str, Manifest]

    # What the op printed (C-level writes included), capped.
    stdout: str
    stderr: str
    stdout_dropped_bytes: int
    stderr_dropped_bytes: int
    error: ErrorRecord | None

    # Absent in the first records written: they were all ops.
    kind: OpKind
    metric: Any
    check: CheckResult | None
    host: str
    pid: int

    # Where this record is stored.
    record_path: str

    # A try that did not call the function: its outputs (`outputs`, with their manifests) are those
    # of an earlier run with the same cache key.
    cached_from: OutputsAt | None = None

    # The code hash of the op in that version (format 2).
    code_hash: str | None = None

    # Where the try's time went (format 3).
    phases: Phases | None = None

    # The flow version whose code this try ran (format 2).
    version: str | None = None


class UnreadableRun(Record, frozen=True, kw_only=True):
    """A run the runs list shows as unreadable: its id (its folder's name when its record cannot be
    read), its start when its record says it, and why. Not stored: what readers list.
    """

    run_id: str
    started_at: str | None

    # Always `unreadable`: a row of the runs list says its status, whichever it is.
    status: UnreadableStatus
    reason: str


# A preview; `kind` says which.
Preview: TypeAlias = (
    PreviewFrame
    | PreviewImage
    | PreviewArray
    | PreviewBytes
    | PreviewNumber
    | PreviewText
    | PreviewJson
    | PreviewNone
)


# The record kinds, by the names the Rust core knows them by (`RECORD_KINDS`).
RecordKind: TypeAlias = Literal[
    "airflow",
    "cache",
    "expiry",
    "index",
    "manifest",
    "op_state",
    "pin",
    "preview",
    "retention",
    "run",
    "spec",
    "try",
]


# The class of each record kind.
BY_KIND: dict[RecordKind, Any] = {
    "airflow": AirflowRun,
    "cache": CacheEntry,
    "expiry": Expiry,
    "index": IndexSegment,
    "manifest": Manifest,
    "op_state": OpState,
    "pin": Pin,
    "preview": Preview,
    "retention": RetentionPolicy,
    "run": RunRecord,
    "spec": FlowSpec,
    "try": TryRecord,
}
