from django.apps import AppConfig


class ClinicalConfig(AppConfig):
    name = "mend.clinical"
    label = "clinical"
    verbose_name = "Clinical record"

    def ready(self) -> None:
        from mend.clinical.queries.intake import client_intake_section
        from mend.people import queries as people_queries

        # The client page shows the health history a client reported from home, to review.
        people_queries.add_client_section(client_intake_section)
