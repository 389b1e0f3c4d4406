"""`slipstream sync`: Airflow's word on runs and tasks, copied into the store's run index.

For every DAG tagged `slipstream` it reads the DAG runs and their task instances (with the
history of every try) from the Airflow REST API — Airflow 3's `/api/v2` with a JWT from
`/auth/token`, or Airflow 2's `/api/v1` with basic auth — and writes one file per run:

    flows/<flow>/runs/<run>/airflow.json    run state and dates, per task: state and tries

Tasks write their own op files, the first one the run header and the one that ends the run
its summary; sync never writes op files, and writes a header only where none is (created if
absent), so it cannot race them. What sync writes besides `airflow.json`: a run Airflow says
is over whose header is still open (a task killed before it could end it) gets its summary;
a summary takes Airflow's end and tries, or is reopened when Airflow runs the run again
(`records.runs.fold_airflow`). A run `slipstream delete` removed (the run index records it)
is left deleted: sync writes nothing for it, unless a task has written its header again
since (the run was cleared in Airflow). Readers overlay `airflow.json` (the Rust core's
`merge_run`). A file is rewritten only when its content changes, so syncing twice changes
nothing; a run whose state Airflow reports unchanged and final is not read again.
"""

from __future__ import annotations

import sys
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from slipstream._native import Store, flow_run_airflow_path, flow_run_path
from slipstream.errors import ArtifactNotFound, SlipstreamError
from slipstream.history import indexing, run_index
from slipstream.records import files, runs
from slipstream.records.types import AirflowRun, AirflowTask, AirflowTry

PAGE = 100
FINAL_RUN_STATES = ("success", "failed")


class AirflowError(SlipstreamError):
    """Airflow answered something sync cannot use (an unexpected status)."""


class AirflowUnreachable(AirflowError):
    """Airflow did not answer (refused, timed out, 5xx) after retries."""


class AirflowRefused(AirflowError):
    """Airflow answered but refused: wrong credentials (401), no permission (403)."""


@dataclass
class Stats:
    """What one pass did."""

    dags: int = 0
    runs_seen: int = 0
    runs_written: int = 0
    headers_written: int = 0
    runs_indexed: int = 0
    #: Runs `slipstream delete` removed that Airflow still knows: left deleted.
    runs_deleted: int = 0
    skipped_dags: list[str] = field(default_factory=list)


