from __future__ import annotations

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


def merge_validation_error(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's validation error on the form, on the field it names where there is one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def errors_by_field(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {("__all__" if k == NON_FIELD_ERRORS else k): v for k, v in error.message_dict.items()}
    return {"__all__": list(error.messages)}
