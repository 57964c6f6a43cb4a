"""A plan's measures get their schedule as fields instead of a "when" text.

Before: ``{"measure": "nprs", "when": "baseline, every 4 sessions, discharge"}``, read by a regular
expression on every page. After:
``{"measure": "nprs", "baseline": true, "every_sessions": 4, "every_weeks": null, "discharge": true}``.

- What the text said becomes the fields. ``baseline`` is ticked on every converted item: under the
  text every measure was due at baseline whatever it said, so no plan's due list changes.
- Parts of a text that mean nothing here are kept in ``legacy_when`` (shown on the chart, never read
  for scheduling), so nothing a therapist wrote is lost.
- Reversible: the fields are written back as text.

The parser is copied here, frozen as it was, so this migration keeps working whatever later becomes
of the API's converter (``mend.core.measure_schedule.schedule_from_text``).
"""

import re

from django.db import migrations

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "ten": 10, "twelve": 12}
_EVERY = re.compile(
    r"^(?:every|each|q)[\s_]*(?:n[\s_]*)?(?P<n>\d+|[a-z]+)?[\s_]*(?:(?:th|nd|rd|st)[\s_]+)?"
    r"(?P<unit>sessions?|visits?|weeks?|wks?)(?:[\s:_]*(?P<n2>\d+))?$"
)
_FIELDS = ("baseline", "every_sessions", "every_weeks", "discharge")


def _number(text):
    if text is None or text == "":
        return 1
    if text.isdigit():
        return int(text) if int(text) > 0 else None
    return _NUMBER_WORDS.get(text)


def to_fields(item):
    """One stored item in the structured form (an item already converted is returned unchanged)."""
    if "when" not in item and all(name in item for name in _FIELDS):
        return item
    fields = {"measure": item.get("measure", ""), "baseline": True, "every_sessions": None,
              "every_weeks": None, "discharge": False}  # fmt: skip
    unparsed = []
    for raw in re.split(r"[,;+]|\band\b|\bthen\b", (item.get("when") or "").lower()):
        part = " ".join(raw.split())
        if not part:
            continue
        if part in ("baseline", "initial", "intake", "start", "at baseline", "first visit"):
            fields["baseline"] = True
        elif part in ("discharge", "at discharge", "end", "final visit", "last visit"):
            fields["discharge"] = True
        elif part in ("weekly", "each week"):
            fields["every_weeks"] = 1
        elif part in ("fortnightly", "biweekly"):
            fields["every_weeks"] = 2
        elif part in ("monthly", "every month"):
            fields["every_weeks"] = 4
        elif (match := _EVERY.match(part.replace("-", " "))) is not None:
            n = _number(match.group("n2") or match.group("n"))
            if n is None:
                unparsed.append(part)
            elif match.group("unit").startswith(("session", "visit")):
                fields["every_sessions"] = n
            else:
                fields["every_weeks"] = n
        else:
            unparsed.append(part)
    if unparsed:
        fields["legacy_when"] = ", ".join(unparsed)[:120]
    return fields


def to_text(item):
    """One structured item back in the text form."""
    if "when" in item:
        return item
    parts = []
    if item.get("baseline"):
        parts.append("baseline")
    if item.get("every_sessions"):
        n = item["every_sessions"]
        parts.append("every session" if n == 1 else f"every {n} sessions")
    if item.get("every_weeks"):
        n = item["every_weeks"]
        parts.append("every week" if n == 1 else f"every {n} weeks")
    if item.get("discharge"):
        parts.append("discharge")
    if item.get("legacy_when"):
        parts.append(item["legacy_when"])
    return {"measure": item.get("measure", ""), "when": ", ".join(parts)}


def _convert(apps, convert_item):
    plan_model = apps.get_model("clinical", "PlanOfCare")
    changed = []
    for plan in plan_model.objects.only("id", "measures").iterator(chunk_size=500):
        items = [convert_item(item) if isinstance(item, dict) else item for item in plan.measures or []]
        if items != plan.measures:
            plan.measures = items
            changed.append(plan)
        if len(changed) >= 500:
            plan_model.objects.bulk_update(changed, ["measures"])
            changed = []
    if changed:
        plan_model.objects.bulk_update(changed, ["measures"])


def forwards(apps, schema_editor):
    _convert(apps, to_fields)


def backwards(apps, schema_editor):
    _convert(apps, to_text)


class Migration(migrations.Migration):
    dependencies = [("clinical", "0002_signed_notes_immutable")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
