"""A real PostgreSQL server on loopback, started by the tests in a temporary folder.

`make test` installs PostgreSQL when it is missing. The server runs as the `postgres`
user when the tests run as root (PostgreSQL refuses to run as root), with password
authentication so that bad credentials can be tested.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from tests.support.servers import free_port

USER = "slipstream"
PASSWORD = "s3cret-pw"
DATABASE = "warehouse"


@dataclass(frozen=True)
class Postgres:
    host: str
    port: int

    @property
    def url(self) -> str:
        """Connection URL without the password (that comes from `PGPASSWORD`)."""
        return f"postgresql://{USER}@{self.host}:{self.port}/{DATABASE}"

    @property
    def url_with_password(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@{self.host}:{self.port}/{DATABASE}"


def postgres_bin() -> str | None:
    """The folder of `initdb` and `pg_ctl`, newest installed version first."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if found:
        return os.path.dirname(found[0])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


@contextmanager
def postgres_server() -> Iterator[Postgres]:
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: run the tests through `make test`")
    as_user: list[str] = []
    root = tempfile.mkdtemp(prefix="slipstream-pg-")
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(root, "data")
    pwfile = os.path.join(root, "pw")
    with open(pwfile, "w") as f:
        f.write(PASSWORD)
    if as_user:
        shutil.chown(pwfile, "postgres", "postgres")

    def run(*cmd: str) -> None:
        subprocess.run([*as_user, *cmd], check=True, capture_output=True, text=True)

    port = free_port()
    run(f"{bindir}/initdb", "-D", data, "-U", USER, "-A", "scram-sha-256",
        f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C")  # fmt: skip
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    run(f"{bindir}/pg_ctl", "-D", data, "-o", options, "-l", f"{root}/log", "-w", "start")
    try:
        env = dict(os.environ, PGPASSWORD=PASSWORD)
        subprocess.run(
            [f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "-U", USER, DATABASE],
            check=True, capture_output=True, env=env,
        )  # fmt: skip
        yield Postgres("127.0.0.1", port)
    finally:
        subprocess.run([*as_user, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)
