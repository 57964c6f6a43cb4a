"""Loaders for invoices and payments, scoped by the actor: another clinic's, or a client the actor
may not see (a therapist outside the care team), is a 404."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.http import Http404

from mend.access import object_or_404
from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.billing.models import (
    ZERO,
    BillingProfile,
    ClientMembership,
    GiftCard,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    MembershipPlan,
    Package,
    PackagePlan,
    PackageRedemption,
    Payer,
    Payment,
    Product,
    ReceiptStandard,
    TaxRate,
)
from mend.clinical.models import Referral
from mend.clinics.models import Membership
from mend.core.search import parse_search
from mend.people import queries as people_queries
from mend.people.models import Client, Licence, LicenceType
from mend.platform.actor import Actor
from mend.scheduling.models import Appointment, AppointmentStatus


def invoices(actor: Actor) -> QuerySet[Invoice]:
    """Invoices and credit notes of the clients this actor sees, in their clinic."""
    return Invoice.objects.filter(clinic_id=actor.clinic_id, client__in=people_queries.clients(actor))


def invoice_or_404(actor: Actor, pk: int | str) -> Invoice:
    return object_or_404(invoices(actor).select_related("client", "clinic", "payer", "corrects"), pk, "invoice")


def payments(actor: Actor) -> QuerySet[Payment]:
    return Payment.objects.filter(clinic_id=actor.clinic_id, invoice__in=invoices(actor))


def payment_or_404(actor: Actor, pk: int | str) -> Payment:
    return object_or_404(payments(actor).select_related("invoice", "client"), pk, "payment")


def receipt_problems(invoice: Invoice, lines: Sequence[InvoiceLine]) -> list[str]:
    """What the clinic's receipt standard asks for and this invoice lacks, in words (empty: fine)."""
    profile = BillingProfile.objects.filter(clinic_id=invoice.clinic_id).first()
    if profile is None or profile.receipt_standard == ReceiptStandard.BASIC:
        return []
    problems: list[str] = []
    if not profile.tax_number.strip():
        problems.append(f"The clinic's {profile.tax_number_label} is missing (Clinic settings › Billing).")
    therapists = {line.therapist_id: line for line in lines if line.kind == LineKind.SERVICE and line.therapist_id}
    if therapists:
        on_dates = {line.therapist_id: line.service_on or invoice.created_at.date() for line in therapists.values()}
        registered = {
            licence.profile.membership_id
            for licence in Licence.objects.filter(
                profile__membership_id__in=therapists, licence_type=LicenceType.RMT
            ).select_related("profile")
            if licence.number.strip() and licence.expires_on >= on_dates[licence.profile.membership_id]
        }
        names = dict(Membership.objects.filter(pk__in=therapists).values_list("pk", "therapist_profile__display_name"))
        for membership_id in therapists:
            if membership_id not in registered:
                problems.append(
                    f"{names.get(membership_id) or 'The therapist'} has no current RMT registration number "
                    "(their profile › Licences); an Ontario receipt must carry it."
                )
    return problems


# --- Pages ----------------------------------------------------------------------------------


def _audit_view(actor: Actor, invoice: Invoice) -> None:
    # An invoice says who was treated, when and for what: health information, read on the record.
    audit_record(
        action=Action.VIEW, obj=invoice, client_id=invoice.client_id, user=actor.user, clinic_id=actor.clinic_id
    )


@dataclass(frozen=True, slots=True)
class InvoiceListRow:
    invoice: Invoice
    balance: Decimal


