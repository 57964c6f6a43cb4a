"""Selling packages and gift cards, and memberships with their monthly fee and session credit.

A package or a gift card is sold as a line of a draft invoice and becomes usable when that invoice
is issued (``invoices.invoice_issue``). Both are money held for care not yet given: no tax at
sale, and the tax falls on each visit they pay for, which is invoiced at its full fee (the
"insurance-friendly" receipt: the visit's fee, paid by package credit). docs/billing.md.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, time, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from mend.audit.models import Action
from mend.audit.services import audit_record
from mend.billing.models import (
    ClientMembership,
    GiftCard,
    Invoice,
    InvoiceLine,
    LineKind,
    MembershipPlan,
    Package,
    PackagePlan,
)
from mend.billing.services import invoices
from mend.clinics.models import Clinic
from mend.core import money
from mend.core.availability import exact_local
from mend.people.models import Client
from mend.platform import clock
from mend.platform.actor import Actor
from mend.platform.tasks import enqueue_on_commit


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, or the month's last day (31 January + 1 month = 28/29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _draft_for(actor: Actor | None, clinic: Clinic, client: Client, invoice: Invoice | None) -> Invoice:
    if invoice is None:
        return invoices.invoice_create(actor=actor, clinic=clinic, client=client)
    if invoice.client_id != client.pk or not invoice.is_draft:
        raise ValidationError({"invoice": "Add it to a draft invoice of the same client."})
    return invoice


def _package_on(draft: Invoice, *, client: Client, plan: PackagePlan, starts: date, actor: Actor | None) -> Package:
    package = Package.objects.create(
        clinic_id=client.clinic_id,
        client=client,
        plan=plan,
        name=plan.name,
        appointment_type_id=plan.appointment_type_id,
        sessions_total=plan.sessions,
        price=plan.price,
        starts_on=starts,
        expires_on=starts + timedelta(days=plan.valid_days),
    )
    current = Invoice.objects.select_for_update().get(pk=draft.pk)
    invoices._require_draft(current)
    invoices._add_line(
        current,
        InvoiceLine(
            kind=LineKind.PACKAGE,
            description=(
                f"{plan.name}: {plan.sessions} × {plan.appointment_type.name}, valid to {package.expires_on:%-d %b %Y}"
            ),
            package=package,
            appointment_type_id=plan.appointment_type_id,
            unit_price=plan.price,
            service_on=starts,
        ),
    )
    audit_record(
        action=Action.CREATE,
        obj=package,
        client_id=client.pk,
        user=actor.user if actor is not None else None,
        clinic_id=client.clinic_id,
    )
    return package


@transaction.atomic
def package_sell(
    *, actor: Actor, client: Client, plan: PackagePlan, invoice: Invoice | None = None, starts_on: date | None = None
) -> Package:
    """Put a package on a draft invoice (a new one unless given); it can be used once the invoice is issued."""
    invoices.require_billing(actor)
    if plan.clinic_id != actor.clinic_id or client.clinic_id != actor.clinic_id or not plan.is_active:
        raise ValidationError({"plan": "This clinic does not sell that package."})
    draft = _draft_for(actor, actor.clinic, client, invoice)
    return _package_on(draft, client=client, plan=plan, starts=starts_on or actor.today(), actor=actor)


@transaction.atomic
def package_sell_online(*, client: Client, plan: PackagePlan) -> Invoice:
    """A client buying a package online: its invoice, issued, with the package held back until the
    payment arrives (``activate_paid_credits``)."""
    if plan.clinic_id != client.clinic_id or not plan.is_active or not plan.sold_online:
        raise ValidationError({"plan": "This package is not sold online."})
    clinic = client.clinic
    draft = invoices.invoice_create(actor=None, clinic=clinic, client=client)
    package = _package_on(draft, client=client, plan=plan, starts=clock.local_today(clinic.timezone), actor=None)
    issued = invoices.invoice_issue(actor=None, invoice=draft)
    Package.objects.filter(pk=package.pk).update(is_active=False)
    return issued


def activate_paid_credits(invoice: Invoice) -> int:
    """Once an invoice sold online is paid in full, the packages it sold can be used. How many."""
    if invoice.balance > 0:
        return 0
    ids = [pk for pk in invoice.lines.values_list("package_id", flat=True) if pk]
    return Package.objects.filter(pk__in=ids, is_active=False, sessions_used=0).update(is_active=True)


@transaction.atomic
def package_share(*, actor: Actor, package: Package, members: Iterable[Client]) -> Package:
    """Let family members use the package too (the owner's choice, recorded)."""
    invoices.require_billing(actor)
    chosen = list(members)
    if any(member.clinic_id != package.clinic_id or member.pk == package.client_id for member in chosen):
        raise ValidationError({"shared_with": "Share with other clients of this clinic."})
    package.shared_with.set(chosen)
    audit_record(
        action=Action.UPDATE, obj=package, client_id=package.client_id, user=actor.user, clinic_id=package.clinic_id
    )
    return package


@transaction.atomic
def gift_card_sell(
    *,
    actor: Actor,
    purchaser: Client,
    amount: Decimal,
    recipient_name: str = "",
    invoice: Invoice | None = None,
    valid_days: int | None = None,
) -> GiftCard:
    invoices.require_billing(actor)
    if amount != money.quantize(amount, actor.clinic.currency) or amount < 1:
        raise ValidationError({"amount": "A gift card holds at least 1.00, in whole cents."})
    draft = _draft_for(actor, actor.clinic, purchaser, invoice)
    today = actor.today()
    for _ in range(3):
        try:
            with transaction.atomic():
                card = GiftCard.objects.create(
                    clinic_id=purchaser.clinic_id,
                    amount=amount,
                    purchaser=purchaser,
                    recipient_name=recipient_name.strip()[:150],
                    sold_on=today,
                    expires_on=today + timedelta(days=valid_days) if valid_days else None,
                )
            break
        except IntegrityError:  # a code already taken: draw another
            continue
    else:
        raise ValidationError({"__all__": "Could not draw a new gift card code; try again."})
    current = Invoice.objects.select_for_update().get(pk=draft.pk)
    invoices._require_draft(current)
    for_whom = f" for {card.recipient_name}" if card.recipient_name else ""
    invoices._add_line(
        current,
        InvoiceLine(
            kind=LineKind.GIFT_CARD,
            description=f"Gift card{for_whom} ({card.code[-4:]})",
            gift_card=card,
            unit_price=amount,
            service_on=today,
        ),
    )
    audit_record(action=Action.CREATE, obj=card, client_id=purchaser.pk, user=actor.user, clinic_id=purchaser.clinic_id)
    return card


# --- Memberships ----------------------------------------------------------------------------

# The hour (clinic's time) a membership's fee is charged on its day.
CHARGE_HOUR = time(6)


def _schedule_charge(membership: ClientMembership) -> None:
    """Plan the next fee for the worker: on its day at 06:00 in the clinic's zone (after commit)."""
    from mend.billing.tasks import membership_charge

    when = exact_local(membership.next_charge_on, CHARGE_HOUR, membership.clinic.timezone)
    enqueue_on_commit(
        membership_charge.using(run_after=when), membership_id=membership.pk, due=membership.next_charge_on.isoformat()
    )


def membership_charge_scheduled(*, membership_id: int, due: str) -> str:
    """The worker's run on a fee day. Only the membership's current due date is charged, so a task
    made before a pause, a resume or a manual charge finds the date moved and does nothing."""
    with transaction.atomic():
        row = (
            ClientMembership.objects.select_for_update(of=("self",))
            .select_related("plan", "clinic", "client", "plan__tax_rate")
            .filter(pk=membership_id)
            .first()
        )
        if row is None or row.status != ClientMembership.Status.ACTIVE:
            return "not active"
        if row.next_charge_on.isoformat() != due or row.next_charge_on > clock.local_today(row.clinic.timezone):
            return "not due"
        _charge(row, actor=None, on=row.next_charge_on)
        _schedule_charge(row)
    return "charged"


def _charge(membership: ClientMembership, *, actor: Actor | None, on: date) -> Invoice:
    """One month's fee, issued, and the month's sessions credited as a package until the next charge."""
    plan = membership.plan
    invoice = invoices.invoice_create(actor=actor, clinic=membership.clinic, client=membership.client)
    period_end = add_months(on, 1) - timedelta(days=1)
    credit = None
    if plan.sessions_per_month:
        credit = Package.objects.create(
            clinic_id=membership.clinic_id,
            client_id=membership.client_id,
            source=Package.Source.MEMBERSHIP,
            membership=membership,
            name=f"{plan.name}: {on:%B %Y}",
            appointment_type_id=plan.appointment_type_id,
            sessions_total=plan.sessions_per_month,
            starts_on=on,
            expires_on=period_end,
        )
    tax_name, tax_rate = invoices._tax_of(plan.tax_rate)
    invoices._add_line(
        invoice,
        InvoiceLine(
            kind=LineKind.MEMBERSHIP,
            description=f"{plan.name}, {on:%-d %b} – {period_end:%-d %b %Y}",
            package=credit,
            unit_price=plan.monthly_fee,
            tax_name=tax_name,
            tax_rate=tax_rate,
            service_on=on,
        ),
    )
    issued = invoices.invoice_issue(actor=actor, invoice=invoice, issued_on=on)
    membership.next_charge_on = add_months(on, 1)
    membership.save(update_fields=["next_charge_on"])
    return issued


@transaction.atomic
def membership_start(
    *, actor: Actor, client: Client, plan: MembershipPlan, starts_on: date | None = None
) -> ClientMembership:
    """Join a plan: the first month is invoiced at once, and each month after on the same day."""
    invoices.require_billing(actor)
    if plan.clinic_id != actor.clinic_id or client.clinic_id != actor.clinic_id or not plan.is_active:
        raise ValidationError({"plan": "This clinic does not offer that membership."})
    starts = starts_on or actor.today()
    if starts < actor.today():
        raise ValidationError({"starts_on": "A membership starts today or later."})
    if (
        ClientMembership.objects.filter(client=client, plan=plan)
        .exclude(status=ClientMembership.Status.CANCELLED)
        .exists()
    ):
        raise ValidationError({"plan": f"{client} is already a member of {plan.name}."})
    membership = ClientMembership.objects.create(
        clinic_id=client.clinic_id, client=client, plan=plan, started_on=starts, next_charge_on=starts
    )
    audit_record(action=Action.CREATE, obj=membership, client_id=client.pk, user=actor.user, clinic_id=client.clinic_id)
    if starts == actor.today():
        _charge(membership, actor=actor, on=starts)
    _schedule_charge(membership)
    return membership


@transaction.atomic
def membership_pause(*, actor: Actor, membership: ClientMembership) -> ClientMembership:
    invoices.require_billing(actor)
    row = ClientMembership.objects.select_for_update().get(pk=membership.pk)
    if row.status != ClientMembership.Status.ACTIVE:
        raise ValidationError({"__all__": "Only an active membership is paused."})
    row.status, row.paused_on = ClientMembership.Status.PAUSED, actor.today()
    row.save(update_fields=["status", "paused_on"])
    audit_record(action=Action.UPDATE, obj=row, client_id=row.client_id, user=actor.user, clinic_id=row.clinic_id)
    return row


@transaction.atomic
def membership_resume(*, actor: Actor, membership: ClientMembership) -> ClientMembership:
    """Active again; the next fee falls due today if its day passed while paused (months paused are not charged)."""
    invoices.require_billing(actor)
    row = ClientMembership.objects.select_for_update().get(pk=membership.pk)
    if row.status != ClientMembership.Status.PAUSED:
        raise ValidationError({"__all__": "Only a paused membership is resumed."})
    row.status, row.paused_on = ClientMembership.Status.ACTIVE, None
    row.next_charge_on = max(row.next_charge_on, actor.today())
    row.save(update_fields=["status", "paused_on", "next_charge_on"])
    _schedule_charge(row)
    audit_record(action=Action.UPDATE, obj=row, client_id=row.client_id, user=actor.user, clinic_id=row.clinic_id)
    return row


@transaction.atomic
def membership_cancel(*, actor: Actor, membership: ClientMembership) -> ClientMembership:
    """No more fees; sessions already credited stay usable until their month ends."""
    invoices.require_billing(actor)
    row = ClientMembership.objects.select_for_update().get(pk=membership.pk)
    if row.status == ClientMembership.Status.CANCELLED:
        raise ValidationError({"__all__": "That membership was cancelled already."})
    row.status, row.cancelled_on = ClientMembership.Status.CANCELLED, actor.today()
    row.save(update_fields=["status", "cancelled_on"])
    audit_record(action=Action.UPDATE, obj=row, client_id=row.client_id, user=actor.user, clinic_id=row.clinic_id)
    return row


def memberships_charge_due(*, clinic: Clinic, today: date) -> int:
    """Invoice every active membership whose fee falls due by ``today`` (the worker runs this daily).

    One transaction per membership, each taking its row's lock and checking the date again, so two
    workers never charge the same month twice. Months missed while the worker was down are each
    charged on their own date.
    """
    charged = 0
    ids = list(
        ClientMembership.objects.filter(
            clinic=clinic, status=ClientMembership.Status.ACTIVE, next_charge_on__lte=today
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        while True:
            with transaction.atomic():
                row = (
                    ClientMembership.objects.select_for_update(of=("self",))
                    .select_related("plan", "clinic", "client", "plan__tax_rate")
                    .get(pk=pk)
                )
                if row.status != ClientMembership.Status.ACTIVE or row.next_charge_on > today:
                    break
                _charge(row, actor=None, on=row.next_charge_on)
                charged += 1
    return charged
