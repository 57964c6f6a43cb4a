"""Forms of the SOAP note and its addenda. They shape input; ``services.note_update`` validates
again and writes."""

from __future__ import annotations

from typing import Any

from django import forms

from mend.clinical.forms.plans import PRESSURE_CHOICES, SIDE_OPTIONS, RowForm, region_options, technique_options
from mend.clinical.models import TreatmentNote
from mend.clinical.services import MODALITIES, TechniqueInput
from mend.people.forms import DateInput


def _score_widget(**attrs: Any) -> forms.NumberInput:
    return forms.NumberInput(attrs={"min": 0, "max": 10, "step": 1, "inputmode": "numeric", **attrs})


class NoteForm(forms.ModelForm):
    """Every field of a draft note except its techniques (a formset beside it)."""

    modalities = forms.MultipleChoiceField(
        choices=[(m, m.capitalize()) for m in MODALITIES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Modalities used",
    )

    class Meta:
        model = TreatmentNote
        fields = [
            "subjective",
            "pain_pre",
            "sleep_quality",
            "stress",
            "muscle_tension",
            "medication_days",
            "medication_note",
            "objective",
            "modalities",
            "pain_post",
            "response",
            "adverse_events",
            "home_care",
            "plan_next",
            "visit_on",
            "duration_minutes",
        ]
        labels = {
            "subjective": "Client report",
            "pain_pre": "Pain before (0–10)",
            "sleep_quality": "Sleep since last visit (0–10)",
            "stress": "Stress since last visit (0–10)",
            "muscle_tension": "Muscle tension since last visit (0–10)",
            "medication_days": "Days with pain medication, of the last 7",
            "medication_note": "Pain medication taken",
            "pain_post": "Pain after (0–10)",
            "visit_on": "Visit date",
            "duration_minutes": "Session length (minutes)",
        }
        help_texts = {
            "sleep_quality": "0 = very poor, 10 = very good.",
            "stress": "0 = none, 10 = worst.",
            "muscle_tension": "0 = none, 10 = worst.",
            "medication_days": "0 to 7.",
            "medication_note": "As the client says it, e.g. ibuprofen 400 mg twice on bad days.",
            "adverse_events": "Bruising, soreness beyond 48 hours, dizziness… Leave empty if none.",
        }
        widgets = {
            "subjective": forms.Textarea(attrs={"rows": 3, "autofocus": True}),
            "pain_pre": _score_widget(),
            "sleep_quality": _score_widget(),
            "stress": _score_widget(),
            "muscle_tension": _score_widget(),
            "medication_days": _score_widget(max=7),
            "objective": forms.Textarea(attrs={"rows": 3}),
            "pain_post": _score_widget(),
            "response": forms.Textarea(attrs={"rows": 2}),
            "adverse_events": forms.Textarea(attrs={"rows": 2}),
            "home_care": forms.Textarea(attrs={"rows": 2}),
            "plan_next": forms.Textarea(attrs={"rows": 2}),
            "visit_on": DateInput(),
            "duration_minutes": forms.NumberInput(attrs={"min": 5, "max": 180, "step": 5}),
        }

    def note_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


class NoteTechniqueForm(RowForm):
    row_fields = ("technique", "region", "minutes", "pressure")

    technique = forms.ChoiceField(choices=technique_options, required=False)
    region = forms.ChoiceField(choices=lambda: region_options("Choose a region"), required=False)
    side = forms.ChoiceField(choices=SIDE_OPTIONS, required=False)
    minutes = forms.IntegerField(
        min_value=1, max_value=120, required=False, widget=forms.NumberInput(attrs={"min": 1, "max": 120})
    )
    pressure = forms.TypedChoiceField(choices=PRESSURE_CHOICES, coerce=int, empty_value=None, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.is_blank():
            for name, message in (
                ("technique", "Choose a technique."),
                ("region", "Say where on the body."),
                ("minutes", "How many minutes?"),
                ("pressure", "Choose the pressure level."),
            ):
                if data.get(name) in (None, "") and name not in self.errors:
                    self.add_error(name, message)
        return data

    def item(self) -> TechniqueInput:
        data = self.cleaned_data
        return TechniqueInput(
            technique=data["technique"],
            region=data["region"],
            minutes=data["minutes"],
            pressure=data["pressure"],
            side=data.get("side") or "",
        )


NoteTechniqueFormSet = forms.formset_factory(NoteTechniqueForm, extra=1, can_delete=True, max_num=30)


class AddendumForm(forms.Form):
    reason = forms.CharField(
        max_length=200, required=False, help_text="For example: correction, late entry, client called afterwards."
    )
    text = forms.CharField(label="Addendum", widget=forms.Textarea(attrs={"rows": 4}))