def invoice_list(actor: Actor, *, show: str = "open", q: str = "", limit: int = 200) -> list[Invoice]:
    """Invoices for the desk: ``open`` (drafts and issued with a balance), ``draft``, ``owing``, ``all``.

    One query (the client and the payer joined); the list read is audited once.
    """
    found = invoices(actor).select_related("client", "payer").order_by("-created_at", "-id")
    owing = Q(status=InvoiceStatus.ISSUED, kind=InvoiceKind.INVOICE) & Q(
        total__gt=F("amount_paid") + F("amount_written_off") + F("amount_credited")
    )
    if show == "draft":
        found = found.filter(status=InvoiceStatus.DRAFT)
    elif show == "owing":
        found = found.filter(owing)
    elif show == "open":
        found = found.filter(Q(status=InvoiceStatus.DRAFT) | owing)
    if q.strip():
        found = found.filter(
            client__in=people_queries.apply_client_search(people_queries.clients(actor), parse_search(q))
        )
    rows = list(found[:limit])
    if rows:
        audit_record(
            action=Action.VIEW,
            object_type="billing.invoice_list",
            object_id=show,
            user=actor.user,
            clinic_id=actor.clinic_id,
        )
    return rows


@dataclass(frozen=True, slots=True)
class PaymentRow:
    payment: Payment
    refundable: Decimal
    refunds: list[Payment]


@dataclass(frozen=True, slots=True)
class LineRow:
    line: InvoiceLine
    packages: list[Package]
    paid_by_package: PackageRedemption | None


@dataclass(frozen=True, slots=True)
class Provider:
    """A therapist as a receipt names them: name, title and registration (licence) numbers."""

    name: str
    title: str
    registrations: list[str]


def _providers(lines: Sequence[InvoiceLine], on: date) -> list[Provider]:
    """The therapists of the visit lines with their licences current on ``on`` (one query)."""
    ids = sorted({line.therapist_id for line in lines if line.therapist_id})
    if not ids:
        return []
    found: dict[int, Provider] = {}
    for membership_id, name, title, kind, number, body, expires in Licence.objects.filter(
        profile__membership_id__in=ids
    ).values_list(
        "profile__membership_id",
        "profile__display_name",
        "profile__professional_title",
        "licence_type",
        "number",
        "issuing_body",
        "expires_on",
    ):
        provider = found.setdefault(membership_id, Provider(name, title, []))
        if expires >= on:
            provider.registrations.append(f"{kind} {number} ({body})")
    for line in lines:
        if line.therapist_id and line.therapist_id not in found and line.therapist is not None:
            profile = getattr(line.therapist, "therapist_profile", None)
            found[line.therapist_id] = Provider(profile.display_name if profile else str(line.therapist.user), "", [])
    return [found[i] for i in ids if i in found]


def _taxes(lines: Sequence[InvoiceLine]) -> list[tuple[str, Decimal]]:
    """Tax by name and rate, summed from the lines (as the invoice's total is)."""
    sums: dict[str, Decimal] = {}
    for line in lines:
        if line.tax:
            label = f"{line.tax_name} {line.tax_rate.normalize():f}%"
            sums[label] = sums.get(label, ZERO) + line.tax
    return sorted(sums.items())


@dataclass(frozen=True, slots=True)
class InvoicePage:
    invoice: Invoice
    lines: list[LineRow]
    payments: list[PaymentRow]
    credit_notes: list[Invoice]
    credited_line_ids: set[int]
    profile: BillingProfile | None
    receipt_problems: list[str]
    referrals: list[Referral]
    payers: list[Payer]
    open_visits: list[Appointment]
    products: list[Product]
    tax_rates: list[TaxRate]
    providers: list[Provider]
    taxes: list[tuple[str, Decimal]]

    @property
    def refunds_due(self) -> Decimal:
        return -self.invoice.balance if self.invoice.balance < 0 else ZERO


