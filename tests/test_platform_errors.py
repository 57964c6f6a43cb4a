"""A service's ValidationError, keyed by field path, shown once per interface: beside the field or
formset row on a page, under a dotted name in the API's 422."""

from __future__ import annotations

import json

from django import forms
from django.core.exceptions import ValidationError
from django.test import RequestFactory

from mend.platform.api import invalid
from mend.platform.pages import merge_validation_error


class VisitForm(forms.Form):
    visit_on = forms.DateField(required=False)


class TechniqueForm(forms.Form):
    technique = forms.CharField(required=False)
    pressure = forms.IntegerField(required=False)


TechniqueFormSet = forms.formset_factory(TechniqueForm, extra=0)


def _bound() -> tuple[VisitForm, forms.BaseFormSet]:
    form = VisitForm({"visit_on": "2025-03-04"})
    rows = TechniqueFormSet(
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "0",
            "form-0-technique": "effleurage",
            "form-1-technique": "petrissage",
        }
    )
    assert form.is_valid() and rows.is_valid()
    return form, rows


def test_page_shows_each_path_beside_its_field_or_row():
    form, rows = _bound()
    error = ValidationError(
        {
            "visit_on": "Not a visit day.",
            "techniques[1].pressure": "Too firm for this region.",
            "techniques[0]": "Contraindicated today.",
            "techniques": "At most six techniques.",
            "__all__": "Signed notes cannot change.",
        }
    )
    merge_validation_error(form, error, formsets={"techniques": rows})
    assert form.errors["visit_on"] == ["Not a visit day."]
    assert form.non_field_errors() == ["Signed notes cannot change."]
    assert rows.forms[1].errors["pressure"] == ["Too firm for this region."]
    assert rows.forms[0].non_field_errors() == ["Contraindicated today."]
    assert list(rows.non_form_errors()) == ["At most six techniques."]


def test_page_keeps_a_message_whose_place_it_does_not_show():
    form, _ = _bound()
    merge_validation_error(form, ValidationError({"techniques[4].pressure": "Too firm.", "colour": "Unknown."}))
    assert sorted(form.non_field_errors()) == ["Too firm.", "Unknown."]


def test_api_names_paths_with_dots_and_the_payloads_own_keys():
    request = RequestFactory().post("/api/v1/anything")
    error = ValidationError(
        {"techniques[2].pressure": "Too firm.", "primary_therapist": "Not a therapist.", "__all__": "Refused."}
    )
    response = invalid(request, error, rename={"primary_therapist": "primary_therapist_id"})
    assert response.status_code == 422
    assert json.loads(response.content) == {
        "detail": "The input is not valid.",
        "errors": {
            "techniques.2.pressure": ["Too firm."],
            "primary_therapist_id": ["Not a therapist."],
            "__all__": ["Refused."],
        },
    }


def test_api_reports_an_invalid_forms_errors_in_the_same_shape():
    form = VisitForm({"visit_on": "someday"})
    assert not form.is_valid()
    response = invalid(RequestFactory().get("/"), form)
    assert json.loads(response.content)["errors"] == {"visit_on": ["Enter a valid date."]}
