from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.apps import AppConfig

if TYPE_CHECKING:
    from mend.people.models import Client
    from mend.platform.actor import Actor


def _episodes_section(actor: Actor, client: Client) -> dict[str, Any]:
    from mend.clinical import queries as clinical_queries

    return {"episodes": clinical_queries.client_episodes(actor, client)}


class WebConfig(AppConfig):
    name = "mend.web"
    label = "web"

    def ready(self) -> None:
        from mend.people import queries as people_queries

        # The client page lists the client's episodes of care. People cannot import clinical
        # (clinical builds on people's loaders), so the shell plugs the clinical loader in.
        people_queries.add_client_section(_episodes_section)
