"""The health-history questionnaire a client answers from home: the therapist's questions (the
catalogue's own wording, written to be read by the client), each starting unanswered, with the same
follow-ups and the same checks as the therapist's form."""

from __future__ import annotations

from typing import Any

from django import forms

from mend.clinical.forms.assessments import SIDE_OPTIONS, region_options
from mend.clinical.forms.screening import Question, _YesNo, finding_answer, regional, where_missing
from mend.clinical.queries.intake import client_questions
from mend.clinical.screening import FIRST_TRIMESTER_WEEKS, trimester_disagreement
from mend.clinical.services import FindingInput

# The same categories as the therapist's form, said to the client.
GROUPS = (
    ("systemic", "Your health today", "Some conditions mean a massage should wait."),
    ("relative", "Conditions and medicines", "These change how your therapist treats you, or need your doctor's word."),
    ("local", "One part of the body", "If you answer yes, say where, so your therapist avoids that area."),
)
# The catalogue asks the therapist "Are you pregnant? If so, how many weeks?" and records the first
# trimester; a client reads the question of that rule as it decides.
CLIENT_WORDING = {
    "pregnancy_first_trimester": f"Are you pregnant and in the first {FIRST_TRIMESTER_WEEKS} weeks?",
}


class ClientIntakeForm(forms.Form):
    pregnancy_weeks = forms.IntegerField(
        label="If you are pregnant: how many weeks?",
        required=False,
        min_value=0,
        max_value=45,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "num"}),
        help_text="Leave empty if you are not pregnant.",
    )
    notes = forms.CharField(
        label="Anything else your therapist should know?",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Medicines, operations, allergies (oils, lotions, latex, nuts), what brings you in.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rules = client_questions()
        for rule in self.rules:
            self.fields[rule.id] = _YesNo(CLIENT_WORDING.get(rule.id, rule.question or rule.name))
            if regional(rule):
                self.fields[f"{rule.id}__region"] = forms.ChoiceField(
                    choices=region_options, required=False, label=rule.follow_up or "If yes: where on your body?"
                )
                self.fields[f"{rule.id}__side"] = forms.ChoiceField(
                    choices=SIDE_OPTIONS, required=False, label="If yes: which side?"
                )
            self.fields[f"{rule.id}__note"] = forms.CharField(
                max_length=300, required=False, label="If yes: anything to add?"
            )

    @property
    def questions(self) -> list[tuple[str, str, list[Question]]]:
        groups = []
        for category, label, help_text in GROUPS:
            questions = [
                Question(
                    rule=rule,
                    answer=self[rule.id],
                    region=self[f"{rule.id}__region"] if regional(rule) else None,
                    side=self[f"{rule.id}__side"] if regional(rule) else None,
                    note=self[f"{rule.id}__note"],
                )
                for rule in self.rules
                if rule.category == category
            ]
            if questions:
                groups.append((label, help_text, questions))
        return groups

    @property
    def unanswered(self) -> list[Question]:
        return [q for _, _, questions in self.questions for q in questions if q.answer.errors and not q.answer.value()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for rule in self.rules:
            if data.get(rule.id) != finding_answer(rule):
                continue
            region, side = data.get(f"{rule.id}__region") or "", data.get(f"{rule.id}__side") or ""
            for name, message in where_missing(rule, region, side).items():
                self.add_error(f"{rule.id}__{name}", message)
        if "pregnancy_first_trimester" in data:
            first = data.get("pregnancy_first_trimester") == "yes"
            problem = trimester_disagreement(data.get("pregnancy_weeks"), first)
            if problem:
                self.add_error("pregnancy_first_trimester", problem)
        return data

    def answers(self) -> dict[str, bool]:
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
