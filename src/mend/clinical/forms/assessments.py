"""Forms of the assessment page: the assessment itself and one formset per kind of row.

Rows only parse what was typed; the ranges (pain 0–10, a motion's plausible degrees) are the
service's to check, so its message — which names the norm — shows beside the row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from django import forms

from mend import knowledge
from mend.clinical.models import SIDE_CHOICES, AssessmentKind, PainQuality, PalpationKind, RomMode
from mend.clinical.services import PainInput, PalpationInput, PsfsInput, RomInput
from mend.people.forms import DateInput

SIDE_OPTIONS = [("", "—"), *SIDE_CHOICES]


def region_options() -> list[tuple[str, str]]:
    return [("", "Choose a region"), *knowledge.region_choices()]


def motion_options() -> list[tuple[str, Any]]:
    """Joint motions of the norm table, grouped by body region in the region list's order."""
    regions = knowledge.body_regions()
    groups: dict[str, list[tuple[str, str]]] = {}
    for motion in knowledge.rom_motions().values():
        groups.setdefault(motion.region, []).append((motion.id, motion.name))
    ordered = [(regions[r].name, groups[r]) for r in regions if r in groups]
    return [("", "Choose a motion"), *ordered]


def _number(attrs: dict[str, str] | None = None) -> forms.NumberInput:
    return forms.NumberInput(attrs={"inputmode": "numeric", "class": "num", **(attrs or {})})


class AssessmentForm(forms.Form):
    kind = forms.ChoiceField(choices=AssessmentKind.choices, label="Kind")
    assessed_on = forms.DateField(label="Date", widget=DateInput())
    chief_complaint = forms.CharField(
        label="Chief complaint", widget=forms.Textarea(attrs={"rows": 2}), help_text="In the client's words."
    )
    history = forms.CharField(
        label="History of the complaint", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    nprs = forms.IntegerField(
        label="Pain now (NPRS 0–10)",
        required=False,
        widget=_number({"min": "0", "max": "10"}),
        help_text="0 = no pain, 10 = worst pain imaginable.",
    )
    posture = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def data_for_service(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.fields}


class InputRowForm(forms.Form):
    """A row of a RowFormSet: each kind's ``to_input()`` gives what the service takes for it."""

    to_input: Callable[[], Any]


class PainRowForm(InputRowForm):
    region = forms.ChoiceField(choices=region_options, label="Region")
    side = forms.ChoiceField(choices=SIDE_OPTIONS, required=False, label="Side")
    intensity = forms.IntegerField(label="Intensity (0–10)", widget=_number({"min": "0", "max": "10"}))
    quality = forms.ChoiceField(choices=[("", "—"), *PainQuality.choices], required=False, label="Quality")

    def to_input(self) -> PainInput:
        d = self.cleaned_data
        return PainInput(region=d["region"], side=d.get("side") or "", intensity=d["intensity"], quality=d["quality"])


class RomRowForm(InputRowForm):
    motion = forms.ChoiceField(choices=motion_options, label="Motion")
    side = forms.ChoiceField(choices=SIDE_OPTIONS, required=False, label="Side")
    mode = forms.ChoiceField(choices=RomMode.choices, initial=RomMode.ACTIVE, label="Active / passive")
    degrees = forms.IntegerField(label="Degrees", widget=_number({"min": "0", "max": "360"}))

    def to_input(self) -> RomInput:
        d = self.cleaned_data
        return RomInput(motion=d["motion"], side=d.get("side") or "", mode=d["mode"], degrees=d["degrees"])


class PsfsRowForm(InputRowForm):
    activity = forms.CharField(max_length=120, label="Activity")
    score = forms.IntegerField(label="Score (0–10)", widget=_number({"min": "0", "max": "10"}))

    def to_input(self) -> PsfsInput:
        return PsfsInput(activity=self.cleaned_data["activity"], score=self.cleaned_data["score"])


class PalpationRowForm(InputRowForm):
    region = forms.ChoiceField(choices=region_options, label="Region")
    side = forms.ChoiceField(choices=SIDE_OPTIONS, required=False, label="Side")
    kind = forms.ChoiceField(choices=[("", "Choose"), *PalpationKind.choices], label="Finding")
    note = forms.CharField(max_length=200, required=False, label="Note")

    def to_input(self) -> PalpationInput:
        d = self.cleaned_data
        return PalpationInput(region=d["region"], side=d.get("side") or "", kind=d["kind"], note=d["note"])


class RowFormSet(forms.BaseFormSet):
    """Rows of one kind. Rows already saved are initial forms and always count; suggested rows
    (say, last time's PSFS activities on a re-evaluation) are extra forms with initial values, so
    a suggestion left untouched is skipped like a blank row."""

    def __init__(self, *args: Any, suggestions: Sequence[dict[str, Any]] = (), blanks: int = 0, **kwargs: Any) -> None:
        self.suggestions = list(suggestions)
        self.extra = len(self.suggestions) + blanks
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        if index is None:
            return {}
        offset = index - self.initial_form_count()
        if 0 <= offset < len(self.suggestions):
            return {"initial": self.suggestions[offset]}
        return {}


def row_formset(form: type[InputRowForm], *, max_num: int, absolute_max: int) -> type[RowFormSet]:
    """A RowFormSet of ``form`` rows, each removable, at most ``max_num`` of them."""
    formset = forms.formset_factory(
        form, formset=RowFormSet, can_delete=True, max_num=max_num, absolute_max=absolute_max, validate_max=True
    )
    # formset_factory subclasses the formset it is given; django-stubs types the result as BaseFormSet.
    return cast(type[RowFormSet], formset)


PainFormSet = row_formset(PainRowForm, max_num=40, absolute_max=60)
RomFormSet = row_formset(RomRowForm, max_num=40, absolute_max=60)
PsfsFormSet = row_formset(PsfsRowForm, max_num=40, absolute_max=60)
PalpationFormSet = row_formset(PalpationRowForm, max_num=40, absolute_max=60)

ROW_SETS: dict[str, type[RowFormSet]] = {
    "pain": PainFormSet,
    "rom": RomFormSet,
    "psfs": PsfsFormSet,
    "palpation": PalpationFormSet,
}


def filled_rows(formset: RowFormSet) -> list[InputRowForm]:
    """Rows of a valid formset that hold something and are not marked for removal, in order."""
    return [form for form in formset.forms if form.cleaned_data and not form.cleaned_data.get("DELETE")]
