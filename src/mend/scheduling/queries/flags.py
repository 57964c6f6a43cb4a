"""What booking needs to know about a client, and what a therapist sees beside each appointment.

:func:`booking_flags` answers for any number of clients in a bounded number of queries (the
calendar's week, the Today page, the booking form all ask about many clients at once):

- **Every staff role** (front desk included) gets :class:`BookingFlags`: the referral's
  authorisation (visits authorised, used, booked ahead, left; its end date; "beyond authorisation"
  and "referral expired" warnings) and a booking-safe flag — "clearance pending" or "do not book:
  see therapist" — that never says which condition or finding is behind it.
- **Clinical roles** (owner, admin, therapist) get :class:`ClinicalFlags`, the same plus today's
  screening flags (as ``clinical.queries.todays_flags`` gives them) and the outcome measures due
  (``outcomes.queries.todays_due``), for the clients they may see.

Front desk's object is a :class:`BookingFlags` and nothing more: it has no attribute that could
carry a finding, a rule or an episode's title, so no template can show one by mistake.

**Visits used and booked.** A visit *used* is a signed treatment note counted against the
referral: the same count the chart and the insurer see. A visit *booked* is an appointment of the
client that is booked or arrived, from the clinic's today on, on a day without a signed note for
that referral yet (so a visit in progress counts once, and once its note is signed it counts as
used). Completed and no-show appointments do not count: a completed visit counts when its note is
signed, and a no-show used no treatment. Warnings warn, they never block: a physician may extend a
referral after the booking is made.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Q

from mend import access
from mend.audit.models import Action as AuditAction
from mend.audit.services import audit_record
from mend.clinical import queries as clinical_queries
from mend.clinical.models import Clearance, NoteStatus, Referral, ScreeningFinding, TreatmentNote
from mend.clinical.queries import intake as intake_queries
from mend.clinical.rules import ReferralState, referral_status
from mend.clinical.screening import Action
from mend.outcomes import queries as outcome_queries
from mend.platform import clock
from mend.platform.actor import Actor
from mend.scheduling.models import Appointment, AppointmentStatus
from mend.scheduling.queries.calendar import window

CLEARANCE_PENDING = "clearance pending"
DO_NOT_BOOK = "do not book: see therapist"

# Appointments that will use a visit of the referral when they happen.
_AHEAD = (AppointmentStatus.BOOKED, AppointmentStatus.ARRIVED)


@dataclass(frozen=True, slots=True)
class Authorisation:
    """A client's current referral as booking sees it: no diagnosis, no reason, only the numbers."""

    referral_id: int
    referred_on: date
    visits_authorised: int | None
    visits_used: int
    # Starts of the client's appointments ahead (see the module's docstring), in order.
    booked: tuple[datetime, ...]
    valid_until: date | None
    today: date
    zone: str

    @property
    def visits_booked(self) -> int:
        return len(self.booked)

    @property
    def visits_left(self) -> int | None:
        """Visits still to book: authorised, less used and booked ahead; None without a limit."""
        if self.visits_authorised is None:
            return None
        return max(0, self.visits_authorised - self.visits_used - self.visits_booked)

    @property
    def expired(self) -> bool:
        return self.valid_until is not None and self.today > self.valid_until

    @property
    def beyond(self) -> bool:
        """More visits used and booked than the referral authorises."""
        return self.visits_authorised is not None and self.visits_used + self.visits_booked > self.visits_authorised

    @property
    def warnings(self) -> list[str]:
        """What the front desk should know before booking another visit today."""
        found = []
        if self.expired:
            assert self.valid_until is not None
            found.append(f"Referral expired on {self.valid_until:%-d %b %Y}.")
        if self.beyond:
            found.append(
                f"Booked beyond authorisation: {self.visits_used + self.visits_booked} visits used or booked, "
                f"{self.visits_authorised} authorised."
            )
        elif self.visits_left == 0:
            found.append(f"All {self.visits_authorised} authorised visits are used or booked.")
        return found

    @property
    def ahead(self) -> list[tuple[datetime, list[str]]]:
        """Each visit booked ahead with its warnings, in order."""
        return [(s, self.appointment_warnings(s)) for s in self.booked]

    def visit_warnings(self, number: int, starts_at: datetime) -> list[str]:
        """Warnings for visit ``number`` of the referral (counting those used) at ``starts_at``."""
        found = []
        if self.visits_authorised is not None and number > self.visits_authorised:
            found.append(f"Beyond authorisation: visit {number} of {self.visits_authorised} authorised.")
        if self.valid_until is not None and clock.local_date(starts_at, self.zone) > self.valid_until:
            found.append(f"After the referral expires ({self.valid_until:%-d %b %Y}).")
        return found

    def new_booking_warnings(self, starts_at: datetime) -> list[str]:
        """Warnings for booking one more visit at ``starts_at``: it would be the next visit in number."""
        return self.visit_warnings(self.visits_used + self.visits_booked + 1, starts_at)

    def appointment_warnings(self, starts_at: datetime) -> list[str]:
        """Warnings for an appointment already booked ahead at ``starts_at`` (its number counts those before it)."""
        if starts_at not in self.booked:
            return []
        number = self.visits_used + sum(1 for s in self.booked if s <= starts_at)
        return self.visit_warnings(number, starts_at)


