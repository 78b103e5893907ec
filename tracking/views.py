"""The sign-out board, the visitor's phone page, the ladder's pages and the check-in link.
Thin: access through a selector, a form, one service call, a redirect or a page."""

import json
import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods

from audit.downloads import same_site_download
from core.client import client_address
from core.search import search_text
from riskassess.gates import assessment_currency

from . import (
    acknowledgements,
    chain,
    checkins,
    common,
    locations,
    outbox,
    pins,
    receipts,
    selectors,
    signouts,
)
from .forms import (
    CallAttemptForm,
    ChainMinutesForm,
    DecisionForm,
    ExtendForm,
    PinsForm,
    SignOutForm,
    add_service_errors,
)
from .models import AckLink, Acknowledgement, CheckInLink, SignOut, TrackingEvent
from .throttle import throttle_hit
from .tokens import (
    CheckInTokenExpired,
    CheckInTokenInvalid,
    ack_token_read,
    checkin_token_read,
)
from .webhooks import NOTIFY, TWILIO, provider_webhook

logger = logging.getLogger(__name__)
GET_POST = require_http_methods(["GET", "POST"])
REFUSED = (common.TrackingBlocked, common.TrackingConflict)


def _next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    # A path on this site only: anything else (say `next=board`) would be read by redirect() as
    # a URL name and fail with a 500 (found by tests/test_security_hostile_input.py).
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _actor(request, signout: SignOut) -> tuple[str, object]:
    """Who is acting and from where: a visitor on their own phone, or the office board."""
    for visitor in signout.visitors.all():
        if visitor.user_id == request.user.pk:
            return TrackingEvent.Via.PHONE, request.user
    return TrackingEvent.Via.BOARD, None


def _errors(error) -> list[str]:
    return error.messages if hasattr(error, "messages") else [str(error)]


# ---------------------------------------------------------------------------------------------
# The board and the pages people land on
# ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def board(request):
    """Office home: who is out, who is late, who is waiting to go, who came back today. htmx
    polls the same URL every few seconds for the live part only, and the page raises the alarm
    itself when a visit turns overdue or climbs a step (R-ESC-12)."""
    search = search_text(request.GET, length=60)
    if request.htmx and selectors.board_poll_unchanged(
        user=request.user, shown=request.GET, search=search
    ):
        # Issue 15: nothing the board shows has changed: htmx swaps nothing on a 204.
        return HttpResponse(status=204)
    context = selectors.board_for_user(user=request.user, search=search)
    template = "tracking/board_live.html" if request.htmx else "tracking/board.html"
    return render(request, template, context)


@login_required
@require_GET
def row_actions(request, pk: int):
    """A board row's less frequent actions, fetched when the office opens its "More actions"
    menu, so that the board carries them for no row until asked (issue 15: 300 out is one
    page). The quick call form of an overdue row is here too."""
    signout = selectors.signout_get(user=request.user, pk=pk)
    return render(request, "tracking/board_actions.html", {"row": selectors.board_row(signout)})


@login_required
@require_GET
def escalations(request):
    """Manager home: escalations that need a decision (R-ESC-4)."""
    return render(
        request, "tracking/escalations.html", selectors.escalation_cases(user=request.user)
    )


@login_required
@require_GET
def my_visit(request):
    """The visitor's phone page while out: big buttons, 999 first (R-TRK-2, R-ESC-7)."""
    rows = selectors.signouts_of_visitor(user=request.user)
    return render(
        request,
        "tracking/my_visit.html",
        {"rows": rows, "needs_pin": bool(rows) and pins.pin_required(request.user)},
    )


# ---------------------------------------------------------------------------------------------
# My visit as an app: the manifest, the service worker and its offline page (issue 13)
# ---------------------------------------------------------------------------------------------


