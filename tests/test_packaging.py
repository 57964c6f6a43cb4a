"""Mend installs from its own metadata: `pip install` brings everything the code imports.

The Makefile once installed Mend with `--no-deps` after the pinned requirements, which hid that
pyproject.toml left out packages the code imports. Here a plain virtualenv (no system site
packages) gets Mend the way a deployment would, with only the pins as constraints.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from django.conf import settings

REPO = Path(__file__).resolve().parent.parent
SRC = REPO / "src" / "mend"


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return {_canonical(re.split(r"[\s<>=!~\[;]", dependency, maxsplit=1)[0]) for dependency in dependencies}


def _runtime_modules() -> set[str]:
    """Top-level modules imported by Mend's own code or named in its settings. Tests and the test
    support modules (mend/testing.py, testenv.py, …: their names start with "test") are left out:
    what they import comes from requirements/test.in."""
    found = set()
    for path in SRC.rglob("*.py"):
        relative = path.relative_to(SRC)
        if "tests" in relative.parts or path.name.startswith("test"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    dotted = [
        *settings.INSTALLED_APPS,
        *settings.MIDDLEWARE,
        *settings.AUTHENTICATION_BACKENDS,
        *(storage["BACKEND"] for storage in settings.STORAGES.values()),
        "gunicorn",  # `mend serve` runs it as `python -m gunicorn`
    ]
    found.update(name.split(".")[0] for name in dotted)
    return {m for m in found if m not in sys.stdlib_module_names and m not in ("mend", "__future__")}


def test_pyproject_declares_every_package_the_code_imports():
    providers = packages_distributions()
    declared = _declared()
    missing = {}
    for module in sorted(_runtime_modules()):
        distributions = {_canonical(d) for d in providers.get(module, [])}
        assert distributions, f"{module} is imported but no installed distribution provides it"
        if not distributions & declared:
            missing[module] = sorted(distributions)
    assert not missing, f"imported but not in pyproject.toml's dependencies: {missing}"


def _run(args: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, (
        f"{' '.join(args)} exited {result.returncode}:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    )
    return result


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"), reason="no database involved: runs in the SQLite pass"
)
def test_a_plain_install_runs_without_the_checkout_or_setuptools(tmp_path: Path):
    """Build a fresh virtualenv, `pip install` Mend (not editable), drop setuptools, and use it."""
    # A copy of what the package is built from, so the build leaves nothing in the checkout.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    env = {k: v for k, v in env.items() if not k.startswith(("MEND_", "DJANGO_", "DATABASE_URL"))}

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], env=env, cwd=tmp_path)
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    python = str(venv / "bin" / "python")
    # The machine's pip configuration (its index and wheel cache) applies; the pins keep versions.
    _run(
        [python, "-m", "pip", "install", "--quiet", "-c", str(REPO / "requirements" / "base.txt"), str(source)],
        env=env,
        cwd=tmp_path,
    )
    _run([python, "-m", "pip", "uninstall", "--quiet", "--yes", "setuptools"], env=env, cwd=tmp_path)

    run_env = {
        **env,
        "MEND_ENV": "test",
        "MEND_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "mend.settings",
    }
    here = tmp_path / "elsewhere"  # not the source copy: mend must come from site-packages
    here.mkdir()
    absent = "import importlib.util as u; assert not (u.find_spec('setuptools') or u.find_spec('pkg_resources'))"
    _run([python, "-c", absent], env=run_env, cwd=here)

    found = _run([python, "-c", "import mend.clinical.icd10 as i; print(i.lookup('M54.50'))"], env=run_env, cwd=here)
    assert "Low back pain, unspecified" in found.stdout

    script = "\n".join(
        [
            "import sys, django",
            "django.setup()",
            "import mend, mend.outcomes.charts, mend.outcomes.stats",
            "from mend.clinical import icd10",
            "assert '/site-packages/mend/' in mend.__file__, mend.__file__",
            # The conditions knowledge base (package data) turns "neck pain" into cervicalgia.
            "assert icd10.search('neck pain')[0].code == 'M54.2'",
            "assert not [m for m in sys.modules if m.split('.')[0] in ('pkg_resources', 'setuptools')]",
        ]
    )
    _run([python, "-c", script], env=run_env, cwd=here)

    help_text = _run([str(venv / "bin" / "mend"), "--help"], env=run_env, cwd=here)
    assert "[demo]" in help_text.stdout and "[audit]" in help_text.stdout  # Mend's own commands are listed
