"""`slipstream publish`: a flow file's versions into the store, their specs into a DAG folder,
without running the file's main block; what Airflow parses reads them offline."""

from __future__ import annotations

from pathlib import Path

import pytest
import slipstream as ss
from slipstream.airflow import builder

from tests.cli.test_cli import cli

ROOT = Path(__file__).resolve().parent.parent.parent
FLOWS = ROOT / "tests" / "flows" / "group_flows.py"


def test_publish_writes_each_flows_spec_beside_the_dags(tmp_path: Path) -> None:
    store = (tmp_path / "store").as_uri()
    dags = tmp_path / "dags"
    proc = cli(store, "publish", str(FLOWS), "--into", str(dags))
    assert proc.returncode == 0, proc.stderr  # the file's main block would have exited 1
    history = ss.open(store)
    assert history.flows() == ["sums", "words"]
    for flow in ("sums", "words"):
        (version,) = history.versions(flow)
        spec = builder.published(dags, flow)
        assert spec == version.spec
        assert (
            f"published {flow}@{version.id} to {store}; spec: {dags / f'{flow}.slipstream.json'}"
            in proc.stdout
        )
    # The ops of the file travel in the version, as a script's do.
    assert all(not op.function.importable and op.function.module_source
               for op in builder.published(dags, "sums").ops)  # fmt: skip
    # Publishing again changes nothing; --flow takes one.
    again = cli(store, "publish", str(FLOWS), "--into", str(dags), "--flow", "words")
    assert again.returncode == 0 and "sums" not in again.stdout
    assert [len(history.versions(f)) for f in ("sums", "words")] == [1, 1]


def test_publish_errors_say_what_is_wrong(tmp_path: Path) -> None:
    store = (tmp_path / "store").as_uri()
    dags = str(tmp_path / "dags")
    missing = cli(store, "publish", str(tmp_path / "nope.py"), "--into", dags)
    assert missing.returncode == 2 and "no flow file" in missing.stderr
    unknown = cli(store, "publish", str(FLOWS), "--into", dags, "--flow", "churn")
    assert unknown.returncode == 3
    assert "defines no flow 'churn' (its flows: sums, words)" in unknown.stderr
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    none = cli(store, "publish", str(empty), "--into", dags)
    assert none.returncode == 3 and "defines no flow (its flows: none)" in none.stderr
    broken = tmp_path / "broken.py"
    broken.write_text("import slipstream as ss\nbad = ss.op(lambda: 1)\n")
    failed = cli(store, "publish", str(broken), "--into", dags)
    assert failed.returncode == 2 and "broken.py" in failed.stderr, failed.stderr
    assert "is a lambda" in failed.stderr
    raising = tmp_path / "raising.py"
    raising.write_text("def load():\n    raise ValueError('boom')\n\nload()\n")
    crashed = cli(store, "publish", str(raising), "--into", dags)
    assert crashed.returncode == 2 and "ValueError: boom" in crashed.stderr
    assert 'raising.py", line 2, in load' in crashed.stderr  # the user's line
    assert not Path(dags).exists()


def test_a_spec_beside_the_dags_is_checked_when_read(tmp_path: Path) -> None:
    from slipstream.errors import CorruptArtifact, FlowDefinitionError

    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "sums.slipstream.json").write_text('{"format": 1, "flow": "sums"')
    with pytest.raises(CorruptArtifact, match=r"sums\.slipstream\.json"):  # torn: not read
        builder.published(dags, "sums")
    with pytest.raises(FlowDefinitionError, match="slipstream publish <flow file> --store URL"):
        builder.published(dags, "words")  # missing: how to publish it