def app_precache() -> list[str]:
    """Everything the service worker may cache: the offline page and its two stylesheets. No
    page with a child's details is ever in this list (tests/tracking/test_my_visit_app.py)."""
    from django.templatetags.static import static

    return [
        reverse("tracking:app_offline"),
        static("vendor/bootstrap/bootstrap.min.css"),
        static("css/homeward.css"),
    ]


@require_GET
def my_visit_manifest(request):
    """The web app manifest (public: browsers fetch it without cookies; it holds no data)."""
    body = render_to_string(
        "tracking/app/manifest.webmanifest",
        {"start_url": reverse("tracking:mine"), "scope": reverse("tracking:mine")},
    )
    return HttpResponse(body, content_type="application/manifest+json")


@require_GET
def my_visit_service_worker(request):
    """The service worker, served under my-visit/ so that its scope is My visit (public: the
    browser fetches it to update it; it holds no data)."""
    import hashlib

    precache = app_precache()
    body = render_to_string(
        "tracking/app/sw.js",
        {
            "scope": reverse("tracking:mine"),
            "offline_url": reverse("tracking:app_offline"),
            "precache": json.dumps(precache),
            "version": hashlib.sha256("\n".join(precache).encode()).hexdigest()[:12],
        },
    )
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"  # a new worker is picked up at once
    response["Service-Worker-Allowed"] = reverse("tracking:mine")
    return response


@login_required
@require_GET
def my_visit_offline(request):
    """What My visit shows with no data: the office's number, 999 and the reply words. Cached
    by the service worker, so it holds nothing about any child or any visit."""
    return render(
        request,
        "tracking/app/offline.html",
        {"offices": selectors.offices_to_call(user=request.user)},
    )


@login_required
@GET_POST
def my_pins(request):
    """R-TRK-7: set, change or remove my check-in PIN and duress PIN. Only ever my own; the
    PINs are never shown back, even when the form is refused."""
    from django.core.exceptions import ValidationError

    form = PinsForm(request.POST or None)
    if request.method == "POST" and request.POST.get("remove"):
        pins.pins_clear(user=request.user)
        messages.success(request, "Your PINs are removed: checking in no longer asks for one.")
        return redirect("tracking:pins")
    if request.method == "POST" and form.is_valid():
        try:
            pins.pins_set(
                user=request.user,
                pin=form.cleaned_data["pin"],
                duress_pin=form.cleaned_data["duress_pin"],
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, "Your PINs are set: checking in from your phone asks for one."
            )
            return redirect("tracking:pins")
    return render(
        request,
        "tracking/pins.html",
        {"form": form, "has_pins": pins.pin_required(request.user)},
    )


# ---------------------------------------------------------------------------------------------
# Sign-out (R-TRK-1, R-RA-8)
# ---------------------------------------------------------------------------------------------


@login_required
@GET_POST
def signout_create(request, visit_pk: int):
    visit = selectors.visit_for_signout(user=request.user, pk=visit_pk)
    problems = signouts.signout_problems(visit=visit)
    visitors = list(visit.visitors.all())
    stale = assessment_currency(visit) if not problems else []
    form = SignOutForm(
        request.POST or None,
        visitors=visitors,
        stale_reasons=stale,
        grace_minutes=visit.school.overdue_grace_minutes,
        initial={"expected_return_at": visit.planned_return, "vehicle": visit.vehicle},
    )
    if request.method == "POST" and not problems and form.is_valid():
        try:
            signouts.signout_create(
                actor=request.user,
                visit=visit,
                expected_return_at=form.cleaned_data["expected_return_at"],
                vehicle=form.cleaned_data["vehicle"],
                mobiles=form.mobiles(),
                reconfirm_assessment=form.cleaned_data.get("reconfirm_assessment", False),
                wearing=form.wearing(),
            )
        except common.TrackingBlocked as error:
            add_service_errors(form, error)
        except common.TrackingConflict as error:
            messages.error(request, str(error))
            return redirect("tracking:board")
        else:
            names = " and ".join(str(v.user) for v in visitors)
            messages.success(request, f"{names} signed out. The board is watching the time.")
            return redirect("tracking:board")
    return render(
        request,
        "tracking/signout_form.html",
        {"visit": visit, "form": form, "problems": problems, "stale": stale},
    )


