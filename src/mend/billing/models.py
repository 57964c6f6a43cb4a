"""Billing records: the clinic's prices, tax and policy; invoices, their lines and payments; credits.

Money is ``Decimal`` in the currency's minor unit everywhere (``mend.core.money`` holds the rounding
rules). An issued invoice never changes: its lines are frozen and a correction is a credit note,
an invoice of kind ``credit_note`` whose lines are the negated lines it reverses. Numbers are given
at issue, per clinic and kind, from :class:`NumberSequence` inside the issuing transaction, so a
rolled-back issue gives its number back and two issues never share one (docs/billing.md).
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from mend.clinical.models import Referral
from mend.clinics.models import Clinic, Location, Membership
from mend.people.models import Client
from mend.scheduling.models import Appointment, AppointmentType

ZERO = Decimal("0.00")


# --- The clinic's price list, tax and policy -------------------------------------------------


class ReceiptStandard(models.TextChoices):
    """What a receipt must carry before it is issued."""

    BASIC = "basic", "Basic: date, client, therapist, amount"
    # CMTO (Ontario): the RMT's registration number and signature, and the clinic's HST number.
    ONTARIO_RMT = "ontario_rmt", "Ontario RMT (CMTO): registration number, signature and HST number"


class BillingProfile(models.Model):
    """A clinic's billing settings: tax number, receipt rules, fee policy, tips, deposits."""

    clinic = models.OneToOneField(Clinic, on_delete=models.CASCADE, related_name="billing_profile")
    legal_name = models.CharField("business name on invoices", max_length=200, blank=True)
    tax_number_label = models.CharField(max_length=40, default="HST number", help_text="For example HST number, EIN.")
    tax_number = models.CharField(max_length=40, blank=True)
    group_npi = models.CharField("clinic NPI (group)", max_length=10, blank=True)
    receipt_standard = models.CharField(max_length=20, choices=ReceiptStandard.choices, default=ReceiptStandard.BASIC)
    service_tax_rate = models.ForeignKey(
        "TaxRate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The tax on treatments unless a price says otherwise.",
    )
    no_show_fee = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO, validators=[MinValueValidator(0)])
    late_cancel_fee = models.DecimalField(
        "late-cancellation fee", max_digits=12, decimal_places=2, default=ZERO, validators=[MinValueValidator(0)]
    )
    late_cancel_hours = models.PositiveSmallIntegerField(
        "late cancellation is within",
        default=24,
        validators=[MaxValueValidator(168)],
        help_text="Hours before the start.",
    )
    tips_on_card = models.BooleanField("take tips on card payments", default=False)
    deposit_percent = models.PositiveSmallIntegerField(
        "deposit at online booking (%)",
        default=0,
        validators=[MaxValueValidator(100)],
        help_text="0 takes no payment online; 100 is full prepayment. Needs the payment provider.",
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(120)], help_text="Days to pay an invoice; 0 is due on receipt."
    )
    invoice_footer = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"Billing of {self.clinic}"


class TaxRate(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="tax_rates")
    name = models.CharField(max_length=40, help_text="As printed on invoices, for example HST or Sales tax.")
    rate = models.DecimalField(
        "rate (%)", max_digits=7, decimal_places=4, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="tax_rate_name_unique_per_clinic")]

    def __str__(self) -> str:
        return f"{self.name} {self.rate.normalize():f}%"


class Price(models.Model):
    """A treatment's price at one location (or every location), overriding the appointment type's."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.CASCADE, related_name="prices")
    location = models.ForeignKey(Location, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    tax_rate = models.ForeignKey(
        TaxRate, on_delete=models.PROTECT, null=True, blank=True, related_name="+", help_text="Empty: no tax."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["appointment_type", "location"], name="price_once_per_type_and_location"),
            models.UniqueConstraint(
                fields=["appointment_type"], condition=models.Q(location=None), name="price_once_per_type_everywhere"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.appointment_type} {self.amount}"


class Product(models.Model):
    """Something the clinic sells besides treatment (a foam roller, a cold pack), taxed on its own."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    tax_rate = models.ForeignKey(TaxRate, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="product_name_unique_per_clinic")]

    def __str__(self) -> str:
        return self.name


class UnitRule(models.TextChoices):
    CMS = "cms", "CMS total time (8-minute rule)"
    AMA = "ama", "Per code (CPT mid-point rule)"


