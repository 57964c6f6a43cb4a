"""Forms of intake and screening: the health-history questionnaire (one yes/no question per
catalogue rule), the pre-session check, a single finding and a physician's clearance."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django import forms
from django.db import models
from django.db.models import QuerySet

from mend import knowledge
from mend.clinical.body_map import region_label
from mend.clinical.forms.assessments import SIDE_OPTIONS, InputRowForm, region_options, row_formset
from mend.clinical.models import HealthHistory, ScreeningFinding
from mend.clinical.screening import Action, Rule, catalogue, trimester_disagreement
from mend.clinical.services import FindingInput
from mend.people.forms import DateInput
from mend.people.models import ReferringProvider

CATEGORIES = (
    ("systemic", "Whole body", "Conditions that affect the whole body and can stop treatment today."),
    ("relative", "Precautions", "Conditions that change how, or whether, to treat; some need a physician's clearance."),
    ("local", "Local", "Conditions in one area of the body: say where, so the body map can show it."),
)
YES_NO = [("no", "No"), ("yes", "Yes")]


def finding_answer(rule: Rule) -> str:
    """The answer that records a finding of ``rule``."""
    return "yes"  # every catalogue question is asked so that "yes" is the finding


def regional(rule: Rule) -> bool:
    """Whether a finding of ``rule`` can name a region: the rule acts on the finding's site."""
    return rule.regional


def where_missing(rule: Rule, region: str, side: str) -> dict[str, str]:
    """The follow-up a "yes" still lacks, by field ("region", "side"): the service refuses the
    same, so the form only says it beside the right field first."""
    missing = {}
    if rule.needs_region and not region:
        # A worded follow-up is the field's label already: the message does not ask it twice.
        ask = "" if rule.follow_up else "Where on the body? "
        missing["region"] = f"{ask}Choose the region so the restrictions apply there."
    lateral = region in knowledge.body_regions() and knowledge.body_regions()[region].lateral
    if rule.needs_side and lateral and not side:
        missing["side"] = "Which side? Choose left, right or both sides."
    return missing


def where_help(rule: Rule) -> str:
    """What the region of a finding decides, said beside the question that asks for it."""
    if any(a.where == "finding_and_distal" for a in rule.actions):
        return "The restrictions cover this region and everything below it (towards the hand or foot) on that side."
    return ""


def rule_options(rules: Iterable[Rule] | None = None) -> list[tuple[str, Any]]:
    """Catalogue rules grouped by category, for a select."""
    rules = list(rules if rules is not None else catalogue().rules.values())
    groups = []
    for category, label, _ in CATEGORIES:
        members = [(r.id, r.name) for r in rules if r.category == category]
        if members:
            groups.append((label, members))
    return [("", "Choose a finding"), *groups]


class _YesNo(forms.ChoiceField):
    """A safety question: it starts unanswered (a pre-selected "no" is an answer nobody gave) and
    must be answered yes or no."""

    def __init__(self, label: str, **kwargs: Any) -> None:
        kwargs.setdefault("error_messages", {"required": "Answer this safety question: yes or no."})
        super().__init__(choices=YES_NO, widget=forms.RadioSelect(attrs={"class": "yn"}), label=label, **kwargs)


@dataclass(frozen=True, slots=True)
class Question:
    rule: Rule
    answer: forms.BoundField
    region: forms.BoundField | None
    side: forms.BoundField | None
    note: forms.BoundField
    # The previous intake's answer, shown as text beside the question and never pre-selected:
    # "Last intake 2 May 2026: yes (left upper arm)".
    previous: str = ""

    @property
    def finding_answer(self) -> str:
        return finding_answer(self.rule)

    @property
    def found(self) -> bool:
        return self.answer.value() == self.finding_answer


class FindingRowForm(InputRowForm):
    """One more finding: a catalogue rule and where."""

    rule_id = forms.ChoiceField(choices=rule_options, label="Finding")
    region = forms.ChoiceField(choices=region_options, required=False, label="Region")
    side = forms.ChoiceField(choices=SIDE_OPTIONS, required=False, label="Side")
    note = forms.CharField(max_length=300, required=False, label="Note")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        rule = catalogue().rules.get(data.get("rule_id", ""))
        if rule is not None:
            for name, message in where_missing(rule, data.get("region") or "", data.get("side") or "").items():
                self.add_error(name, f"{rule.name}: {message}")
        return data

    def to_input(self) -> FindingInput:
        d = self.cleaned_data
        return FindingInput(d["rule_id"], region=d["region"], side=d.get("side") or "", note=d["note"].strip())