# ---------------------------------------------------------------------------------------------
# While out (R-TRK-2, R-ESC-6, R-ESC-7)
# ---------------------------------------------------------------------------------------------

ACTIONS = {
    "phone_in": {
        "title": "Left the visit safely",
        "explain": "The visitors have phoned in: they have left the visit safely. This stops "
        "the escalation ladder.",
        "button": "They have left safely",
        "done": "Recorded: left the visit safely. The ladder has stopped.",
    },
    "going_home": {
        "title": "Going straight home",
        "explain": "The visitors are going straight home. This closes tracking of the visit.",
        "button": "Going straight home",
        "done": "Recorded: going straight home. Tracking is closed.",
    },
    "returned": {
        "title": "Back at school",
        "explain": "The visitors are back at school: sign them in. This closes tracking.",
        "button": "Back at school",
        "done": "Signed in: back at school.",
    },
    "check_in": {
        "title": "Check in",
        "explain": "You are still on the visit and all is well. The next check-in is due one "
        "check-in interval from now.",
        "button": "I'm OK — check in",
        "done": "Checked in. Thank you.",
    },
    "help": {
        "title": "I need help",
        "explain": "If anyone is in immediate danger, call 999 first. This alerts the manager "
        "and the office at once.",
        "button": "I need help — alert the manager",
        "done": "The manager and the office have been alerted. If you are in danger, call 999.",
    },
}


# R-TRK-7: why a PIN was refused, in plain words (never which PIN, never the PIN).
PIN_REFUSED = {
    pins.Verdict.MISSING: "Enter your check-in PIN.",
    pins.Verdict.WRONG: "That PIN is not right: nothing was recorded. Try again.",
    pins.Verdict.LOCKED: "Too many tries: wait 10 minutes, or call the office.",
}


def _do(action: str, *, actor, signout, via, visitor):
    if action == "phone_in":
        return signouts.signout_phone_in(actor=actor, signout=signout, via=via, visitor=visitor)
    if action == "help":
        return signouts.signout_help_request(actor=actor, signout=signout, via=via, visitor=visitor)
    if action == "check_in":  # R-TRK-6
        return signouts.signout_check_in(actor=actor, signout=signout, via=via, visitor=visitor)
    return signouts.signout_return(
        actor=actor, signout=signout, went_home=action == "going_home", via=via, visitor=visitor
    )


def _action_view(request, pk: int, action: str):
    signout = selectors.signout_get(user=request.user, pk=pk, visitor_may_act=True)
    via, visitor = _actor(request, signout)
    default = reverse("tracking:mine") if visitor else reverse("tracking:board")
    words = ACTIONS[action]
    needs_pin = visitor is not None and action in pins.PIN_ACTIONS and pins.pin_required(visitor)
    if request.method == "POST":
        verdict = pins.Verdict.NOT_SET
        if needs_pin:
            # R-TRK-7: the visitor's own "I'm OK" needs their PIN. The duress PIN answers
            # exactly as the check-in PIN does; help was raised silently instead of the action.
            verdict = pins.pin_verify(
                user=visitor,
                pin=request.POST.get("pin", ""),
                signout=signout,
                action=action,
                via=via,
            )
            if verdict in PIN_REFUSED:
                messages.error(request, PIN_REFUSED[verdict])
                return redirect(_next(request, default))
        try:
            if verdict != pins.Verdict.DURESS:
                _do(action, actor=request.user, signout=signout, via=via, visitor=visitor)
        except REFUSED as error:
            for text in _errors(error):
                messages.error(request, text)
        else:
            if visitor is not None:
                # R-TRK-8: the phone's position, only if they ticked "share my location".
                locations.location_record(
                    signout=signout, visitor=visitor, data=request.POST, via=via
                )
            messages.success(request, words["done"])
            if visitor is not None and action in ("returned", "going_home"):
                # Back (or going home) from the phone: the next job is the Home Visit record,
                # due within the school's deadline (24 hours by default).
                hours = signout.school.record_deadline_hours
                messages.info(
                    request, f"The Home Visit record is due within {hours} hours: complete it now."
                )
                return redirect("records:record_edit", visit_pk=signout.visit_id)
        return redirect(_next(request, default))
    return render(
        request,
        "tracking/action_confirm.html",
        {
            "signout": signout,
            "action": action,
            "words": words,
            "next": _next(request, default),
            "needs_pin": needs_pin,
        },
    )


