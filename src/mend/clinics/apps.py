from django.apps import AppConfig


class ClinicsConfig(AppConfig):
    name = "mend.clinics"
    label = "clinics"

    def ready(self) -> None:
        from mend.audit import queries as audit_queries
        from mend.clinics import queries

        # The audit report is filtered by who acted; audit cannot import clinics (see ReportNames).
        audit_queries.report_names.members = queries.member_choices
        audit_queries.report_names.clinics = queries.clinic_slugs