class Payer(models.Model):
    """An insurer (extended health, auto, workers' compensation) the clinic bills or writes superbills for."""

    class Kind(models.TextChoices):
        HEALTH = "health", "Health insurance"
        AUTO = "auto", "Auto insurance"
        WORKERS_COMP = "workers_comp", "Workers' compensation"
        OTHER = "other", "Other"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="payers")
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.HEALTH)
    unit_rule = models.CharField(max_length=4, choices=UnitRule.choices, default=UnitRule.CMS)
    requires_referral = models.BooleanField(
        default=True, help_text="Visits are billed only within a physician's referral: its visits and its dates."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="payer_name_unique_per_clinic")]

    def __str__(self) -> str:
        return self.name


class Coverage(models.Model):
    """A client's plan with a payer."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="coverages")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    member_id = models.CharField("member or claim number", max_length=60)
    group_number = models.CharField(max_length=60, blank=True)
    policy_holder = models.CharField(max_length=150, blank=True, help_text="Empty when the client holds it.")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["-is_active", "payer__name"]

    def __str__(self) -> str:
        return f"{self.payer} {self.member_id}"


# --- Invoices, lines, payments ---------------------------------------------------------------


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"


class NumberSequence(models.Model):
    """The next number of a clinic's invoices (or credit notes), taken under a row lock at issue."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices)
    next_number = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "kind"], name="number_sequence_once")]

    def __str__(self) -> str:
        return f"{self.kind} {self.next_number}"


class Invoice(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=12, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    status = models.CharField(max_length=8, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT)
    number = models.PositiveIntegerField(null=True, blank=True)
    # The visit (or the missed visit) this invoice charges; one invoice per appointment.
    appointment = models.OneToOneField(
        Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="invoice"
    )
    corrects = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes")
    payer = models.ForeignKey(
        Payer, on_delete=models.PROTECT, null=True, blank=True, related_name="invoices", help_text="Empty: self-pay."
    )
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    currency = models.CharField(max_length=3)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    due_on = models.DateField(null=True, blank=True)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    # Payments less refunds and write-offs, kept by the payment services under the invoice's lock.
    amount_paid = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    amount_written_off = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    amount_credited = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    notes = models.CharField("note on the invoice", max_length=300, blank=True)
    receipt_first_printed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "status", "issued_on"], name="invoice_clinic_issued"),
            models.Index(fields=["client", "created_at"], name="invoice_client_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "kind", "number"],
                condition=models.Q(number__isnull=False),
                name="invoice_number_once",
            ),
            models.CheckConstraint(
                condition=models.Q(status="draft", number__isnull=True)
                | models.Q(status="issued", number__isnull=False, issued_on__isnull=False),
                name="invoice_number_at_issue",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="invoice", corrects__isnull=True)
                | models.Q(kind="credit_note", corrects__isnull=False, appointment__isnull=True),
                name="credit_note_corrects_invoice",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        if self.number is None:
            return "Draft credit note" if self.kind == InvoiceKind.CREDIT_NOTE else "Draft invoice"
        prefix = "CN" if self.kind == InvoiceKind.CREDIT_NOTE else "INV"
        return f"{prefix}-{self.number:06d}"

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE

    @property
    def balance(self) -> Decimal:
        """What is still owed: the total less payments (net of refunds), write-offs and credit notes."""
        if self.is_credit_note or self.is_draft:
            return ZERO
        return self.total - self.amount_paid - self.amount_written_off - self.amount_credited

    @property
    def is_self_pay(self) -> bool:
        return self.payer_id is None


class LineKind(models.TextChoices):
    SERVICE = "service", "Treatment"
    PRODUCT = "product", "Product"
    NO_SHOW_FEE = "no_show_fee", "No-show fee"
    LATE_CANCEL_FEE = "late_cancel_fee", "Late-cancellation fee"
    PACKAGE = "package", "Package"
    MEMBERSHIP = "membership", "Membership fee"
    GIFT_CARD = "gift_card", "Gift card"
    OTHER = "other", "Other"


# Lines that are not revenue when sold: money held for services not yet given (a liability).
PREPAID_KINDS = (LineKind.PACKAGE, LineKind.GIFT_CARD)