@login_required
@GET_POST
def phone_in(request, pk: int):
    return _action_view(request, pk, "phone_in")


@login_required
@GET_POST
def going_home(request, pk: int):
    return _action_view(request, pk, "going_home")


@login_required
@GET_POST
def returned(request, pk: int):
    return _action_view(request, pk, "returned")


@login_required
@GET_POST
def check_in(request, pk: int):
    """R-TRK-6: "I'm OK" during a long visit: the next check-in is due an interval from now."""
    return _action_view(request, pk, "check_in")


@login_required
@GET_POST
def help_request(request, pk: int):
    return _action_view(request, pk, "help")


@login_required
@GET_POST
def extend(request, pk: int):
    """R-TRK-2: "need more time until 16:40", with a reason; restarts the ladder (R-ESC-6)."""
    signout = selectors.signout_get(user=request.user, pk=pk, visitor_may_act=True)
    via, visitor = _actor(request, signout)
    default = reverse("tracking:mine") if visitor else reverse("tracking:board")
    form = ExtendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signout = signouts.signout_extend(
                actor=request.user,
                signout=signout,
                new_expected_return_at=form.cleaned_data["new_expected_return_at"],
                reason=form.cleaned_data["reason"],
                via=via,
                visitor=visitor,
            )
        except common.TrackingBlocked as error:
            add_service_errors(form, error)
        except common.TrackingConflict as error:
            messages.error(request, str(error))
            return redirect(_next(request, default))
        else:
            messages.success(request, "New time recorded: the ladder starts again from it.")
            return redirect(_next(request, default))
    return render(
        request,
        "tracking/extend_form.html",
        {"signout": signout, "form": form, "next": _next(request, default)},
    )


# ---------------------------------------------------------------------------------------------
# The office's calls, the emergency page, the manager's decision
# ---------------------------------------------------------------------------------------------


@login_required
@GET_POST
def call_attempt(request, pk: int):
    """R-ESC-2: record a call to a visitor: number, time, outcome."""
    signout = selectors.signout_get(user=request.user, pk=pk)
    form = CallAttemptForm(request.POST or None, signout=signout)
    default = reverse("tracking:board")
    if request.method == "POST" and form.is_valid():
        visitor_id, number = form.called()
        visitor = next((v.user for v in signout.visitors.all() if v.user_id == visitor_id), None)
        try:
            attempt = signouts.call_attempt_record(
                actor=request.user,
                signout=signout,
                number_called=number,
                called_at=form.call_time(),
                outcome=form.cleaned_data["outcome"],
                visitor=visitor,
                notes=form.cleaned_data["notes"],
            )
        except common.TrackingBlocked as error:
            add_service_errors(form, error)
        except common.TrackingConflict as error:
            messages.error(request, str(error))
            return redirect(_next(request, default))
        else:
            messages.success(request, f"Call recorded: {attempt.get_outcome_display().lower()}.")
            return redirect(_next(request, default))
    details = selectors.emergency_details(signout=signout)
    return render(
        request,
        "tracking/call_form.html",
        {
            "signout": signout,
            "form": form,
            "calls": details["calls"],
            "next": _next(request, default),
        },
    )


