"""Settings come from the environment, reject bad values, and are safe in production."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

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


def _mend(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("MEND_", "DJANGO_", "DATABASE_URL"))}
    base.update(env)
    return subprocess.run(
        [sys.executable, "-m", "mend", *args], env=base, capture_output=True, text=True, timeout=120, check=False
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