FindingFormSet = row_formset(FindingRowForm, max_num=20, absolute_max=40)


TEXT_FIELDS = ("conditions", "medications", "surgeries", "implants", "skin_conditions", "allergies", "symptoms")
HELP = {
    "conditions": "Diagnoses past and present: heart, lungs, diabetes, arthritis, cancer, mental health.",
    "medications": "Include blood thinners, steroids, pain relief, and supplements.",
    "surgeries": "What and when.",
    "implants": "Pacemaker, port, pump, joint replacement, metal hardware, breast implants.",
    "skin_conditions": "Rashes, eczema, psoriasis, sensitive skin.",
    "symptoms": "What brings the client in, and anything new.",
}


class HealthHistoryForm(forms.Form):
    completed_on = forms.DateField(label="Completed on", widget=DateInput())
    pregnancy_weeks = forms.IntegerField(
        label="Weeks pregnant",
        required=False,
        min_value=0,
        max_value=45,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "num"}),
        help_text="Leave empty if not pregnant.",
    )

    def __init__(self, *args: Any, previous: Mapping[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.previous = previous or {}
        for name in TEXT_FIELDS:
            # TEXT_FIELDS are text columns of the model, never a relation (which has no verbose_name).
            model_field = cast(models.Field, HealthHistory._meta.get_field(name))
            self.fields[name] = forms.CharField(
                label=str(model_field.verbose_name).capitalize(),
                required=False,
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=HELP.get(name, ""),
            )
        self.rules = list(catalogue().rules.values())
        for rule in self.rules:
            self.fields[rule.id] = _YesNo(rule.question or rule.name)
            if regional(rule):
                self.fields[f"{rule.id}__region"] = forms.ChoiceField(
                    choices=region_options, required=False, label=rule.follow_up or "Where", help_text=where_help(rule)
                )
                self.fields[f"{rule.id}__side"] = forms.ChoiceField(choices=SIDE_OPTIONS, required=False, label="Side")
            self.fields[f"{rule.id}__note"] = forms.CharField(max_length=300, required=False, label="Details")

    @property
    def text_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in TEXT_FIELDS]

    @property
    def unanswered(self) -> list[Question]:
        """The questions the therapist left unanswered, in the order asked: listed above the form."""
        return [q for _, _, questions in self.questions for q in questions if q.answer.errors and not q.answer.value()]

    @property
    def questions(self) -> list[tuple[str, str, list[Question]]]:
        """(legend, help, questions) per catalogue category, in catalogue order."""
        groups = []
        for category, label, help_text in CATEGORIES:
            questions = [
                Question(
                    rule=rule,
                    answer=self[rule.id],
                    region=self[f"{rule.id}__region"] if regional(rule) else None,
                    side=self[f"{rule.id}__side"] if regional(rule) else None,
                    note=self[f"{rule.id}__note"],
                    previous=self.previous.get(rule.id, ""),
                )
                for rule in self.rules
                if rule.category == category
            ]
            if questions:
                groups.append((label, help_text, questions))
        return groups

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for rule in self.rules:
            if data.get(rule.id) != finding_answer(rule):
                continue
            region, side = data.get(f"{rule.id}__region") or "", data.get(f"{rule.id}__side") or ""
            for name, message in where_missing(rule, region, side).items():
                self.add_error(f"{rule.id}__{name}", message)
        first = data.get("pregnancy_first_trimester") == "yes"
        problem = trimester_disagreement(data.get("pregnancy_weeks"), first)
        if problem and "pregnancy_first_trimester" in self.fields:
            self.add_error("pregnancy_first_trimester", problem)
        return data

    def history_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {"completed_on": data["completed_on"], "pregnancy_weeks": data.get("pregnancy_weeks")} | {
            name: data.get(name, "").strip() for name in TEXT_FIELDS
        }

    def answers(self) -> dict[str, bool]:
        """Every question's answer as given: True where it records a finding."""
        return {rule.id: self.cleaned_data[rule.id] == finding_answer(rule) for rule in self.rules}

    def findings(self) -> list[FindingInput]:
        data = self.cleaned_data
        found = []
        for rule in self.rules:
            if data.get(rule.id) != finding_answer(rule):
                continue
            region = data.get(f"{rule.id}__region", "") or ""
            side = (data.get(f"{rule.id}__side", "") or "") if region else ""
            found.append(FindingInput(rule.id, region=region, side=side, note=data.get(f"{rule.id}__note", "").strip()))
        return found


def health_history_initial(
    history: HealthHistory | None, findings: Sequence[ScreeningFinding], today: Any
) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, str]]:
    """The questionnaire started from the last one: its text and pregnancy weeks; where each
    finding still open was (its region, side and note, a second site of a rule as an extra row);
    and each previous answer in words, by rule id.

    The yes/no answers themselves start unanswered: they are asked again, the last answer shown
    beside the question. Histories from before answers were kept say only which findings were open.
    """
    initial: dict[str, Any] = {"completed_on": today}
    extra: list[dict[str, Any]] = []
    previous: dict[str, str] = {}
    if history is None:
        return initial, extra, previous
    initial["pregnancy_weeks"] = history.pregnancy_weeks
    for name in TEXT_FIELDS:
        initial[name] = getattr(history, name)
    rules = catalogue().rules
    sites: dict[str, list[str]] = {}
    placed: set[str] = set()
    for finding in findings:
        rule = rules.get(finding.rule_id)
        if rule is None:
            continue
        if finding.region:
            sites.setdefault(rule.id, []).append(region_label(finding.region, finding.side))
        if rule.id in placed or (finding.region and not regional(rule)):
            extra.append(
                {"rule_id": finding.rule_id, "region": finding.region, "side": finding.side, "note": finding.note}
            )
            continue
        placed.add(rule.id)
        initial[f"{rule.id}__region"] = finding.region
        initial[f"{rule.id}__side"] = finding.side
        initial[f"{rule.id}__note"] = finding.note
    on = f"Last intake {history.completed_on:%-d %B %Y}"
    for rule_id in rules:
        answer = history.answers.get(rule_id)
        if answer is None and rule_id in placed:
            answer = True  # an open finding of a history that kept no answers
        if answer is None:
            continue
        where = f" ({'; '.join(sites[rule_id])})" if answer and rule_id in sites else ""
        previous[rule_id] = f"{on}: {'yes' if answer else 'no'}{where}"
    return initial, extra, previous


