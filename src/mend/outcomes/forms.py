"""Forms for outcome measures: one measure at a time, in clinic or from an emailed link.

The items are built from the registry, so every measure gets the same large, touch-friendly
scale of radio buttons; wording comes from the registry where its licence lets it ship and from
the clinic's local file otherwise (``mend.outcomes.wording``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.utils import timezone

from mend.outcomes.scoring import Measure, ScoringError, measures, score
from mend.outcomes.services import PSFS_MAX_ACTIVITIES
from mend.outcomes.wording import Wording, WordingError, wording
from mend.platform.pages import error_messages

# A phone (about 300 px for the scale) fits six 44 px answer buttons in a row; longer scales wrap
# into rows of equal length (0–10: 6 + 5) instead of leaving one answer alone on the last row.
NARROW_MAX_COLUMNS = 6

# Answer labels that are part of the scale's published coding (issue 4, registry): HIT-6 answers
# are category indexes Never…Always.
CATEGORY_LABELS = {"hit6": ("Never", "Rarely", "Sometimes", "Very often", "Always")}


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str
    checked: bool
    id: str


@dataclass(frozen=True, slots=True)
class ItemRow:
    number: int
    item_id: str
    topic: str  # what the item is about, from its id: the label when the wording is not loaded
    text: str
    name: str
    group_id: str  # the item's auto id: prefix of its legend, error and answer ids
    choices: tuple[Choice, ...]
    errors: Sequence[str]
    activity: forms.BoundField | None = None
    wide_labels: bool = False

    @property
    def narrow_columns(self) -> int:
        """Columns of the scale on a phone: as many as fit, in rows of equal length."""
        rows = -(-len(self.choices) // NARROW_MAX_COLUMNS)
        return -(-len(self.choices) // max(rows, 1))


@dataclass(frozen=True, slots=True)
class ErrorLink:
    """A problem in the form's error summary and the id of the control to correct."""

    target: str
    message: str


def item_topic(item_id: str) -> str:
    """A readable topic from a registry item id: ``walk_2_blocks`` → "Walk 2 blocks"."""
    words = item_id.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _values(measure: Measure) -> list[int]:
    return list(range(int(measure.min), int(measure.max) + 1))


def _labels(measure: Measure, found: Wording | None, n: int) -> list[str]:
    values = _values(measure)
    if found is not None and found.choices:
        return list(found.choices[n])
    if measure.id in CATEGORY_LABELS:
        return list(CATEGORY_LABELS[measure.id])
    band_labels = {int(b): label for b, label in measure.bands} if measure.bands else {}
    if band_labels and all(v in band_labels for v in values) and len(band_labels) == len(values):
        return [f"{v} · {band_labels[v]}" for v in values]
    return [f"{v:+d}" if measure.min < 0 and v else str(v) for v in values]


