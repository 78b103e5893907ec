from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from schools.selectors import schools_requiring

from .selectors import escalation_heartbeat


@login_required
@require_GET
def board(request):
    """Office home: the sign-out board."""
    schools = schools_requiring(request.user, "view_board")
    return render(
        request,
        "tracking/board.html",
        {"schools": schools, "heartbeat": escalation_heartbeat()},
    )


@login_required
@require_GET
def escalations(request):
    """Manager home: escalations that need a decision."""
    schools = schools_requiring(request.user, "receive_escalations")
    return render(request, "tracking/escalations.html", {"schools": schools})