def invoice_page(actor: Actor, pk: int | str) -> InvoicePage:
    """The invoice with everything checkout needs, in a bounded number of queries whatever its size."""
    invoice = invoice_or_404(actor, pk)
    # Lines with what they charge (type, therapist's name) and any package redemption against them.
    lines = list(
        invoice.lines.select_related("appointment_type", "therapist__therapist_profile", "package", "gift_card")
        .prefetch_related(Prefetch("redemptions", queryset=PackageRedemption.objects.filter(reversed_at__isnull=True)))
        .order_by("position", "id")
    )
    # Payments, refunds and write-offs, oldest first; refunds grouped under what they refund.
    all_payments = list(
        invoice.payments.select_related("recorded_by__user", "package", "gift_card").order_by("received_at", "id")
    )
    refunds: dict[int, list[Payment]] = {}
    for payment in all_payments:
        if payment.refund_of_id:
            refunds.setdefault(payment.refund_of_id, []).append(payment)
    payment_rows = [
        PaymentRow(p, p.amount + sum((r.amount for r in refunds.get(p.pk, [])), ZERO), refunds.get(p.pk, []))
        for p in all_payments
        if not p.refund_of_id
    ]
    credit_notes = list(Invoice.objects.filter(corrects=invoice).order_by("issued_at", "id"))
    credited = set(
        InvoiceLine.objects.filter(invoice__corrects=invoice, reverses__isnull=False).values_list(
            "reverses_id", flat=True
        )
    )
    # Packages this client may use, of the types on the invoice (one query for all the lines).
    type_ids = {
        line.appointment_type_id for line in lines if line.kind == LineKind.SERVICE and line.appointment_type_id
    }
    packages: list[Package] = []
    if type_ids and invoice.status == InvoiceStatus.ISSUED and invoice.kind == InvoiceKind.INVOICE:
        packages = list(
            Package.objects.filter(
                Q(client_id=invoice.client_id) | Q(shared_with__id=invoice.client_id),
                clinic_id=invoice.clinic_id,
                is_active=True,
                appointment_type_id__in=type_ids,
                sessions_used__lt=F("sessions_total"),
            )
            .select_related("client")
            .distinct()
            .order_by("expires_on", "id")
        )
    rows = []
    for line in lines:
        redemptions = list(line.redemptions.all())
        usable = [
            p
            for p in packages
            if line.kind == LineKind.SERVICE
            and p.appointment_type_id == line.appointment_type_id
            and (line.service_on is None or p.starts_on <= line.service_on <= p.expires_on)
        ]
        rows.append(LineRow(line, usable, redemptions[0] if redemptions else None))
    profile = BillingProfile.objects.filter(clinic_id=invoice.clinic_id).select_related("service_tax_rate").first()
    draft = invoice.is_draft
    page = InvoicePage(
        invoice=invoice,
        lines=rows,
        payments=payment_rows,
        credit_notes=credit_notes,
        credited_line_ids=credited,
        profile=profile,
        receipt_problems=receipt_problems(invoice, lines) if draft else [],
        referrals=list(
            Referral.objects.filter(clinic_id=invoice.clinic_id, client_id=invoice.client_id, closed_at__isnull=True)
            .select_related("provider")
            .order_by("-referred_on")
        )
        if draft
        else [],
        payers=list(Payer.objects.filter(clinic_id=invoice.clinic_id, is_active=True)) if draft else [],
        open_visits=list(
            Appointment.objects.filter(
                clinic_id=invoice.clinic_id,
                client_id=invoice.client_id,
                status__in=(AppointmentStatus.COMPLETED, AppointmentStatus.ARRIVED),
                invoice__isnull=True,
            )
            .exclude(
                pk__in=InvoiceLine.objects.filter(clinic_id=invoice.clinic_id, appointment__isnull=False).values(
                    "appointment_id"
                )
            )
            .select_related("appointment_type")
            .order_by("-starts_at")[:20]
        )
        if draft
        else [],
        products=list(Product.objects.filter(clinic_id=invoice.clinic_id, is_active=True)) if draft else [],
        tax_rates=list(TaxRate.objects.filter(clinic_id=invoice.clinic_id, is_active=True)) if draft else [],
        providers=_providers(lines, invoice.issued_on or actor.today()),
        taxes=_taxes(lines),
    )
    _audit_view(actor, invoice)
    return page


def line_or_404(invoice: Invoice, pk: int | str) -> InvoiceLine:
    return object_or_404(invoice.lines.select_related("invoice"), pk, "invoice line")


def package_or_404(actor: Actor, pk: int | str) -> Package:
    return object_or_404(Package.objects.filter(clinic_id=actor.clinic_id), pk, "package")