class InvoiceLine(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=LineKind.choices, default=LineKind.SERVICE)
    description = models.CharField(max_length=200)
    service_on = models.DateField(null=True, blank=True)
    appointment = models.ForeignKey(Appointment, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    appointment_type = models.ForeignKey(
        AppointmentType, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    therapist = models.ForeignKey(Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The credit this line sold (a package or a gift card), for its liability.
    package = models.ForeignKey("Package", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    gift_card = models.ForeignKey("GiftCard", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # A credit note's line names the line it reverses.
    reverses = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    quantity = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("1"))
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    discount_reason = models.CharField(max_length=100, blank=True)
    tax_name = models.CharField(max_length=40, blank=True)
    tax_rate = models.DecimalField(max_digits=7, decimal_places=4, default=Decimal("0"))
    net = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["clinic", "kind"], name="invoice_line_clinic_kind")]

    def __str__(self) -> str:
        return self.description


class PaymentKind(models.TextChoices):
    PAYMENT = "payment", "Payment"
    REFUND = "refund", "Refund"
    WRITE_OFF = "write_off", "Write-off"


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CARD = "card", "Card (terminal)"
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    PACKAGE = "package", "Package credit"
    GIFT_CARD = "gift_card", "Gift card"
    ONLINE = "online", "Online (card)"
    INSURER = "insurer", "Insurer"
    WRITE_OFF = "write_off", "Write-off"


# Methods a person at the desk records; the others come from a package, gift card, provider or write-off.
DESK_METHODS = (PaymentMethod.CASH, PaymentMethod.CARD, PaymentMethod.BANK_TRANSFER, PaymentMethod.INSURER)


class Payment(models.Model):
    """Money received for an invoice, given back (a refund, negative), or written off."""

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="payments")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=PaymentKind.choices, default=PaymentKind.PAYMENT)
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    # Positive for a payment or write-off, negative for a refund; the tip is apart and not revenue.
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    tip = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO, validators=[MinValueValidator(0)])
    refund_of = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    package = models.ForeignKey("Package", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    gift_card = models.ForeignKey("GiftCard", on_delete=models.PROTECT, null=True, blank=True, related_name="entries")
    reference = models.CharField(max_length=120, blank=True, help_text="Terminal slip, transfer or provider reference.")
    note = models.CharField(max_length=200, blank=True)
    received_at = models.DateTimeField()
    received_on = models.DateField()
    recorded_by = models.ForeignKey(Membership, on_delete=models.PROTECT, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["received_at", "id"]
        indexes = [models.Index(fields=["clinic", "received_on"], name="payment_clinic_received")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="refund", amount__lt=0, refund_of__isnull=False)
                | models.Q(kind__in=["payment", "write_off"], amount__gt=0, refund_of__isnull=True),
                name="payment_amount_sign",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} ({self.get_method_display()})"


class PaymentShare(models.Model):
    """A payment's (or refund's) part of one line of its invoice, net and tax, in Decimal.

    Money received is shared over the invoice's lines in proportion to their totals when it is
    recorded (``services.payments``), so the cash report sums exact amounts by therapist, service
    and tax instead of working out proportions over every payment each time it is read.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="shares")
    line = models.ForeignKey(InvoiceLine, on_delete=models.CASCADE, related_name="payment_shares")
    # The payment's own, copied so the report reads one table and the line it joins.
    received_on = models.DateField()
    kind = models.CharField(max_length=10, choices=PaymentKind.choices)
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    net = models.DecimalField(max_digits=12, decimal_places=2)
    tax = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["clinic", "received_on"], name="payment_share_clinic_received")]

    def __str__(self) -> str:
        return f"{self.net} + {self.tax} of {self.payment}"


# --- Packages (and a membership's monthly credit), gift cards --------------------------------


class PackagePlan(models.Model):
    """What the clinic sells: N sessions of a type for a price, valid for so many days."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="package_plans")
    name = models.CharField(max_length=120)
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    sessions = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(100)])
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    valid_days = models.PositiveSmallIntegerField(
        default=365, validators=[MinValueValidator(1), MaxValueValidator(3650)]
    )
    sold_online = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["clinic", "name"], name="package_plan_name_unique_per_clinic")]

    def __str__(self) -> str:
        return self.name


