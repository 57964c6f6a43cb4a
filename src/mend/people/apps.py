from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "mend.people"
    label = "people"

    def ready(self) -> None:
        from mend.audit import queries as audit_queries
        from mend.people import queries

        # The audit report names clients beside their ids; audit cannot import people (see ReportNames).
        audit_queries.report_names.clients = queries.client_names
