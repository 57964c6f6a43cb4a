"""Every command the README shows works after `make demo`, typed as a newcomer types it.

The module first builds what the Makefile's demo target leaves behind: a var/ directory of its
own with a migrated SQLite database, collected static files, the demo clinics and the profile
marker `mend demo` writes. Then it runs the README's commands from a directory holding that var/
and a `.venv` link to this virtualenv, with MEND_ENV, the keys and DATABASE_URL taken out of the
environment (the suite's own MEND_ENV=test must not leak into them): the fenced ```sh blocks, and
the rows of "The `mend` command" table with their placeholders filled in. The curl line runs
against `mend serve` started from the table's own row.

A command is left out only when it is listed below with the reason; a new command in the README
runs, so a README that shows a failing command fails here.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    # What `make demo` leaves is SQLite whatever the suite runs on: once, in make test's SQLite pass.
    pytest.mark.skipif(os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="runs in the SQLite pass"),
]

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
VENV = Path(sys.prefix)

# `make` targets are the harness around these commands, not commands to check here.
MAKE_TARGETS_NOT_RUN = {
    "demo": "this module sets up what it leaves behind",
    "test": "the suite this test is part of",
    "bench": "seeds 10,000 clients; tests/test_bench.py covers it",
    "format": "rewrites the checkout",
}
# Exact README lines (comments stripped) that are not run, and why. Files they name must exist.
LINES_NOT_RUN = {
    "export DATABASE_URL=postgres://mend:secret@localhost:5432/mend": "needs that PostgreSQL server; "
    "scripts/test.sh runs the whole suite on a throwaway PostgreSQL cluster",
    "mend migrate && mend serve": "the PostgreSQL example above",
    ".venv/bin/pytest tests/test_api.py -q": "a test run inside this one",
}
TABLE_ROWS_NOT_RUN = {
    "mend serve": "a server: started from its row for the curl example",
    "mend bench": "what make bench runs",
    "mend bench_billing_reports": "seeds 10,000 clients; tests/billing/test_bench_reports.py runs it at 20",
}
# Values for the table's placeholders (P, the port, is chosen when the server starts).
EXAMPLES = {"EMAIL": "owner@example.org", "SLUG": "harbour", "M": "1", "N": "20"}
# The suite runs with these set; a newcomer's shell has none of them.
STRIPPED = {"SECRET_KEY", "MEND_AUDIT_KEY", "DATABASE_URL", "DEBUG", "ALLOWED_HOSTS", "PORT", "VIRTUAL_ENV"}
README_PORT = "8000"


@dataclass(frozen=True)
class Block:
    lines: tuple[str, ...]

    @property
    def needs_server(self) -> bool:
        return any(f"127.0.0.1:{README_PORT}" in line for line in self.lines)


def _without_comment(line: str) -> str:
    return re.sub(r"\s+#\s.*$", "", line).strip()


def sh_blocks() -> list[Block]:
    """The fenced sh blocks, blank and comment lines dropped, trailing comments cut."""
    blocks = []
    for body in re.findall(r"^```sh\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL):
        lines = [_without_comment(line) for line in body.splitlines()]
        blocks.append(Block(tuple(line for line in lines if line and not line.startswith("#"))))
    return blocks


def table_rows() -> list[str]:
    """The commands in the first column of "The `mend` command" table, as printed there."""
    section = README.split("## The `mend` command", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(mend [^`]+)` \|", section, flags=re.MULTILINE)


def row_name(row: str) -> str:
    """The command a row documents, without options or placeholders: `mend token create`."""
    words = []
    for word in row.split():
        if word.startswith(("-", "[")) or re.fullmatch(r"[A-Z]+", word):
            break
        words.append(word)
    return " ".join(words)


def fill_placeholders(row: str, **extra: str) -> str:
    """`mend token create EMAIL [--clinic SLUG]` → `mend token create owner@example.org --clinic harbour`."""
    values = {**EXAMPLES, **extra}
    words = row.replace("[", "").replace("]", "").split()
    unknown = [w for w in words if re.fullmatch(r"[A-Z]+", w) and w not in values]
    assert not unknown, f"README row {row!r} has placeholders {unknown}: give them a value in EXAMPLES"
    return " ".join(values.get(w, w) for w in words)


def _runs(lines: tuple[str, ...], checkout: Path) -> list[str]:
    """The lines of a block that are run; fails on a make target nobody said to skip."""
    run = []
    for line in lines:
        make = re.fullmatch(r"make (\S+)", line)
        if make:
            assert make.group(1) in MAKE_TARGETS_NOT_RUN, f"README shows `{line}`: run it here or say why not"
            continue
        if line in LINES_NOT_RUN:
            for word in shlex.split(line):
                if "/" in word and "://" not in word:
                    found = (checkout / word).exists() or (REPO / word).exists()
                    assert found, f"README shows `{line}`, but {word} does not exist"
            continue
        run.append(line)
    return run


def _newcomer_env(**extra: str) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in STRIPPED and not k.startswith(("MEND_", "DJANGO_", "PYTEST_"))
    }
    # `mend …` as the table shows it: the virtualenv's bin first on PATH, as after activating it.
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def _bash(script: str, *, cwd: Path, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def _explain(what: str, result: subprocess.CompletedProcess[str]) -> str:
    return (
        f"README command failed (exit {result.returncode}):\n  {what}\n"
        f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory shaped like a checkout after `make demo`: var/ loaded, .venv beside it."""
    root = tmp_path_factory.mktemp("readme")
    (root / ".venv").symlink_to(VENV, target_is_directory=True)
    assert (root / ".venv" / "bin" / "mend").exists(), f"{VENV}/bin/mend is missing: install Mend (make test)"
    # The Makefile's demo target, its serve line aside: DEMO_ENV is MEND_ENV=demo MEND_VAR_DIR=$(CURDIR)/var.
    demo_env = _newcomer_env(MEND_ENV="demo", MEND_VAR_DIR=str(root / "var"))
    for command in ("migrate --noinput -v 0", "collectstatic --noinput -v 0", "demo"):
        result = _bash(f".venv/bin/mend {command}", cwd=root, env=demo_env)
        assert result.returncode == 0, _explain(f"(make demo) mend {command}", result)
    return root