class MembershipPlan(models.Model):
    """A monthly fee with sessions credited each month and member prices on everything else."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="membership_plans")
    name = models.CharField(max_length=120)
    monthly_fee = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    sessions_per_month = models.PositiveSmallIntegerField(default=1, validators=[MaxValueValidator(31)])
    member_discount_percent = models.PositiveSmallIntegerField(default=0, validators=[MaxValueValidator(100)])
    tax_rate = models.ForeignKey(TaxRate, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="membership_plan_name_unique_per_clinic")
        ]

    def __str__(self) -> str:
        return self.name


class ClientMembership(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="memberships")
    plan = models.ForeignKey(MembershipPlan, on_delete=models.PROTECT, related_name="members")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    started_on = models.DateField()
    # The next monthly fee falls due on this date; a paused membership is not charged.
    next_charge_on = models.DateField()
    paused_on = models.DateField(null=True, blank=True)
    cancelled_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["-started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["client", "plan"],
                condition=~models.Q(status="cancelled"),
                name="one_open_membership_per_plan",
            )
        ]

    def __str__(self) -> str:
        return f"{self.plan} for {self.client}"


class Package(models.Model):
    """Sessions a client holds: a package bought, or a membership's credit for one month.

    Shared with family members the owner names (each may use it at checkout and at booking).
    """

    class Source(models.TextChoices):
        PACKAGE = "package", "Package"
        MEMBERSHIP = "membership", "Membership credit"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="packages")
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.PACKAGE)
    plan = models.ForeignKey(PackagePlan, on_delete=models.PROTECT, null=True, blank=True, related_name="sold")
    membership = models.ForeignKey(
        ClientMembership, on_delete=models.PROTECT, null=True, blank=True, related_name="credits"
    )
    name = models.CharField(max_length=120)
    appointment_type = models.ForeignKey(AppointmentType, on_delete=models.PROTECT, related_name="+")
    sessions_total = models.PositiveSmallIntegerField()
    sessions_used = models.PositiveSmallIntegerField(default=0)
    # What the client paid for all the sessions (0 for a membership's credit: the fee is its own line).
    price = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    starts_on = models.DateField()
    expires_on = models.DateField()
    shared_with = models.ManyToManyField(Client, blank=True, related_name="shared_packages")
    # A package is usable once the invoice that sold it is issued.
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expires_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(sessions_used__lte=models.F("sessions_total")), name="package_not_overdrawn"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def sessions_left(self) -> int:
        return self.sessions_total - self.sessions_used


class PackageRedemption(models.Model):
    """One session of a package used for one visit line; reversed by a credit note or a refund."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    package = models.ForeignKey(Package, on_delete=models.PROTECT, related_name="redemptions")
    line = models.ForeignKey(InvoiceLine, on_delete=models.PROTECT, related_name="redemptions")
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="redemption")
    # What the session was worth to the clinic: the package's price shared across its sessions.
    value = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    redeemed_on = models.DateField()
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["redeemed_on", "id"]

    def __str__(self) -> str:
        return f"{self.package} used on {self.redeemed_on}"


def new_gift_card_code() -> str:
    """Sixteen characters without look-alikes (no 0/O, 1/I/L), in groups of four."""
    alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


class GiftCard(models.Model):
    """Money held for a future visit: a liability with no tax at sale (tax falls on the service it pays)."""

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=19, default=new_gift_card_code)
    amount = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("1"))])
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    purchaser = models.ForeignKey(Client, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    recipient_name = models.CharField(max_length=150, blank=True)
    sold_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)
    # Usable once the invoice that sold it is issued.
    is_active = models.BooleanField(default=False)

    class Meta:
        ordering = ["-sold_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "code"], name="gift_card_code_unique_per_clinic"),
            models.CheckConstraint(
                condition=models.Q(balance__gte=0, balance__lte=models.F("amount")), name="gift_card_balance_bounds"
            ),
        ]

    def __str__(self) -> str:
        return f"Gift card …{self.code[-4:]}"


# --- Online payments through the provider ----------------------------------------------------


class ProviderCheckout(models.Model):
    """A deposit or prepayment asked of a client booking online, through the payment provider."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for payment"
        PAID = "paid", "Paid"
        EXPIRED = "expired", "Expired"

    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="checkouts")
    provider = models.CharField(max_length=20)
    session_id = models.CharField(max_length=255, unique=True)
    url = models.URLField(max_length=1000)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    payment_reference = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.provider} {self.session_id}"


class ProviderEventSeen(models.Model):
    """A provider's webhook event handled once: a retried delivery finds its id here and does nothing."""

    provider = models.CharField(max_length=20)
    event_id = models.CharField(max_length=255)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once")]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}"
