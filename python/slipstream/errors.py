"""The exceptions slipstream raises. Each message names the key or URL concerned and says
what to do next.

```
SlipstreamError
├── ArtifactNotFound   (also FileNotFoundError)
├── CorruptArtifact
├── UnsupportedType    (also TypeError)
│   └── PickleNotAllowed
└── StorageError
```
"""

from __future__ import annotations

__all__ = [
    "ArtifactNotFound",
    "CorruptArtifact",
    "PickleNotAllowed",
    "SlipstreamError",
    "StorageError",
    "UnsupportedType",
]


class SlipstreamError(Exception):
    """Base class of every error slipstream raises on purpose."""


class ArtifactNotFound(SlipstreamError, FileNotFoundError):
    """No complete artifact exists under the key: the op has not written it (yet)."""


class CorruptArtifact(SlipstreamError):
    """A stored artifact fails its checksum, its manifest is unreadable, or it cannot be
    decoded. Nothing of it is returned; re-running the producing op rewrites it."""


class UnsupportedType(SlipstreamError, TypeError):
    """A value has a type slipstream has no codec for (and pickle was not allowed)."""


class PickleNotAllowed(UnsupportedType):
    """A pickled artifact was read without `allow_pickle=True`."""


class StorageError(SlipstreamError):
    """The store could not be reached or refused the request (URL, credentials, network)."""
