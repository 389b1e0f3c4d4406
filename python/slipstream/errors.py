"""The exceptions slipstream raises. Each message names the key or URL concerned and says
what to do next.

```
SlipstreamError
├── ArtifactNotFound   (also FileNotFoundError)
├── CorruptArtifact
├── UnsupportedType    (also TypeError)
│   └── PickleNotAllowed
├── StorageError
├── NewerFormat          a record written by a newer slipstream: upgrade to read it
├── FlowDefinitionError  (also TypeError): a flow wired wrongly, found when it is defined
├── CodeUnavailable      an op's code cannot be imported or rebuilt where it runs
├── CheckFailed          an `error` check found its artifact wanting
├── UpstreamMismatch     an input an older version of its producer never wrote in this run
├── RunIdTaken           a local run started with the run id of another run (also ValueError)
└── SqlError             a warehouse refused a connection, a query or a write
```
"""

from __future__ import annotations

__all__ = [
    "ArtifactExpired",
    "ArtifactNotFound",
    "CheckFailed",
    "CodeUnavailable",
    "CorruptArtifact",
    "FlowDefinitionError",
    "FlowWarning",
    "NewerFormat",
    "PickleNotAllowed",
    "RunIdTaken",
    "SlipstreamError",
    "SqlError",
    "StorageError",
    "UnsupportedType",
    "UpstreamMismatch",
]


class SlipstreamError(Exception):
    """Base class of every error slipstream raises on purpose."""


class ArtifactNotFound(SlipstreamError, FileNotFoundError):
    """No complete artifact exists under the key: the op has not written it (yet)."""


class ArtifactExpired(ArtifactNotFound):
    """The artifact's payload was deleted by retention (`slipstream gc`); its manifest and
    the run's records are kept, and the message says when. Re-running the op writes it again."""


class CorruptArtifact(SlipstreamError):
    """A stored artifact fails its checksum, its manifest is unreadable, or it cannot be
    decoded. Nothing of it is returned; re-running the producing op rewrites it."""


class UnsupportedType(SlipstreamError, TypeError):
    """A value has a type slipstream has no codec for (and pickle was not allowed)."""


class PickleNotAllowed(UnsupportedType):
    """A pickled artifact was read without `allow_pickle=True`."""


class StorageError(SlipstreamError):
    """The store could not be reached or refused the request (URL, credentials, network)."""


class NewerFormat(SlipstreamError):
    """A record in the store (a run, an op state, a flow spec, a try record, a preview) was
    written by a newer slipstream in a format this one does not know: upgrade slipstream.
    Nothing of it is read."""


class FlowDefinitionError(SlipstreamError, TypeError):
    """A flow is wired wrongly: wrong arguments to an op, a metric or check result passed
    on as data, two ops of one name, a constant that cannot be written into the spec.
    Raised where the flow is defined, naming the op and the line."""


class AmbiguousName(SlipstreamError, ValueError):
    """A prefix of a run id or version names more than one of them: the message lists them."""


class ParamError(SlipstreamError, ValueError):
    """A run's params do not fit the flow: an unknown name, a required one missing, or a
    value of another type than the param's default. Raised before any op runs."""


class Terminated(BaseException):
    """The process running a local run was asked to stop (SIGTERM). Like Ctrl-C, the op that
    was running records it as its failure and the run is recorded failed before the process
    ends. A `BaseException`, so that an op's `except Exception` does not swallow it."""


class RunIdTaken(SlipstreamError, ValueError):
    """A local run was started with the run id of a run that exists or is being run by
    another process: of two writers of one run id, only the first runs. `overwrite=True`
    replaces a finished run."""


class RunFailed(SlipstreamError):
    """A run ended failed (`run.raise_for_status()`): the message lists each failed op with
    its exception and the line of the user's code that raised it."""


class FlowWarning(UserWarning):
    """A flow is defined in a way that is allowed but likely not meant: ops built from its
    artifacts are left out of it."""


class CodeUnavailable(SlipstreamError):
    """An op's code cannot be loaded where it runs: its module is not importable there, or
    the source captured from a script no longer runs."""


class UpstreamMismatch(SlipstreamError):
    """An op cannot read an input in this run: the upstream op ran an older flow version
    (before a recompile) whose outputs do not include the one this version reads."""


class CheckFailed(SlipstreamError):
    """A check of severity `error` returned false: the ops that consume the checked
    artifacts do not run. Its result is stored like any output."""


class SqlError(SlipstreamError):
    """A warehouse could not be reached, refused the credentials, a query or a write. The
    message names the connection (never its password) and, for a query, points at the
    position of the error."""