@dataclass(frozen=True, slots=True)
class BookingFlags:
    """What any staff member booking a client sees: the authorisation and a flag without its reason."""

    client_id: int
    authorisation: Authorisation | None
    # "" when nothing stops booking; else CLEARANCE_PENDING or DO_NOT_BOOK (never the finding).
    booking_flag: str = ""
    # What other apps add for whoever books (billing: "Package: 3 of 5 left").
    badges: tuple[str, ...] = ()

    @property
    def do_not_book(self) -> bool:
        return self.booking_flag == DO_NOT_BOOK

    @property
    def warnings(self) -> list[str]:
        return self.authorisation.warnings if self.authorisation is not None else []


@dataclass(frozen=True, slots=True)
class ClinicalFlags(BookingFlags):
    """What a clinician sees as well: today's screening flags and the measures due."""

    screening: list[clinical_queries.TodayFlag] = field(default_factory=list)
    due: list[Any] = field(default_factory=list)  # outcomes.queries.DueToday


def _booking_flags(findings: Iterable[ScreeningFinding], clearances: Iterable[Clearance], today: date) -> str:
    """The booking-safe flag of one client's open episodes: the most severe of them."""
    by_episode: dict[int, list[ScreeningFinding]] = {}
    for f in findings:
        by_episode.setdefault(f.episode_id, []).append(f)
    cleared: dict[int, list[Clearance]] = {}
    for c in clearances:
        cleared.setdefault(c.episode_id, []).append(c)
    flag = ""
    for episode_id, held in by_episode.items():
        screening = clinical_queries.screening_from(held, cleared.get(episode_id, []), today)
        if screening.status in (Action.REFER, Action.BLOCK):
            return DO_NOT_BOOK
        if screening.uncleared:
            flag = CLEARANCE_PENDING
    return flag


def _authorisations(
    actor: Actor, client_ids: Collection[int], *, today: date, exclude_appointment: int | None = None
) -> dict[int, Authorisation]:
    """Each client's current referral with its visits used and booked: three queries at most."""
    referrals = list(
        Referral.objects.filter(
            clinic_id=actor.clinic_id,
            client_id__in=client_ids,
            closed_at__isnull=True,
            episode__discharged_on__isnull=True,
            referred_on__lte=today,
        ).order_by("client_id", "-referred_on", "-id")
    )  # 1: the clients' open referrals, newest first
    if not referrals:
        return {}
    signed: dict[int, list[date]] = {}
    notes = TreatmentNote.objects.filter(referral__in=[r.pk for r in referrals], status=NoteStatus.SIGNED)
    for referral_id, visit_on in notes.values_list("referral_id", "visit_on"):  # 2: their signed visits
        signed.setdefault(referral_id, []).append(visit_on)
    usable = {
        r.pk: referral_status(
            visits_authorised=r.visits_authorised,
            visits_used=len(signed.get(r.pk, [])),
            valid_until=r.valid_until,
            today=today,
        ).state
        in (ReferralState.RECEIVED, ReferralState.ACTIVE)
        for r in referrals
    }
    # The current referral, as the chart chooses it: the newest a visit can still count against,
    # else the newest (an exhausted or expired one, whose warnings booking must see).
    current: dict[int, Referral] = {}
    for r in referrals:
        held = current.get(r.client_id)
        if held is None or (usable[r.pk] and not usable[held.pk]):
            current[r.client_id] = r
    zone = actor.timezone
    start, _end = window(zone, today, today)
    ahead = Appointment.objects.filter(
        clinic_id=actor.clinic_id, client_id__in=list(current), status__in=_AHEAD, starts_at__gte=start
    )
    if exclude_appointment is not None:
        ahead = ahead.exclude(pk=exclude_appointment)
    booked: dict[int, list[datetime]] = {}
    for client_id, starts_at in ahead.order_by("starts_at").values_list("client_id", "starts_at"):  # 3
        booked.setdefault(client_id, []).append(starts_at)
    found = {}
    for client_id, r in current.items():
        days = set(signed.get(r.pk, []))
        found[client_id] = Authorisation(
            referral_id=r.pk,
            referred_on=r.referred_on,
            visits_authorised=r.visits_authorised,
            visits_used=len(signed.get(r.pk, [])),
            booked=tuple(s for s in booked.get(client_id, []) if clock.local_date(s, zone) not in days),
            valid_until=r.valid_until,
            today=today,
            zone=zone,
        )
    return found


# Apps above scheduling add badges for booking without scheduling importing them: each is called
# once per page with the clients shown and answers {client id: [badge, …]} in a fixed number of queries.
BadgeSource = Callable[[Actor, Sequence[int], date], Mapping[int, Sequence[str]]]
_badge_sources: list[BadgeSource] = []