def _emergency_context(request, signout: SignOut) -> dict:
    return {
        "signout": signout,
        **selectors.emergency_details(signout=signout),
        "managers": _managers(signout),
        "show_risk_notes": selectors.may_read_risk_notes(user=request.user, signout=signout),
        "may_decide": selectors.may_decide(user=request.user, signout=signout),
        "last_location": locations.location_last(signout),  # R-TRK-8
    }


def _managers(signout: SignOut):
    from .messages import managers_for

    return managers_for(signout)


@login_required
@require_GET
def emergency(request, pk: int):
    """R-ESC-3: everything needed to find the visitors, and to brief the Police."""
    signout = selectors.signout_emergency_get(user=request.user, pk=pk)
    return render(request, "tracking/emergency.html", _emergency_context(request, signout))


@login_required
@require_GET
def visitor_photo(request, pk: int, user_pk: int):
    """Issue 14: a visitor's photo, only to those who may open the sign-out's emergency page
    (another school's sign-out is a 404, a role without it a 403), never as public media."""
    from schools.views import photo_response

    signout = selectors.signout_emergency_get(user=request.user, pk=pk)
    visitor = signout.visitors.filter(user_id=user_pk).select_related("user__profile").first()
    profile = getattr(visitor.user, "profile", None) if visitor else None
    if profile is None or not profile.photo:
        raise Http404("No photo.")
    return photo_response(profile)


def _briefing_photos(signout) -> dict[str, bytes]:
    """Each visitor's photo for the PDF, read here and named by a URL only this PDF knows."""
    pictures = {}
    for visitor in signout.visitors.select_related("user__profile"):
        profile = getattr(visitor.user, "profile", None)
        if profile is not None and profile.photo:
            with profile.photo.open("rb") as photo:
                pictures[f"file:///private/staff-photo-{visitor.user_id}.jpg"] = photo.read()
    return pictures


@login_required
@require_GET
@same_site_download("police-briefing")  # issue 19: another site cannot start it
def briefing_pdf(request, pk: int):
    """The printable Police briefing; printing it is audited (R-SEC-3)."""
    from weasyprint import CSS, HTML

    from core.pdf_fetcher import shared_font_config, static_only_url_fetcher

    signout = selectors.signout_emergency_get(user=request.user, pk=pk)
    pictures = _briefing_photos(signout)
    html = render_to_string(
        "tracking/pdf/briefing.html",
        {**_emergency_context(request, signout), "pdf": True},
        request=request,
    )
    # issue 19: Homeward's own static files and the visitors' photos read above, nothing else
    fetcher = static_only_url_fetcher(pictures)
    stylesheet = CSS(
        filename=str(settings.BASE_DIR / "static" / "css" / "briefing.css"),
        url_fetcher=fetcher,
        font_config=shared_font_config(),
    )
    pdf = HTML(string=html, base_url=str(settings.BASE_DIR), url_fetcher=fetcher).write_pdf(
        stylesheets=[stylesheet], font_config=shared_font_config()
    )
    signouts.briefing_printed_audit(actor=request.user, signout=signout)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="briefing-visit-{signout.visit_id}.pdf"'
    return response


@login_required
@GET_POST
def decision(request, pk: int):
    """R-ESC-4: the manager records the decision; an outcome resolves the case."""
    signout = selectors.signout_decision_get(user=request.user, pk=pk)
    form = DecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            signouts.escalation_decision_record(
                actor=request.user,
                signout=signout,
                action=form.cleaned_data["action"],
                notes=form.cleaned_data["notes"],
                outcome=form.cleaned_data["outcome"],
            )
        except common.TrackingBlocked as error:
            add_service_errors(form, error)
        except common.TrackingConflict as error:
            messages.error(request, str(error))
            return redirect("tracking:emergency", pk=signout.pk)
        else:
            if form.cleaned_data["outcome"]:
                messages.success(request, "Decision recorded and the case is resolved.")
            else:
                messages.success(request, "Decision recorded. The case stays open.")
            return redirect("tracking:emergency", pk=signout.pk)
    return render(request, "tracking/decision_form.html", {"signout": signout, "form": form})