def payer_or_none(actor: Actor, pk: int | str | None) -> Payer | None:
    if not pk:
        return None
    return object_or_404(Payer.objects.filter(clinic_id=actor.clinic_id), pk, "payer")


def referral_or_none(actor: Actor, invoice: Invoice, pk: int | str | None) -> Referral | None:
    if not pk:
        return None
    return object_or_404(
        Referral.objects.filter(clinic_id=actor.clinic_id, client_id=invoice.client_id), pk, "referral"
    )


def product_or_404(actor: Actor, pk: int | str) -> Product:
    return object_or_404(Product.objects.filter(clinic_id=actor.clinic_id), pk, "product")


def tax_rate_or_none(actor: Actor, pk: int | str | None) -> TaxRate | None:
    if not pk:
        return None
    return object_or_404(TaxRate.objects.filter(clinic_id=actor.clinic_id), pk, "tax rate")


def visit_or_404(actor: Actor, invoice: Invoice, pk: int | str) -> Appointment:
    return object_or_404(
        Appointment.objects.filter(clinic_id=actor.clinic_id, client_id=invoice.client_id).select_related(
            "appointment_type", "clinic"
        ),
        pk,
        "visit",
    )


def document(actor: Actor, pk: int | str) -> InvoicePage:
    """The invoice for its printed form (PDF): the page's own data."""
    return invoice_page(actor, pk)


# --- The client page's billing card ------------------------------------------------------------


def client_billing_section(actor: Actor, client: Client) -> dict[str, object]:
    """Balance owing, open invoices, packages (own and shared) with sessions left, memberships. Four queries."""
    today = actor.today()
    owing = list(
        Invoice.objects.filter(
            clinic_id=actor.clinic_id, client=client, status=InvoiceStatus.ISSUED, kind=InvoiceKind.INVOICE
        )
        .filter(total__gt=F("amount_paid") + F("amount_written_off") + F("amount_credited"))
        .order_by("issued_on")
    )
    drafts = Invoice.objects.filter(clinic_id=actor.clinic_id, client=client, status=InvoiceStatus.DRAFT).count()
    packages = list(
        Package.objects.filter(
            Q(client=client) | Q(shared_with=client), clinic_id=actor.clinic_id, is_active=True, expires_on__gte=today
        )
        .select_related("client", "appointment_type")
        .distinct()
        .order_by("expires_on")
    )
    memberships = list(
        ClientMembership.objects.filter(client=client)
        .exclude(status=ClientMembership.Status.CANCELLED)
        .select_related("plan")
    )
    return {
        "billing": {
            "owing": owing,
            "balance": sum((i.balance for i in owing), ZERO),
            "drafts": drafts,
            "packages": packages,
            "memberships": memberships,
            **sale_choices(actor),
        }
    }


def package_plan_or_404(actor: Actor, pk: int | str) -> PackagePlan:
    return object_or_404(PackagePlan.objects.filter(clinic_id=actor.clinic_id, is_active=True), pk, "package")


def membership_plan_or_404(actor: Actor, pk: int | str) -> MembershipPlan:
    return object_or_404(MembershipPlan.objects.filter(clinic_id=actor.clinic_id, is_active=True), pk, "membership")


def membership_or_404(actor: Actor, pk: int | str) -> ClientMembership:
    return object_or_404(
        ClientMembership.objects.filter(clinic_id=actor.clinic_id, client__in=people_queries.clients(actor)),
        pk,
        "membership",
    )


def package_invoice_id(package_pk: int) -> int:
    """The draft that sells a package (just made by ``credits.package_sell``)."""
    return InvoiceLine.objects.filter(package_id=package_pk).values_list("invoice_id", flat=True).get()


def gift_card_invoice_id(card_pk: int) -> int:
    return InvoiceLine.objects.filter(gift_card_id=card_pk).values_list("invoice_id", flat=True).get()


