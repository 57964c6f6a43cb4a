from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import AppConfig

if TYPE_CHECKING:
    from mend.clinical.queries import Chart
    from mend.platform.actor import Actor


def _chart_card(actor: Actor, chart: Chart) -> dict[str, Any]:
    """The chart's outcome measures card, from the plan and notes the chart already loaded."""
    from mend.outcomes import queries

    return {"outcomes": queries.outcomes_card(chart.episode, plan=chart.plan, notes=chart.notes, today=chart.today)}


class OutcomesConfig(AppConfig):
    name = "mend.outcomes"
    label = "outcomes"
    verbose_name = "Outcome measures"

    def ready(self) -> None:
        from mend.clinical import queries as clinical_queries

        # The chart shows the episode's measures. Clinical cannot import outcomes (outcomes reads
        # the clinical record), so outcomes hands the chart its card.
        clinical_queries.add_chart_section(_chart_card)