@login_required
@GET_POST
def acknowledge_case(request, pk: int):
    """R-ESC-8: "I am dealing with it" from the emergency page. The first owns the case."""
    signout = selectors.signout_emergency_get(user=request.user, pk=pk)
    if request.method == "POST":
        ack, won = acknowledgements.signout_acknowledge(
            signout=signout,
            ladder_round=signout.ladder_round,
            user=request.user,
            label=str(request.user),
            via=Acknowledgement.Via.PAGE,
        )
        if won:
            messages.success(request, "You own this case: everyone else alerted has been told.")
        elif ack is not None:
            messages.info(
                request,
                f"{ack.label} acknowledged at {ack.acknowledged_at:%H:%M} and owns this case.",
            )
        else:
            messages.error(request, "Nobody has been alerted about this visit yet.")
    return redirect("tracking:emergency", pk=signout.pk)


@login_required
@GET_POST
def notification_resend(request, pk: int):
    """A message in doubt is resent only when a person decides so (R-ESC-5)."""
    notification = selectors.notification_get(user=request.user, pk=pk)
    default = reverse("tracking:board")
    if request.method == "POST":
        try:
            outbox.notification_resend(actor=request.user, notification=notification)
        except common.TrackingConflict as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"Sending again to {notification.recipient_label}.")
        return redirect(_next(request, default))
    return render(
        request,
        "tracking/notification_resend.html",
        {"notification": notification, "next": _next(request, default)},
    )


# ---------------------------------------------------------------------------------------------
# The visitor's check-in link: public by design (tests/urls_under_test.py PUBLIC)
# ---------------------------------------------------------------------------------------------

CHECKIN_PER_ADDRESS = 20  # requests per address per 10 minutes
CHECKIN_PER_LINK = 10


def _checkin_refused(request, text: str, status: int = 200):
    """A calm page saying why the link cannot be used (200: the visitor is not at fault)."""
    return render(request, "tracking/checkin.html", {"refused": text}, status=status)


@GET_POST
def checkin(request, token: str):
    """One page, two buttons: "I'm safe" or "15 more minutes". No sign-in: the signed token
    is the key. GET only shows the page (phones preview links); POST uses the link once."""
    ip = client_address(request)
    if throttle_hit(key=f"checkin-ip:{ip}", limit=CHECKIN_PER_ADDRESS, window_seconds=600):
        return _checkin_refused(
            request, "Too many tries. Wait a few minutes, or call the office.", 429
        )
    try:
        link_id = checkin_token_read(token)
    except CheckInTokenInvalid:
        logger.warning("check-in with an invalid token from %s", ip)
        return _checkin_refused(request, "This link is not valid. Call the school office.")
    except CheckInTokenExpired as expired:
        link = (
            CheckInLink.objects.select_related("signout__school").filter(pk=expired.link_id).first()
        )
        if link is not None and request.method == "POST":
            checkins.checkin_refusal_audit(link=link, why="has expired", client_ip=ip)
        return _checkin_refused(request, "This link has expired. Call the school office.")
    if throttle_hit(key=f"checkin-link:{link_id}", limit=CHECKIN_PER_LINK, window_seconds=600):
        return _checkin_refused(
            request, "Too many tries. Wait a few minutes, or call the office.", 429
        )
    link = (
        CheckInLink.objects.select_related("signout__school", "visitor__user")
        .filter(pk=link_id)
        .first()
    )
    if link is None:
        return _checkin_refused(request, "This link is not valid. Call the school office.")
    signout = link.signout
    # R-TRK-4: after tracking closed the page says so, and offers "I am still out".
    closed = checkins.closed_words(signout) if not signout.is_open else ""
    still_out = signout.state in checkins.REOPENABLE and link.answer != "still_out"
    needs_pin = pins.pin_required(link.visitor.user)
    if request.method == "POST":
        answer = request.POST.get("answer", "")
        try:
            if answer == CheckInLink.Answer.SAFE and needs_pin:
                # R-TRK-7: "I'm safe" needs the PIN; the duress PIN looks exactly the same.
                link = checkins.checkin_answer_with_pin(
                    link=link, pin=request.POST.get("pin", ""), client_ip=ip
                )
            else:
                link = checkins.checkin_answer(link=link, answer=answer, client_ip=ip)
        except checkins.CheckInRefused as error:
            return render(
                request,
                "tracking/checkin.html",
                {
                    "refused": str(error),
                    "link": link,
                    "still_out": still_out and closed,
                    "needs_pin": needs_pin,
                    "pin_again": error.pin_again,
                },
                status=200 if link.used_at or closed else 400,
            )
        # R-TRK-8: the phone's position, only if they ticked "share my location".
        locations.location_record(
            signout=signout, visitor=link.visitor.user, data=request.POST, via="link"
        )
        return render(request, "tracking/checkin.html", {"link": link, "done": True})
    if closed:
        return render(
            request,
            "tracking/checkin.html",
            {"refused": closed, "link": link, "still_out": still_out},
        )
    if link.used_at is not None:
        return _checkin_refused(request, "This link has already been used. Thank you.")
    return render(
        request, "tracking/checkin.html", {"link": link, "done": False, "needs_pin": needs_pin}
    )