class MeasureForm(forms.Form):
    """One measure's items as radio scales (blank allowed: the scorer decides what is computable)."""

    def __init__(
        self,
        *args: Any,
        measure: Measure,
        in_clinic: bool = True,
        activities: Sequence[str] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.measure = measure
        self.in_clinic = in_clinic
        try:
            self.wording = wording(measure)
            self.wording_error = ""
        except WordingError as error:
            self.wording, self.wording_error = None, str(error)
        count = measure.items if measure.items is not None else PSFS_MAX_ACTIVITIES
        self.count = count
        values = [str(v) for v in _values(measure)]
        for n in range(count):
            self.fields[f"item_{n}"] = forms.ChoiceField(
                choices=[(v, v) for v in values], required=False, widget=forms.RadioSelect, label=f"Item {n + 1}"
            )
            if measure.items is None:
                initial = activities[n] if n < len(activities) else ""
                self.fields[f"activity_{n}"] = forms.CharField(
                    max_length=120, required=False, initial=initial, label=f"Activity {n + 1}"
                )
        if in_clinic:
            self.fields["collected_on"] = forms.DateField(
                initial=timezone.localdate,
                widget=forms.DateInput(attrs={"type": "date"}),
                label="Collected on",
                error_messages={"required": "Enter the day the measure was collected."},
            )
            # Shown once the answers given cannot be scored: saving them then is a choice, not a slip.
            self.fields["save_incomplete"] = forms.BooleanField(
                required=False, label="Save these answers as “not computable”"
            )

    @property
    def is_psfs(self) -> bool:
        return self.measure.items is None

    @property
    def shows_wording(self) -> bool:
        return self.wording is not None

    def item_rows(self) -> list[ItemRow]:
        rows = []
        for n in range(self.count):
            bound = self[f"item_{n}"]
            current = str(bound.value()) if bound.value() not in (None, "") else None
            labels = _labels(self.measure, self.wording, n)
            choices = tuple(
                Choice(v, label, v == current, f"{bound.auto_id}_{i}")
                for i, (v, label) in enumerate(zip([str(x) for x in _values(self.measure)], labels, strict=True))
            )
            item_id = self.measure.item_ids[n] if n < len(self.measure.item_ids) else f"item {n + 1}"
            if self.wording is not None:
                texts = self.wording.items
                text = texts[n] if n < len(texts) else texts[0] if len(texts) == 1 else ""
            else:
                text = ""
            rows.append(
                ItemRow(
                    number=n + 1,
                    item_id=item_id,
                    topic=item_topic(item_id),
                    text=text,
                    name=bound.html_name,
                    group_id=bound.auto_id,
                    choices=choices,
                    errors=error_messages(bound.errors),
                    activity=self[f"activity_{n}"] if self.is_psfs else None,
                    wide_labels=any(len(c.label) > 4 for c in choices),
                )
            )
        return rows

    def error_links(self) -> list[ErrorLink]:
        """The field problems in page order, each with the control it concerns (for the summary)."""
        links = []
        for n in range(self.count):
            item = self[f"item_{n}"]
            if self.is_psfs:
                activity = self[f"activity_{n}"]
                links += [ErrorLink(activity.auto_id, f"Activity {n + 1}: {e}") for e in activity.errors]
                name = f"Activity {n + 1}"
            elif self.count == 1:
                name = self.measure.short
            elif self.wording is None and n < len(self.measure.item_ids):
                name = f"Item {n + 1} ({item_topic(self.measure.item_ids[n])})"
            else:
                name = f"Item {n + 1}"
            # The first answer button: following the link puts the keyboard in the item's scale.
            links += [ErrorLink(f"{item.auto_id}_0", f"{name}: {e}") for e in item.errors]
        if "collected_on" in self.fields:
            links += [ErrorLink(self["collected_on"].auto_id, str(e)) for e in self["collected_on"].errors]
        return links

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.is_psfs:
            for n in range(self.count):
                activity = (data.get(f"activity_{n}") or "").strip()
                rated = data.get(f"item_{n}") not in (None, "")
                if rated and not activity:
                    self.add_error(f"activity_{n}", "Name the activity this score is for.")
                if activity and not rated:
                    self.add_error(f"item_{n}", f"Rate “{activity}” from 0 to 10, or clear the activity.")
        if "save_incomplete" in self.fields and not self.errors and not data.get("save_incomplete"):
            self._confirm_incomplete()
        return data

    @property
    def asks_to_confirm(self) -> bool:
        """Whether the page shows the "save as not computable" box (asked, or already ticked)."""
        return "save_incomplete" in self.fields and (
            self.has_error("__all__", "incomplete") or bool(self["save_incomplete"].value())
        )

    def _confirm_incomplete(self) -> None:
        answers = self.answers()
        answered = sum(1 for a in answers if a is not None)
        if not answered:
            return  # "Nothing was answered" is the service's to say
        try:
            computable = score(self.measure.id, answers) is not None
        except ScoringError:
            return  # the service names the item
        if not computable:
            self.add_error(
                None,
                forms.ValidationError(
                    f"Only {answered} of {len(answers)} items are answered: too few to compute the "
                    f"{self.measure.short} score. Answer more items, or tick "
                    "“Save these answers as ‘not computable’” to keep them as they are.",
                    code="incomplete",
                ),
            )

    def answers(self) -> list[int | None]:
        result: list[int | None] = []
        for n in range(self.count):
            if self.is_psfs and not (self.cleaned_data.get(f"activity_{n}") or "").strip():
                continue
            value = self.cleaned_data.get(f"item_{n}")
            result.append(int(value) if value not in (None, "") else None)
        return result

    def item_labels(self) -> list[str]:
        if not self.is_psfs:
            return []
        labels = (self.cleaned_data.get(f"activity_{n}") or "" for n in range(self.count))
        return [label.strip() for label in labels if label.strip()]


def measure_choices(ids: Sequence[str] | None = None) -> list[tuple[str, str]]:
    registry = measures()
    chosen = ids if ids is not None else list(registry)
    return [(m, f"{registry[m].short} · {registry[m].construct}") for m in chosen if m in registry]


@dataclass(frozen=True, slots=True)
class Unsendable:
    """A measure of the episode that a client cannot answer alone, and why (shown, not offered)."""

    id: str
    label: str
    reason: str


def unsendable_reason(measure: Measure) -> str:
    """Why ``measure`` cannot go in an emailed link, or "" when it can (the checks
    ``services.link_create_and_send`` makes, asked before the therapist ticks it)."""
    if measure.items is None:
        return "in clinic only, the client names activities with you"
    try:
        found = wording(measure)
    except WordingError:
        return "in clinic only: the clinic's wording file has a problem"
    return "" if found is not None else "in clinic only: wording not loaded"


class SendLinkForm(forms.Form):
    measures = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        label="Questionnaires to send",
        choices=(),
        error_messages={"required": "Choose at least one questionnaire to send."},
    )

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        registry = measures()
        sendable: list[tuple[str, str]] = []
        self.unavailable: list[Unsendable] = []
        for value, label in choices:
            reason = unsendable_reason(registry[value])
            if reason:
                self.unavailable.append(Unsendable(value, label, reason))
            else:
                sendable.append((value, label))
        cast(forms.MultipleChoiceField, self.fields["measures"]).choices = sendable
        # Preselect only what can be sent: a due PSFS or licensed measure is listed, not ticked.
        ids = [value for value, _ in sendable]
        wanted = [m for m in self.initial.get("measures", []) if m in ids]
        self.initial["measures"] = wanted or ids[:1]

    @property
    def can_send(self) -> bool:
        return bool(cast(forms.MultipleChoiceField, self.fields["measures"]).choices)


class EvidenceFilterForm(forms.Form):
    """The evidence report's filters; a therapist has no therapist filter (they see their own)."""

    therapist = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Therapist")
    started_from = forms.DateField(
        required=False, label="Episodes started from", widget=forms.DateInput(attrs={"type": "date"})
    )
    started_to = forms.DateField(required=False, label="to", widget=forms.DateInput(attrs={"type": "date"}))
    technique = forms.ChoiceField(required=False, label="Technique used in a signed session")

    def __init__(
        self,
        *args: Any,
        therapists: Sequence[tuple[int, str]] | None,
        techniques: Sequence[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if therapists is None:
            del self.fields["therapist"]
        else:
            cast(forms.TypedChoiceField, self.fields["therapist"]).choices = [("", "All therapists"), *therapists]
        cast(forms.ChoiceField, self.fields["technique"]).choices = [("", "Any technique"), *techniques]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("started_from"), data.get("started_to")
        if start and end and start > end:
            # On the end field, so the page marks the field to correct.
            self.add_error("started_to", "The start of the date range is after its end.")
        return data
