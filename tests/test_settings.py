"""Settings come from the environment, reject bad values, and are safe in production."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mend import settings as mend_settings
from mend.env import EnvError, env_bool, env_choice, env_int, env_list


def test_env_bool_rejects_typos_naming_the_variable():
    with pytest.raises(EnvError, match="DEBUG"):
        env_bool("DEBUG", False, environ={"DEBUG": "ture"})


def test_env_int_enforces_bounds():
    assert env_int("PORT", 1, environ={"PORT": "8000"}, maximum=65535) == 8000
    with pytest.raises(EnvError, match="EMAIL_PORT"):
        env_int("EMAIL_PORT", 25, environ={"EMAIL_PORT": "70000"}, maximum=65535)
    with pytest.raises(EnvError, match="whole number"):
        env_int("EMAIL_PORT", 25, environ={"EMAIL_PORT": "twenty"})


def test_env_list_and_choice():
    assert env_list("ALLOWED_HOSTS", [], environ={"ALLOWED_HOSTS": "a.org, b.org,"}) == ["a.org", "b.org"]
    with pytest.raises(EnvError, match="MEND_ENV"):
        env_choice("MEND_ENV", "production", ("production", "demo"), environ={"MEND_ENV": "prod"})


def _mend(args: list[str], env: dict[str, str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MEND_", "DJANGO_", "DATABASE_URL"))}
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "mend", *args],
        env=base,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = _mend(["check"], {"MEND_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_check_deploy_is_clean_under_production_defaults(tmp_path):
    env = {
        "MEND_VAR_DIR": str(tmp_path),
        "SECRET_KEY": "p" * 30 + "-Zq8!" + "r" * 30,
        "MEND_AUDIT_KEY": "a" * 64,
        "ALLOWED_HOSTS": "clinic.example.org",
    }
    result = _mend(["check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_a_profile_marker_still_refuses_to_start(tmp_path):
    (tmp_path / "var").mkdir()
    result = _mend(["check"], {}, cwd=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when MEND_ENV=production" in result.stderr
    assert "mend-profile does not exist" in result.stderr


def test_a_demo_checkout_runs_as_its_marker_says_without_mend_env(tmp_path):
    """What `make demo` leaves behind: var/mend-profile. Commands typed later find it in ./var."""
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "mend-profile").write_text("demo\n")
    result = _mend(
        ["shell", "-v", "0", "-c", "from django.conf import settings; print(settings.MEND_ENV, settings.VAR_DIR)"],
        {},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["demo", str((tmp_path / "var").resolve())]
    assert (tmp_path / "var" / "secret_key").exists()  # the demo's keys, generated in its own var/


def test_mend_env_wins_over_the_marker(tmp_path):
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "mend-profile").write_text("demo\n")
    result = _mend(["check"], {"MEND_ENV": "production"}, cwd=tmp_path)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when MEND_ENV=production" in result.stderr


def test_a_marker_naming_no_profile_is_refused_naming_the_file(tmp_path):
    (tmp_path / "mend-profile").write_text("prod\n")
    result = _mend(["check"], {"MEND_VAR_DIR": str(tmp_path)})
    assert result.returncode != 0
    assert f"{tmp_path / 'mend-profile'} must name one of production, demo, development, test" in result.stderr


def test_an_editable_checkout_finds_its_own_var_dir_from_anywhere(tmp_path):
    checkout = tmp_path / "checkout"
    (checkout / "src" / "mend").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text("")
    (checkout / "var").mkdir()
    (checkout / "var" / "mend-profile").write_text("development\n")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    found = mend_settings._var_dir_and_profile(environ={}, cwd=elsewhere, base_dir=checkout / "src" / "mend")
    var_dir = (checkout / "var").resolve()
    assert found == (var_dir, "development", var_dir / "mend-profile")


def test_an_installed_package_never_looks_beside_itself(tmp_path):
    """A wheel in site-packages: a var/ next to it is not a checkout's, so production stays the default."""
    site = tmp_path / "lib" / "site-packages"
    (site / "mend").mkdir(parents=True)
    (tmp_path / "lib" / "pyproject.toml").write_text("")
    (tmp_path / "lib" / "var").mkdir()
    (tmp_path / "lib" / "var" / "mend-profile").write_text("demo\n")
    found = mend_settings._var_dir_and_profile(environ={}, cwd=tmp_path, base_dir=site / "mend")
    assert found == ((tmp_path / "var").resolve(), "production", None)