# ---------------------------------------------------------------------------------------------
# The acknowledgement link: public by design (tests/urls_under_test.py PUBLIC)
# ---------------------------------------------------------------------------------------------

ACK_PER_ADDRESS = 20  # requests per address per 10 minutes
ACK_PER_LINK = 10


def _ack_page(request, *, refused: str = "", link=None, ack=None, won=False, status=200):
    """A phone-sized page that shows only what it must: no child, no address, no numbers."""
    return render(
        request,
        "tracking/acknowledge.html",
        {"refused": refused, "link": link, "ack": ack, "won": won},
        status=status,
    )


@GET_POST
def acknowledge(request, token: str):
    """R-ESC-8: one tap says "I am dealing with it". No sign-in: the signed token is the key.
    GET only shows the button (phones preview links); POST uses the link once."""
    ip = client_address(request)
    too_many = "Too many tries. Wait a few minutes, or call the school office."
    if throttle_hit(key=f"ack-ip:{ip}", limit=ACK_PER_ADDRESS, window_seconds=600):
        return _ack_page(request, refused=too_many, status=429)
    try:
        link_id = ack_token_read(token)
    except CheckInTokenInvalid:
        logger.warning("acknowledgement with an invalid token from %s", ip)
        return _ack_page(request, refused="This link is not valid.", status=404)
    except CheckInTokenExpired as expired:
        link = AckLink.objects.select_related("signout__school").filter(pk=expired.link_id).first()
        if link is not None and request.method == "POST":
            acknowledgements.ack_refusal_audit(link=link, why="has expired", client_ip=ip)
        return _ack_page(request, refused="This link has expired. Open the emergency page.")
    if throttle_hit(key=f"ack-link:{link_id}", limit=ACK_PER_LINK, window_seconds=600):
        return _ack_page(request, refused=too_many, status=429)
    link = AckLink.objects.select_related("signout__school").filter(pk=link_id).first()
    if link is None:
        return _ack_page(request, refused="This link is not valid.", status=404)
    current = Acknowledgement.objects.filter(
        signout_id=link.signout_id, ladder_round=link.ladder_round
    ).first()
    if request.method == "POST":
        try:
            ack, won = acknowledgements.ack_link_use(link=link, client_ip=ip)
        except acknowledgements.AckRefused as error:
            return _ack_page(request, refused=str(error), link=link, ack=current)
        return _ack_page(request, link=link, ack=ack, won=won)
    if link.used_at is not None:
        return _ack_page(
            request, refused="This link has already been used.", link=link, ack=current
        )
    return _ack_page(request, link=link, ack=current)


