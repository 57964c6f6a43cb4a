"""Forms for goals and the plan of care. They only shape input: the services validate and write."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeVar, cast

from django import forms

from mend import knowledge
from mend.clinical.models import SIDE_CHOICES, PlanOfCare
from mend.core.measure_schedule import (
    LEGACY_TEXT_MAX,
    MAX_EVERY_SESSIONS,
    MAX_EVERY_WEEKS,
    PlanMeasure,
    Schedule,
)
from mend.knowledge.outcome_measures import measures
from mend.people.forms import DateInput

PRESSURE_CHOICES = [
    ("", "—"),
    ("1", "1 · light"),
    ("2", "2 · light to moderate"),
    ("3", "3 · moderate"),
    ("4", "4 · firm"),
    ("5", "5 · very deep"),
]
SIDE_OPTIONS = [("", "—"), *SIDE_CHOICES]


def technique_options() -> list[tuple[str, str]]:
    return [("", "Choose a technique"), *knowledge.technique_choices()]


def region_options(blank: str = "Whole body / not specific") -> list[tuple[str, str]]:
    return [("", blank), *knowledge.region_choices()]


def home_kind_options() -> list[tuple[str, str]]:
    return [(kind, kind.replace("_", "-").capitalize()) for kind in knowledge.HOME_PROGRAM_KINDS]


def measure_options() -> list[tuple[str, str]]:
    """Outcome measures from the registry (mend.knowledge.outcome_measures), by short name and construct."""
    return [("", "Choose a measure"), *((m.id, f"{m.short} · {m.construct}") for m in measures().values())]


# --- Goals ------------------------------------------------------------------------------------

MEASURE_KINDS = [("nprs", "Pain (NPRS 0–10)"), ("psfs", "A PSFS activity (0–10)"), ("rom", "Range of motion (°)")]


class GoalForm(forms.Form):
    """A goal's measure is chosen in parts (kind, then activity or motion and side) and stored as
    one key: ``nprs``, ``psfs:<activity>`` or ``rom:<motion>:<side>``."""

    description = forms.CharField(
        max_length=200, help_text="In the client's words where you can: “Sit through a film without pain”."
    )
    measure_kind = forms.ChoiceField(label="Measured by", choices=MEASURE_KINDS, widget=forms.RadioSelect)
    psfs_activity = forms.CharField(
        label="PSFS activity",
        max_length=120,
        required=False,
        help_text="Pick an activity from the assessments or type a new one.",
        widget=forms.TextInput(attrs={"list": "psfs-activities", "autocomplete": "off"}),
    )
    rom_motion = forms.ChoiceField(label="Motion", required=False)
    rom_side = forms.ChoiceField(label="Side", required=False, choices=SIDE_OPTIONS)
    baseline = forms.DecimalField(
        max_digits=6,
        decimal_places=1,
        required=False,
        help_text="Leave empty to use the latest measurement.",
        widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"}),
    )
    target = forms.DecimalField(
        max_digits=6, decimal_places=1, widget=forms.NumberInput(attrs={"step": "0.5", "inputmode": "decimal"})
    )
    due_on = forms.DateField(label="Due by", required=False, widget=DateInput())

    def __init__(self, *args: Any, latest: dict[str, float] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.latest = latest or {}
        cast(forms.ChoiceField, self.fields["rom_motion"]).choices = [
            ("", "Choose a motion"),
            *((m.id, m.name) for m in knowledge.rom_motions().values()),
        ]

    @staticmethod
    def initial_for(measure: str) -> dict[str, str]:
        kind, _, rest = measure.partition(":")
        if kind == "psfs":
            return {"measure_kind": "psfs", "psfs_activity": rest}
        if kind == "rom":
            motion, _, side = rest.partition(":")
            return {"measure_kind": "rom", "rom_motion": motion, "rom_side": side}
        return {"measure_kind": kind}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("measure_kind")
        measure = ""
        if kind == "nprs":
            measure = "nprs"
        elif kind == "psfs":
            activity = " ".join((data.get("psfs_activity") or "").split())
            if not activity:
                self.add_error("psfs_activity", "Name the activity the client finds hard.")
            measure = f"psfs:{activity}"
        elif kind == "rom":
            if not data.get("rom_motion"):
                self.add_error("rom_motion", "Choose the motion to measure.")
            measure = f"rom:{data.get('rom_motion', '')}:{data.get('rom_side', '')}"
        data["measure"] = measure
        measure_ok = not any(name in self.errors for name in ("measure_kind", "psfs_activity", "rom_motion"))
        if data.get("baseline") is None and "baseline" not in self.errors and measure_ok:
            key = "psfs:" + measure[5:].lower() if measure.startswith("psfs:") else measure
            if key in self.latest:
                data["baseline"] = Decimal(str(self.latest[key]))
            elif kind:
                self.add_error("baseline", "Nothing measured yet for this measure: enter the baseline.")
        return data

    def goal_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "description": data["description"],
            "measure": data["measure"],
            "baseline": data["baseline"],
            "target": data["target"],
            "due_on": data.get("due_on"),
        }


# Which goal form field shows a service error about the stored measure.
GOAL_ERROR_FIELDS = {"measure": "measure_kind", "direction": "measure_kind"}


# --- Plan of care -------------------------------------------------------------------------------


class PlanForm(forms.ModelForm):
    class Meta:
        model = PlanOfCare
        fields = ["sessions_per_week", "weeks", "session_minutes", "re_evaluation_on", "home_care"]
        labels = {"session_minutes": "Session length (minutes)", "re_evaluation_on": "Re-evaluate on"}
        help_texts = {"session_minutes": "30 to 90 minutes; 60 unless there is a reason."}
        widgets = {
            "sessions_per_week": forms.NumberInput(attrs={"min": 1, "max": 7}),
            "weeks": forms.NumberInput(attrs={"min": 1, "max": 52}),
            "session_minutes": forms.NumberInput(attrs={"min": 30, "max": 90, "step": 5}),
            "re_evaluation_on": DateInput(),
            "home_care": forms.Textarea(attrs={"rows": 3}),
        }


class RowForm(forms.Form):
    """A formset row that may be left empty (it is then skipped) or removed. Each kind of row says
    what it means, in the shape its service takes, through its own ``item()``."""

    row_fields: tuple[str, ...] = ()

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", None) or {}
        return not any(data.get(name) not in (None, "") for name in self.row_fields)


class PlanTechniqueForm(RowForm):
    row_fields = ("technique", "region", "pressure")

    technique = forms.ChoiceField(choices=technique_options, required=False)
    region = forms.ChoiceField(choices=region_options, required=False)
    side = forms.ChoiceField(choices=SIDE_OPTIONS, required=False)
    pressure = forms.TypedChoiceField(
        choices=PRESSURE_CHOICES, coerce=int, empty_value=None, required=False, label="Pressure (optional)"
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.is_blank() and not data.get("technique"):
            self.add_error("technique", "Choose a technique, or empty the row.")
        return data

    def item(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "technique": data["technique"],
            "region": data.get("region") or "",
            "side": data.get("side") or "",
            "pressure": data.get("pressure"),
        }


class PlanMeasureForm(RowForm):
    """One measure of the plan and when to collect it, as the fields the plan stores (a new row
    starts at baseline and discharge). A row with no measure and no number is left out."""

    row_fields = ("measure", "every_sessions", "every_weeks")

    measure = forms.ChoiceField(choices=measure_options, required=False)
    baseline = forms.BooleanField(required=False, initial=True, label="At baseline")
    every_sessions = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_EVERY_SESSIONS,
        label="Every N sessions",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    every_weeks = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_EVERY_WEEKS,
        label="Every N weeks",
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    discharge = forms.BooleanField(required=False, initial=True, label="At discharge")
    # What an old "when" text said that could not be converted: shown, kept, never edited here.
    legacy_when = forms.CharField(required=False, max_length=LEGACY_TEXT_MAX, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_blank():
            return data
        if not (data.get("measure") or "").strip():
            self.add_error("measure", "Choose the measure, or empty the row.")
        elif not self.errors and self._schedule(data).is_empty:
            self.add_error(
                None, "Say when to collect it: at baseline, every so many sessions or weeks, or at discharge."
            )
        return data

    @staticmethod
    def _schedule(data: dict[str, Any]) -> Schedule:
        return Schedule(
            baseline=bool(data.get("baseline")),
            every_sessions=data.get("every_sessions"),
            every_weeks=data.get("every_weeks"),
            discharge=bool(data.get("discharge")),
        )

    def item(self) -> dict[str, Any]:
        data = self.cleaned_data
        legacy = (data.get("legacy_when") or "").strip()
        return PlanMeasure(data["measure"].strip(), self._schedule(data), legacy).as_item()


class HomeProgramForm(RowForm):
    row_fields = ("title", "instructions", "frequency")

    kind = forms.ChoiceField(choices=home_kind_options, required=False)
    title = forms.CharField(max_length=120, required=False)
    instructions = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    frequency = forms.CharField(
        max_length=80, required=False, help_text="For example: twice a day; before bed; after work."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.is_blank():
            if not (data.get("title") or "").strip():
                self.add_error("title", "Give the exercise a title, or empty the row.")
            if not data.get("kind"):
                self.add_error("kind", "Choose what kind of home care this is.")
        return data

    def item(self) -> dict[str, str]:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "title": data["title"].strip(),
            "instructions": data.get("instructions", "").strip(),
            "frequency": data.get("frequency", "").strip(),
        }


PlanTechniqueFormSet = forms.formset_factory(PlanTechniqueForm, extra=1, can_delete=True, max_num=30)
PlanMeasureFormSet = forms.formset_factory(PlanMeasureForm, extra=1, can_delete=True, max_num=20)
HomeProgramFormSet = forms.formset_factory(HomeProgramForm, extra=1, can_delete=True, max_num=20)


_Row = TypeVar("_Row", bound=RowForm)


def kept_forms(formset: forms.BaseFormSet[_Row]) -> list[tuple[int, _Row]]:
    """(index, form) of the rows to save: valid, not removed and not left empty."""
    kept = []
    for index, form in enumerate(formset.forms):
        if not hasattr(form, "cleaned_data") or form.cleaned_data.get("DELETE") or form.is_blank():
            continue
        kept.append((index, form))
    return kept