def sale_choices(actor: Actor) -> dict[str, list[Any]]:
    """What the desk can sell on the client page: active package and membership plans (two queries)."""
    return {
        "package_plans": list(
            PackagePlan.objects.filter(clinic_id=actor.clinic_id, is_active=True).select_related("appointment_type")
        ),
        "membership_plans": list(MembershipPlan.objects.filter(clinic_id=actor.clinic_id, is_active=True)),
    }


def package_badges(actor: Actor, client_ids: Sequence[int], today: date) -> dict[int, list[str]]:
    """For booking (calendar, Today): each client's usable packages, own or shared, as
    "Five treatments: 3 of 5 left". Two queries (own, shared), whatever the number of clients."""
    usable = Q(is_active=True, expires_on__gte=today, sessions_used__lt=F("sessions_total"), clinic_id=actor.clinic_id)
    rows = list(
        Package.objects.filter(usable, client_id__in=client_ids)
        .order_by("expires_on")
        .values_list("client_id", "name", "sessions_used", "sessions_total")
    )
    shared = Package.shared_with.through.objects.filter(
        client_id__in=client_ids,
        package__in=Package.objects.filter(usable),
    ).order_by("package__expires_on")
    rows += list(shared.values_list("client_id", "package__name", "package__sessions_used", "package__sessions_total"))
    found: dict[int, list[str]] = {}
    for client_id, name, used, total in rows:
        found.setdefault(client_id, []).append(f"{name}: {total - used} of {total} left")
    return found


# --- For the REST API (mend/billing/api.py) ----------------------------------------------------
# Added for the billing API; reads only, scoped like the loaders above.


def invoice_rows(
    actor: Actor, *, status: str | None = None, client_id: int | None = None, owing: bool = False
) -> QuerySet[Invoice]:
    """Invoices and credit notes for the API's list, newest first: one query per page (client,
    payer and the corrected invoice joined), whatever the page's size."""
    found = invoices(actor).select_related("client", "payer", "corrects").order_by("-created_at", "-id")
    if status:
        found = found.filter(status=status)
    if client_id is not None:
        found = found.filter(client_id=client_id)
    if owing:
        found = found.filter(
            status=InvoiceStatus.ISSUED,
            kind=InvoiceKind.INVOICE,
            total__gt=F("amount_paid") + F("amount_written_off") + F("amount_credited"),
        )
    return found


def invoice_rows_seen(actor: Actor, rows: Sequence[Invoice]) -> None:
    """Audit a page of the list once, as the desk's list is (who was billed is health information)."""
    if rows:
        audit_record(
            action=Action.VIEW,
            object_type="billing.invoice_list",
            object_id="api",
            user=actor.user,
            clinic_id=actor.clinic_id,
        )


def client_packages(actor: Actor, client: Client) -> list[Package]:
    """A client's packages, own and shared with them (any state), soonest to expire first. One query."""
    return list(
        Package.objects.filter(Q(client=client) | Q(shared_with=client), clinic_id=actor.clinic_id)
        .select_related("client", "appointment_type")
        .distinct()
        .order_by("expires_on", "id")
    )


def client_memberships(actor: Actor, client: Client) -> list[ClientMembership]:
    """A client's memberships, cancelled ones too, newest first. One query."""
    return list(
        ClientMembership.objects.filter(clinic_id=actor.clinic_id, client=client)
        .select_related("plan")
        .order_by("-started_on", "-id")
    )


def membership_detail(actor: Actor, pk: int | str) -> ClientMembership:
    return object_or_404(
        ClientMembership.objects.filter(
            clinic_id=actor.clinic_id, client__in=people_queries.clients(actor)
        ).select_related("plan"),
        pk,
        "membership",
    )


def gift_card_or_404(actor: Actor, code: str) -> GiftCard:
    """A gift card of the actor's clinic by its code, however typed (spaces, dashes, case); else 404."""
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    pretty = "-".join(normal[i : i + 4] for i in range(0, len(normal), 4))
    card = GiftCard.objects.filter(clinic_id=actor.clinic_id, code=pretty).first()
    if card is None:
        raise Http404("No such gift card.")
    return card