# ---------------------------------------------------------------------------------------------
# Delivery receipts from the SMS providers (R-ESC-11): authenticated by tracking.webhooks
# ---------------------------------------------------------------------------------------------


@provider_webhook(TWILIO)
def twilio_status(request):
    """Twilio's status callback for a message (StatusCallback, set when sending)."""
    status = request.POST.get("MessageStatus", "")
    receipts.notification_delivery_record(
        provider=TWILIO,
        provider_ref=request.POST.get("MessageSid", ""),
        state=receipts.TWILIO_STATES.get(status, status),
        error_code=request.POST.get("ErrorCode", ""),
    )
    return HttpResponse(status=204)


@provider_webhook(NOTIFY)
def notify_receipt(request):
    """GOV.UK Notify's delivery receipt: JSON with the notification's id and status."""
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return HttpResponse("Not JSON.", status=400)
    if not isinstance(data, dict):
        return HttpResponse("Not a receipt.", status=400)
    status = str(data.get("status", ""))
    receipts.notification_delivery_record(
        provider=NOTIFY,
        provider_ref=str(data.get("id", "")),
        state=receipts.NOTIFY_STATES.get(status, status),
    )
    return HttpResponse(status=204)


# ---------------------------------------------------------------------------------------------
# The escalation chain settings, for the Headteacher and the DSL (R-ESC-9)
# ---------------------------------------------------------------------------------------------


@login_required
@require_GET
def chain_settings_home(request):
    """The chain page of the (first) school whose chain the user may edit."""
    school = chain.chain_schools_for(request.user).order_by("name").first()
    if school is None:
        raise PermissionDenied("Only the Headteacher or the DSL can change the escalation chain.")
    return redirect("tracking:chain_settings", school_pk=school.pk)


@login_required
@GET_POST
def chain_settings(request, school_pk: int):
    """Order the school's escalation chain and set its minutes: plain buttons, no script."""
    school = chain.chain_school_for(user=request.user, school_pk=school_pk)
    minutes_form = ChainMinutesForm(
        initial={
            "chain_step_minutes": school.chain_step_minutes,
            "chain_reminder_minutes": school.chain_reminder_minutes,
        }
    )
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            done = _chain_action(request, school, action)
        except ValidationError as error:
            errors = error.messages
        else:
            if isinstance(done, ChainMinutesForm):
                minutes_form = done  # its errors are shown next to its fields
            else:
                messages.success(request, done)
                anchor = "#chain-minutes" if action == "minutes" else "#chain-order"
                return redirect(reverse("tracking:chain_settings", args=[school.pk]) + anchor)
    context = {**chain.chain_page(school), "minutes_form": minutes_form, "errors": errors}
    status = 400 if errors or minutes_form.errors else 200
    return render(request, "tracking/chain_settings.html", context, status=status)


def _chain_action(request, school, action: str):
    """Run one POSTed change; returns what to tell the user, or the minutes form with errors."""

    def number(name: str) -> int:
        try:
            return int(request.POST.get(name, ""))
        except ValueError:
            raise ValidationError("That change was not understood: nothing was changed.") from None

    if action == "add":
        if not request.POST.get("user"):
            raise ValidationError("Choose somebody to add to the chain.")
        member = chain.chain_member_add(actor=request.user, school=school, user_id=number("user"))
        return f"{member.user} added to the end of the chain."
    if action in ("up", "down"):
        chain.chain_member_move(
            actor=request.user, school=school, member_pk=number("member"), direction=action
        )
        return "The chain's order was saved."
    if action == "remove":
        chain.chain_member_remove(actor=request.user, school=school, member_pk=number("member"))
        return "Removed from the chain."
    if action == "minutes":
        form = ChainMinutesForm(request.POST)
        if not form.is_valid():
            return form
        chain.chain_minutes_update(actor=request.user, school=school, **form.cleaned_data)
        return "The minutes were saved. Visits already out keep the minutes they started with."
    raise ValidationError("That change was not understood: nothing was changed.")
