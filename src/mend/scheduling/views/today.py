"""The Today page's status buttons: arrived, completed, no-show, back to the day.

The day itself is the home page (``mend.web``), which reads ``scheduling.queries.today``. A
refusal (the appointment's day has not come, a step the status does not allow) is a message on
the day, never a 500.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from mend.platform.http import ActorRequest
from mend.platform.pages import actor_required
from mend.scheduling import services
from mend.scheduling.queries import today


@actor_required
@require_POST
def today_status(request: ActorRequest, pk: int) -> HttpResponse:
    appointment = today.day_appointment_or_404(request.actor, pk)
    try:
        changed = services.appointment_status_set(
            actor=request.actor, appointment=appointment, status=request.POST.get("status", "")
        )
    except services.BookingConflict as conflict:
        messages.error(request, conflict.message)
    except ValidationError as invalid:
        messages.error(request, " ".join(invalid.messages))
    else:
        messages.success(request, f"{changed.client.display_name}: marked {changed.get_status_display().lower()}.")
    return redirect("home")
