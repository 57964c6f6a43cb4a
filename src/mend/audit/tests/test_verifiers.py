"""MEND_AUDIT_VERIFIERS: other apps' checks run by `mend audit verify` without the audit app importing them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command

from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.clinics.models import Clinic

pytestmark = pytest.mark.django_db
HERE = __name__
CALLS: list[int | None] = []


def all_well(clinic_id: int | None) -> list[str]:
    CALLS.append(clinic_id)
    return []


def seal_mismatch(clinic_id: int | None) -> list[str]:
    return ["note 12: content does not match the seal recorded at seq 7"]


@pytest.fixture
def harbour():
    CALLS.clear()
    clinic = Clinic.objects.create(name="Harbour", slug="harbour")
    audit_record(action=Action.VIEW, object_type="people.client", object_id=1, clinic_id=clinic.pk)
    return clinic


def test_verifiers_run_after_the_chain_walk_for_every_clinic(harbour, settings, capsys):
    settings.MEND_AUDIT_VERIFIERS = [f"{HERE}.all_well"]
    call_command("audit", "verify")
    assert CALLS == [None]
    assert f"{HERE}.all_well: no problems." in capsys.readouterr().out


def test_verifiers_get_the_clinic_asked_for(harbour, settings):
    settings.MEND_AUDIT_VERIFIERS = [f"{HERE}.all_well"]
    call_command("audit", "verify", "--clinic", "harbour")
    assert [harbour.pk] == CALLS


def test_a_verifiers_problems_fail_verification_naming_it(harbour, settings):
    settings.MEND_AUDIT_VERIFIERS = [f"{HERE}.all_well", f"{HERE}.seal_mismatch"]
    with pytest.raises(CommandError) as failure:
        call_command("audit", "verify")
    assert failure.value.returncode == 1
    assert str(failure.value) == f"{HERE}.seal_mismatch: note 12: content does not match the seal recorded at seq 7"


def test_a_verifier_that_cannot_be_imported_is_a_configuration_error(harbour, settings):
    settings.MEND_AUDIT_VERIFIERS = ["mend.nowhere.verify_things"]
    with pytest.raises(ImproperlyConfigured, match=r"'mend\.nowhere\.verify_things'"):
        call_command("audit", "verify")


def test_no_verifiers_by_default(harbour, settings, capsys):
    del settings.MEND_AUDIT_VERIFIERS
    call_command("audit", "verify")
    assert "Audit chains intact: 1 row(s) in 1 chain(s) verified." in capsys.readouterr().out