class AirflowClient:
    """The few REST calls sync needs, with retries on transient failures."""

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        api: str = "auto",
        timeout: float = 30.0,
        retries: int = 3,
    ) -> None:
        import httpx

        self.base = base_url.rstrip("/")
        self._username, self._password, self._token = username, password, token
        self._client = httpx.Client(timeout=timeout)
        self._retries = retries
        self.api = self._detect() if api == "auto" else api
        if self.api == "v1" and username is not None and password is not None:
            self._client.auth = httpx.BasicAuth(username, password)
        elif self.api == "v2" and token is None:
            self._token = self._login()

    def close(self) -> None:
        self._client.close()

    def _detect(self) -> str:
        """`v2` (Airflow 3) if it answers `/api/v2/version`, else `v1` (Airflow 2)."""
        response = self._send("GET", f"{self.base}/api/v2/version", auth=False)
        return "v2" if response.status_code != 404 else "v1"

    def _login(self) -> str:
        if self._username is None or self._password is None:
            raise AirflowRefused(
                "Airflow 3 needs credentials: pass --username and --password (or set "
                "SLIPSTREAM_AIRFLOW_USERNAME / SLIPSTREAM_AIRFLOW_PASSWORD), or --token"
            )
        credentials = {"username": self._username, "password": self._password}
        response = self._send("POST", f"{self.base}/auth/token", json=credentials, auth=False)
        if response.status_code in (401, 403):
            raise AirflowRefused(f"Airflow at {self.base} refused the credentials of user "
                                 f"{self._username!r} ({response.status_code})")  # fmt: skip
        response.raise_for_status()
        return str(response.json()["access_token"])

    def get(self, path: str, **params: Any) -> Any:
        """GET `/api/<v>/<path>` as JSON; `None` on 404 (a DAG or run deleted meanwhile)."""
        url = f"{self.base}/api/{self.api}/{path}"
        response = self._send("GET", url, params=params)
        if response.status_code == 401 and self.api == "v2" and self._username:
            self._token = self._login()  # the JWT expired
            response = self._send("GET", url, params=params)
        if response.status_code == 404:
            return None
        if response.status_code in (401, 403):
            raise AirflowRefused(f"Airflow refused GET {url} ({response.status_code}): "
                                 "check the credentials and the user's permissions")  # fmt: skip
        if response.status_code >= 400:
            raise AirflowError(f"Airflow answered {response.status_code} to GET {url}: "
                               f"{response.text[:300]}")  # fmt: skip
        return response.json()

    def pages(self, path: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, by offset, in the stable order of `params`."""
        offset = 0
        while True:
            body = self.get(path, limit=PAGE, offset=offset, **params)
            if body is None:
                return
            items = body.get(key, [])
            yield from items
            offset += len(items)
            if not items or offset >= int(body.get("total_entries", 0)):
                return

    def _send(self, method: str, url: str, auth: bool = True, **kwargs: Any) -> Any:
        import httpx

        headers = {"Authorization": f"Bearer {self._token}"} if auth and self._token else {}
        delay = 0.5
        for attempt in range(self._retries + 1):
            try:
                response = self._client.request(method, url, headers=headers, **kwargs)
                if response.status_code < 500 or attempt == self._retries:
                    return response
            except httpx.TransportError as exc:
                if attempt == self._retries:
                    raise AirflowUnreachable(
                        f"cannot reach Airflow at {self.base}: {type(exc).__name__}: {exc}"
                    ) from None
            time.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")


def sync_once(client: AirflowClient, store: Store) -> Stats:
    """One pass over every slipstream DAG."""
    stats = Stats()
    for dag in client.pages("dags", "dags", tags="slipstream", order_by="dag_id"):
        stats.dags += 1
        dag_id = dag["dag_id"]
        try:
            _sync_dag(client, store, dag, stats)
        except ArtifactNotFound as exc:  # e.g. a DAG file of a store other than this one
            stats.skipped_dags.append(f"{dag_id}: {exc}")
    return stats


def _sync_dag(client: AirflowClient, store: Store, dag: Mapping[str, Any], stats: Stats) -> None:
    dag_id = dag["dag_id"]
    quoted = urllib.parse.quote(dag_id, safe="")
    version = _tag(dag, "version:")
    marked = run_index.marked(store, dag_id)
    deleted = run_index.deleted(store, dag_id)
    over: list[str] = []  # runs Airflow says are over that the run index may not have yet
    for run in client.pages(f"dags/{quoted}/dagRuns", "dag_runs", order_by="id"):
        stats.runs_seen += 1
        run_id = run["dag_run_id"]
        if run_id in deleted and not _exists(store, flow_run_path(dag_id, run_id)):
            stats.runs_deleted += 1  # removed by `slipstream delete`: not brought back
            continue
        path = flow_run_airflow_path(dag_id, run_id)
        previous = _read(store, path)
        is_over = run["state"] in FINAL_RUN_STATES
        if (
            previous is not None
            and previous.state in FINAL_RUN_STATES
            and (previous.state, previous.end_date) == (run["state"], run.get("end_date"))
        ):
            if run_index.is_marked(marked, dag_id, run_id):
                over.append(run_id)  # ended, and not indexed yet
            continue  # ended, and Airflow says nothing new
        synced = _run_state(client, quoted, run)
        if previous != synced:
            files.write(store, path, synced)
            runs.fold_airflow(store, dag_id, run_id)  # a run whose summary is written
            stats.runs_written += 1
        if not is_over and not run_index.is_marked(marked, dag_id, run_id):
            run_index.mark_active(store, dag_id, run_id)  # e.g. queued, or cleared since
        if version is not None and _write_header(store, dag_id, version, run):
            stats.headers_written += 1
        if is_over:
            over.append(run_id)
    stats.runs_indexed += _index(store, dag_id, over)


def _index(store: Store, flow: str, run_ids: list[str]) -> int:
    """Ends the runs of `run_ids` that are over as readers merge them (with Airflow's word:
    a task killed before it could end its run): each one's summary replaces its header, and
    they are indexed; how many."""
    from slipstream.history.reader import History

    history = History(store)
    ended = []
    for run_id in run_ids:
        try:
            run = history.run(flow, run_id)
        except ArtifactNotFound:
            continue  # no header: a run of another store, or one no task could start
        except SlipstreamError as exc:  # unreadable: the readers show it as such
            print(f"slipstream sync: run {run_id!r} of {flow!r} not indexed: {exc}",
                  file=sys.stderr)  # fmt: skip
            continue
        if run.status not in run_index.OPEN:
            runs.write_run(store, run.record)
            ended.append(run.record)
    indexing.record_ended(store, flow, ended)
    return len(ended)


def _run_state(client: AirflowClient, dag: str, run: Mapping[str, Any]) -> AirflowRun:
    """Airflow's word on a run, as its REST API gives it (Airflow 2 and 3 alike)."""
    run_path = f"dags/{dag}/dagRuns/{urllib.parse.quote(run['dag_run_id'], safe='')}"
    tasks: dict[str, AirflowTask] = {}
    # Airflow 2 lists a run's task instances in database order and takes no `order_by`
    # (400); a run's tasks fit one page there unless it has more than `PAGE` of them.
    ordered = {"order_by": "id"} if client.api == "v2" else {}
    for ti in client.pages(f"{run_path}/taskInstances", "task_instances", **ordered):
        if ti.get("map_index", -1) not in (-1, None):
            continue  # slipstream ops are never mapped
        try_number = int(ti.get("try_number") or 0)
        tries = [_try(ti)] if try_number == 1 else []
        if try_number > 1:
            history = client.pages(f"{run_path}/taskInstances/{ti['task_id']}/tries",
                                   "task_instances")  # fmt: skip
            tries = sorted((_try(t) for t in history), key=lambda t: t.try_number)
        tasks[ti["task_id"]] = AirflowTask(
            state=ti.get("state"),
            try_number=try_number,
            start_date=ti.get("start_date"),
            end_date=ti.get("end_date"),
            tries=tuple(tries),
        )
    synced = AirflowRun(
        dag_id=run.get("dag_id"),
        run_id=run["dag_run_id"],
        state=run["state"],
        run_type=run.get("run_type"),
        start_date=run.get("start_date"),
        end_date=run.get("end_date"),
        tasks=tasks,
    )
    return files.stamped(synced)


def _try(ti: Mapping[str, Any]) -> AirflowTry:
    return AirflowTry(
        try_number=ti["try_number"],
        state=ti.get("state"),
        start_date=ti.get("start_date"),
        end_date=ti.get("end_date"),
        hostname=ti.get("hostname"),
    )


def _write_header(store: Store, flow: str, version: str, run: Mapping[str, Any]) -> bool:
    """The run header for a run that no task has started yet (queued, or failed before)."""
    from slipstream.records.files import load_spec
    from slipstream.records.runs import new_record

    path = flow_run_path(flow, run["dag_run_id"])
    if _exists(store, path):  # only whether a task wrote it: its content is not ours
        return False
    spec = load_spec(store, flow, version)
    record = new_record(spec, run["dag_run_id"], {}, trigger="airflow")
    record = record.replace(
        started_at=run.get("start_date") or run.get("queued_at") or record.started_at,
        version_from="the DAG's tags at sync time",
    )
    # created only if absent: a task that started meanwhile keeps the header it wrote
    return store.create_object(path, files.dump(record, path))


def _tag(dag: Mapping[str, Any], prefix: str) -> str | None:
    for tag in dag.get("tags") or []:
        name = tag["name"] if isinstance(tag, dict) else str(tag)
        if name.startswith(prefix):
            return name[len(prefix) :]
    return None


def _exists(store: Store, path: str) -> bool:
    try:
        store.get_object(path)
        return True
    except ArtifactNotFound:
        return False


def _read(store: Store, path: str) -> AirflowRun | None:
    try:
        return files.read(store, path, AirflowRun)
    except ArtifactNotFound:
        return None


def sync_forever(client_factory: Any, store: Store, interval: float) -> None:
    """Syncs every `interval` seconds; when Airflow is unreachable, backs off (up to ten
    intervals) and keeps going, so that what is known stays served."""
    client: AirflowClient | None = None
    wait = interval
    while True:
        try:
            client = client or client_factory()
            stats = sync_once(client, store)
            report(stats)
            wait = interval
        except AirflowError as exc:
            print(f"slipstream sync: {exc}; next try in {wait:.0f} s", file=sys.stderr, flush=True)
            client = None
            time.sleep(wait)
            wait = min(wait * 2, interval * 10)
            continue
        time.sleep(interval)


def report(stats: Stats) -> None:
    print(
        f"slipstream sync: {stats.dags} DAG(s), {stats.runs_seen} run(s) seen, "
        f"{stats.runs_written} updated, {stats.headers_written} new, "
        f"{stats.runs_indexed} indexed"
        + (f", {stats.runs_deleted} deleted left alone" if stats.runs_deleted else ""),
        flush=True,
    )
    for skipped in stats.skipped_dags:
        print(f"slipstream sync: skipped {skipped}", file=sys.stderr, flush=True)