def add_booking_badges(source: BadgeSource) -> None:
    if source not in _badge_sources:
        _badge_sources.append(source)


def _badges(actor: Actor, ids: Sequence[int], today: date) -> dict[int, tuple[str, ...]]:
    found: dict[int, list[str]] = {}
    for source in _badge_sources:
        for client_id, badges in source(actor, ids, today).items():
            found.setdefault(client_id, []).extend(badges)
    return {client_id: tuple(badges) for client_id, badges in found.items()}


def booking_flags(actor: Actor, client_ids: Iterable[int], *, today: date) -> dict[int, BookingFlags]:
    """Each client's flags for booking (every staff role) and, for clinical roles, for care.

    ``today`` is the clinic's (``actor.today()``). Clients of another clinic are left out. Queries,
    however many clients: the referrals, their signed visits, the appointments ahead (3, 1 when no
    client has a referral); the screening findings and their clearances (2, 1 without findings);
    the questionnaires clients sent from home that no therapist has reviewed yet (1);
    for clinical roles also ``todays_flags`` (2) and ``todays_due`` (3), audited once as a read of
    the clients' screening.
    """
    ids = sorted(set(client_ids))
    if not ids:
        return {}
    authorisations = _authorisations(actor, ids, today=today)
    findings: dict[int, list[ScreeningFinding]] = {}
    for f in ScreeningFinding.objects.filter(
        clinic_id=actor.clinic_id,
        client_id__in=ids,
        episode__discharged_on__isnull=True,
        recorded_on__lte=today,
    ).filter(
        Q(resolved_on__isnull=True) | Q(resolved_on__gt=today), Q(applies_on__isnull=True) | Q(applies_on=today)
    ):  # the findings that hold today on the clients' open episodes
        findings.setdefault(f.client_id, []).append(f)
    clearances: dict[int, list[Clearance]] = {}
    if findings:
        episode_ids = {f.episode_id for held in findings.values() for f in held}
        for c in Clearance.objects.filter(episode_id__in=episode_ids, cleared_on__lte=today):  # their clearances
            clearances.setdefault(c.client_id, []).append(c)
    # A REFER or BLOCK answer a client reported from home holds booking until a therapist reviews it.
    reported = intake_queries.clients_do_not_book(actor.clinic_id, ids)
    badges = _badges(actor, ids, today)
    booking = {
        client_id: BookingFlags(
            client_id=client_id,
            authorisation=authorisations.get(client_id),
            badges=badges.get(client_id, ()),
            booking_flag=DO_NOT_BOOK
            if client_id in reported
            else _booking_flags(findings.get(client_id, []), clearances.get(client_id, []), today),
        )
        for client_id in ids
    }
    if not access.can_see_clinical(actor):
        return dict(booking)
    screening: dict[int, list[clinical_queries.TodayFlag]] = {}
    for flag in clinical_queries.todays_flags(actor, today, client_ids=ids):
        screening.setdefault(flag.episode.client_id, []).append(flag)
    due: dict[int, list[Any]] = {}
    for d in outcome_queries.todays_due(actor, today, client_ids=ids):
        due.setdefault(d.episode.client_id, []).append(d)
    if screening or due:
        # Findings and measures beside clients' names: a read of clinical information.
        audit_record(action=AuditAction.VIEW, object_type="clinical.today", user=actor.user)
    return {
        client_id: ClinicalFlags(
            client_id=client_id,
            authorisation=flags.authorisation,
            booking_flag=flags.booking_flag,
            badges=flags.badges,
            screening=screening.get(client_id, []),
            due=due.get(client_id, []),
        )
        for client_id, flags in booking.items()
    }


def referral_warnings(
    actor: Actor, *, client_id: int, starts_at: datetime, exclude_appointment: int | None = None
) -> list[str]:
    """Warnings for booking (or moving, ``exclude_appointment``) a visit of the client at ``starts_at``:
    beyond the visits authorised, or after the referral expires. They warn; they never block.
    Three queries (one when the client has no open referral)."""
    authorisation = _authorisations(
        actor, [client_id], today=actor.today(), exclude_appointment=exclude_appointment
    ).get(client_id)
    return authorisation.new_booking_warnings(starts_at) if authorisation is not None else []


def chart_authorisation(actor: Actor, chart: Any) -> dict[str, Any]:
    """The chart's booking section (``clinical.queries.add_chart_section``): the client's current
    referral with the visits booked ahead and their warnings. Three queries; none once discharged."""
    episode = chart.episode
    if not episode.is_open:
        return {"booking_authorisation": None}
    found = _authorisations(actor, [episode.client_id], today=chart.today).get(episode.client_id)
    return {"booking_authorisation": found}


def appointment_referral_warnings(actor: Actor, appointment: Appointment) -> list[str]:
    """Warnings for an appointment just booked or moved (it counts among the visits ahead): beyond
    the visits authorised, or after the referral expires. Three queries (one without a referral)."""
    found = _authorisations(actor, [appointment.client_id], today=actor.today()).get(appointment.client_id)
    return found.appointment_warnings(appointment.starts_at) if found is not None else []