class PreSessionCheckForm(forms.Form):
    checked_on = forms.DateField(label="Date", widget=DateInput())
    # Safety questions start unanswered: a pre-selected "no fever" is an answer nobody gave.
    fever = _YesNo("Fever, or feeling unwell with an infection, today?")
    able_to_consent = _YesNo("Able to understand and consent today?")
    new_symptoms = forms.CharField(
        label="New symptoms since the last visit", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    new_medications = forms.CharField(
        label="New or changed medications", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def check_data(self) -> dict[str, Any]:
        d = self.cleaned_data
        return {
            "checked_on": d["checked_on"],
            "fever": d["fever"] == "yes",
            "able_to_consent": d["able_to_consent"] == "yes",
            "new_symptoms": d["new_symptoms"].strip(),
            "new_medications": d["new_medications"].strip(),
        }


class FindingForm(FindingRowForm):
    recorded_on = forms.DateField(label="Found on", widget=DateInput())

    field_order = ["rule_id", "region", "side", "note", "recorded_on"]


class ClearanceForm(forms.Form):
    rule_id = forms.ChoiceField(label="Cleared finding")
    provider = forms.ModelChoiceField(
        queryset=ReferringProvider.objects.none(),
        required=False,
        label="Referring provider",
        empty_label="— not on file —",
    )
    cleared_by = forms.CharField(
        max_length=150,
        required=False,
        label="Cleared by (name and profession)",
        help_text="Leave empty to use the referring provider chosen.",
    )
    cleared_on = forms.DateField(label="Date of clearance", widget=DateInput())
    conditions = forms.CharField(
        label="Conditions of the clearance",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: light pressure only; no work on the left leg.",
    )
    document = forms.FileField(
        label="Clearance document",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/png,image/jpeg"}),
        help_text="PDF, PNG or JPEG, up to 10 MB.",
    )

    def __init__(
        self, *args: Any, rules: Sequence[Rule], providers: QuerySet[ReferringProvider], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["rule_id"]).choices = [(r.id, r.name) for r in rules]
        cast(forms.ModelChoiceField, self.fields["provider"]).queryset = providers

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("cleared_by") or "").strip() and not data.get("provider"):
            self.add_error("cleared_by", "Name who cleared the client, or choose the referring provider.")
        return data


def clearance_rules(uncleared: Iterable[Any]) -> list[Rule]:
    """Rules with a CLEARANCE still waiting, once each, in catalogue order."""
    waiting = {a.rule_id for a in uncleared if a.action == Action.CLEARANCE}
    return [rule for rule in catalogue().rules.values() if rule.id in waiting]