@pytest.fixture(scope="module")
def server(checkout: Path) -> Iterator[int]:
    """`mend serve --port P` from the table, in the demo checkout; yields the port once it answers."""
    (row,) = [r for r in table_rows() if r.startswith("mend serve")]
    port = _free_port()
    command = fill_placeholders(row, P=str(port))
    log = checkout / "serve.log"
    with log.open("wb") as out:
        # Two workers are enough here; WEB_CONCURRENCY is in the README's configuration table.
        proc = subprocess.Popen(
            ["bash", "-c", f"exec {command}"],
            cwd=checkout,
            env=_newcomer_env(WEB_CONCURRENCY="2"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"`{command}` exited with {proc.returncode}:\n{log.read_text()[-3000:]}", pytrace=False)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"`{command}` did not answer within 90 s:\n{log.read_text()[-3000:]}", pytrace=False)
            time.sleep(0.1)
        yield port
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: gunicorn's master and workers
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


def test_the_readme_shows_the_commands_this_module_checks():
    """The extraction finds what it must, and every line said not to run is still in the README."""
    rows = [fill_placeholders(r) for r in table_rows() if row_name(r) not in TABLE_ROWS_NOT_RUN]
    assert "mend token create owner@example.org --clinic harbour --days 20" in rows
    assert "mend audit verify" in rows
    assert {row_name(r) for r in table_rows()} >= set(TABLE_ROWS_NOT_RUN)
    assert [b for b in sh_blocks() if b.needs_server], "the curl example against the demo server is gone"
    shown = {line for block in sh_blocks() for line in block.lines}
    assert set(LINES_NOT_RUN) <= shown, f"no longer in the README: {set(LINES_NOT_RUN) - shown}"


def test_make_demo_leaves_its_profile_for_the_commands_that_follow(checkout: Path):
    assert (checkout / "var" / "mend-profile").read_text().strip() == "demo"


def test_the_mend_command_table_runs_without_mend_env(checkout: Path):
    """`mend demo` again, `mend seed`, `mend token create`, `mend audit verify`: each exits 0."""
    ran = []
    for row in table_rows():
        if row_name(row) in TABLE_ROWS_NOT_RUN:
            continue
        command = fill_placeholders(row)
        result = _bash(command, cwd=checkout, env=_newcomer_env())
        assert result.returncode == 0, _explain(command, result)
        ran.append(command)
        if command.startswith("mend token create"):
            assert re.fullmatch(r"\S{20,}", result.stdout.strip().splitlines()[-1]), _explain(command, result)
    assert "mend audit verify" in ran


def test_the_readme_shell_blocks_run_without_mend_env(checkout: Path):
    """Every sh block without a server; the TOKEN=… and curl block is the next test."""
    for block in sh_blocks():
        lines = _runs(block.lines, checkout)
        if not lines or block.needs_server:
            continue
        script = "\n".join(["set -euo pipefail", *lines])
        result = _bash(script, cwd=checkout, env=_newcomer_env())
        assert result.returncode == 0, _explain("\n  ".join(lines), result)


def test_the_readme_api_example_answers_json(checkout: Path, server: int, tmp_path: Path):
    """TOKEN=$(.venv/bin/mend token create …) then curl, on the port the server took."""
    (block,) = [b for b in sh_blocks() if b.needs_server]
    lines = [line.replace(f"127.0.0.1:{README_PORT}", f"127.0.0.1:{server}") for line in _runs(block.lines, checkout)]
    # curl as the README types it, but each response's body and status kept for the checks below.
    capture = f"""
_calls=0
curl() {{
  _calls=$((_calls + 1))
  command curl --silent --show-error --max-time 30 --output {tmp_path}/body-$_calls \\
    --write-out '%{{http_code}}' "$@" > {tmp_path}/status-$_calls
}}
"""
    script = "\n".join(["set -euo pipefail", capture, *lines])
    result = _bash(script, cwd=checkout, env=_newcomer_env())
    what = "\n  ".join(lines)
    assert result.returncode == 0, _explain(what, result)
    statuses = sorted(tmp_path.glob("status-*"))
    assert statuses, f"no curl ran:\n  {what}"
    for status in statuses:
        body = tmp_path / status.name.replace("status", "body")
        assert status.read_text() == "200", f"{what}\nanswered {status.read_text()}: {body.read_text()[:2000]}"
        json.loads(body.read_text())
