"""Visit pages: request, submit, authorise, cancel, dashboards and calendar feeds.
Each view: access through a selector, a form, one service call, redirect or render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import audit_read
from core.numbers import is_whole_number
from schools.models import Pupil
from schools.selectors import object_for_user, schools_requiring

from . import (
    authorisation,
    calendar,
    calendar_feeds,
    cancellation,
    common,
    requests,
    selectors,
    signals,
    timeline,
)
from .forms import CancelForm, DecisionForm, VisitFilterForm, VisitRequestForm
from .models import CANCELLABLE, EDITABLE, CalendarFeed, Status


@login_required
@require_GET
def my_visits(request):
    """Staff home: my visits, grouped by what needs doing next."""
    schools_requiring(request.user, "request_visits")
    groups = selectors.my_visits_grouped(user=request.user)
    return render(
        request,
        "visits/my_visits.html",
        {
            "groups": groups,
            "has_visits": any(g["visits"] for g in groups),
            **signals.panels_for("mine", user=request.user),
        },
    )


@login_required
@require_GET
def queue(request):
    """DSL / Head home: the visits waiting for authorisation, oldest first."""
    visits = list(selectors.visit_queue(user=request.user))
    return render(
        request,
        "visits/queue.html",
        # R-REC-3, R-REC-4, R-REC-6: concerns, overdue records and actions on the DSL's home.
        {"visits": visits, "now": timezone.now(), **signals.panels_for("queue", user=request.user)},
    )


@login_required
@require_GET
def visit_list(request):
    """Every visit of the school, searchable, for DSLs, the Headteacher and trust leads."""
    from django.core.paginator import Paginator

    schools = selectors.visit_list_schools(user=request.user)
    form = VisitFilterForm(request.GET or None, schools=schools)
    filters = form.filters()
    page = Paginator(selectors.visit_list(user=request.user, filters=filters), 25).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "visits/visit_list.html",
        {
            "form": form,
            "page": page,
            "visits": list(page.object_list),
            "query": query.urlencode(),
            "pupil_filter": filters.get("pupil"),
            "household_filter": filters.get("household"),
            "now": timezone.now(),
        },
    )


@login_required
@require_GET
def detail(request, pk: int):
    """Everything about a visit, what the user can do next, and its timeline."""
    visit = selectors.visit_get(user=request.user, pk=pk)
    audit_read(actor=request.user, obj=visit, what="visit")  # R-SEC-2: reads are audited too
    user = request.user
    is_requester = visit.requested_by_id == user.pk
    can_manage = is_requester or user.has_perm("schools.view_all_visits", visit.school)
    check = None
    if visit.status in (Status.DRAFT, Status.CHANGES_REQUESTED) and can_manage:
        check = requests.visit_submission_check(visit=visit)
    context = {
        "visit": visit,
        "timeline": timeline.visit_timeline(visit=visit),
        "decisions": visit.authorisations.select_related("decided_by"),
        "check": check,
        "can_edit": can_manage and visit.status in EDITABLE,
        "can_cancel": can_manage and visit.status in CANCELLABLE,
        "can_decide": visit.status == Status.SUBMITTED
        and not authorisation.authorisation_problems(actor=user, visit=visit),
        "can_consult": visit.is_doorstep
        and visit.head_consulted_at is None
        and visit.school.memberships.filter(user=user, role="head").exists(),
        "is_visitor": any(
            v.user_id == user.pk and v.withdrawn_at is None for v in visit.visitors.all()
        ),
    }
    return render(request, "visits/detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def request_visit(request, pk: int | None = None):
    """Request a visit (a draft that can be saved and finished later), or change one."""
    schools = schools_requiring(request.user, "request_visits")
    visit = None
    if pk is not None:
        visit = selectors.visit_get(user=request.user, pk=pk)
        _require_manage(request.user, visit)
        if visit.status not in EDITABLE:
            messages.error(request, "This visit can no longer be changed.")
            return redirect("visits:detail", pk=visit.pk)
        schools = schools.filter(pk=visit.school_id)
    pupil = None
    asked = request.GET.get("pupil", "")
    if visit is None and is_whole_number(asked):
        pupil = object_for_user(Pupil.objects.all(), request.user, pk=asked, perm="request_visits")
    form = VisitRequestForm(
        request.POST or None,
        user=request.user,
        schools=schools,
        visit=visit,
        initial=VisitRequestForm.initial_for(user=request.user, visit=visit, pupil=pupil),
    )
    if request.method == "POST" and form.is_valid():
        data = form.visit_data()
        if form.cleaned_data.get("risk_rechecked"):
            data["risk_rechecked_at"] = timezone.now()  # R-REQ-7
        try:
            visit = requests.visit_draft_save(
                actor=request.user,
                school=form.cleaned_data["pupil"].school,
                data=data,
                pupils=form.pupils(),
                visitors=form.visitors(),
                visit=visit,
                request_token=form.cleaned_data.get("request_token") if visit is None else None,
            )
        except common.VisitBlocked as blocked:
            for message in blocked.messages:
                form.add_error(None, message)
        except common.VisitConflict as conflict:
            messages.error(request, str(conflict))
            return redirect("visits:detail", pk=visit.pk)
        else:
            if "submit" in request.POST:
                return _submit(request, visit, confirmed=False)
            messages.success(request, "Saved. The request is a draft until you submit it.")
            return redirect("visits:detail", pk=visit.pk)
    return render(request, "visits/request.html", {"form": form, "visit": visit})


@login_required
@require_GET
def siblings(request):
    """htmx: the chosen pupil's siblings, to include on the same visit."""
    schools = schools_requiring(request.user, "request_visits")
    form = VisitRequestForm(
        data={"pupil": request.GET.get("pupil", "")}, user=request.user, schools=schools
    )
    return render(request, "visits/includes/siblings.html", {"form": form})


@login_required
@require_POST
def submit(request, pk: int):
    visit = selectors.visit_get(user=request.user, pk=pk)
    _require_manage(request.user, visit)
    return _submit(request, visit, confirmed=request.POST.get("confirm_warnings") == "yes")


def _submit(request, visit, *, confirmed: bool):
    try:
        requests.visit_submit(actor=request.user, visit=visit, warnings_confirmed=confirmed)
    except requests.WarningsNotConfirmed as pending:
        return render(
            request,
            "visits/confirm_warnings.html",
            {
                "visit": visit,
                "warnings": pending.warnings,
            },
        )
    except common.VisitBlocked:
        # The visit page lists what stops it ("Before this can be submitted"): said once there.
        messages.warning(
            request,
            "Saved as a draft — not sent for authorisation because of what is listed under "
            "“Before this can be submitted”. Put it right, then submit the request.",
        )
    except common.VisitConflict as conflict:
        messages.error(request, str(conflict))
    else:
        messages.success(request, "Submitted. The Headteacher and DSLs have been told.")
    return redirect("visits:detail", pk=visit.pk)


@login_required
@require_http_methods(["GET", "POST"])
def decide(request, pk: int):
    """Authorise (with conditions), request changes or refuse (with a reason)."""
    visit = selectors.visit_get(user=request.user, pk=pk, perm="authorise_visits")
    form = DecisionForm(request.POST or None)
    problems = authorisation.authorisation_problems(actor=request.user, visit=visit)
    if request.method == "POST" and form.is_valid():
        decision, data = form.cleaned_data["decision"], form.cleaned_data
        try:
            if decision == DecisionForm.AUTHORISE:
                authorisation.visit_authorise(
                    actor=request.user, visit=visit, conditions=data["conditions"]
                )
            elif decision == DecisionForm.CHANGES:
                authorisation.visit_request_changes(
                    actor=request.user, visit=visit, what_to_change=data["reason"]
                )
            else:
                authorisation.visit_refuse(actor=request.user, visit=visit, reason=data["reason"])
        except common.VisitBlocked as blocked:
            for message in blocked.messages:
                form.add_error(None, message)
        except common.VisitConflict as conflict:
            messages.warning(request, str(conflict))
            return redirect("visits:detail", pk=visit.pk)
        else:
            messages.success(request, "Decision recorded. The requester has been emailed.")
            return redirect("visits:queue")
    return render(
        request,
        "visits/decide.html",
        {
            "visit": visit,
            "form": form,
            "problems": problems,
            # R-AUTH-6: the household's flags and the warnings the requester confirmed.
            **selectors.decision_facts(visit=visit),
            **signals.panels_for("decide", user=request.user, visit=visit),
        },
    )


@login_required
@require_POST
def consult(request, pk: int):
    """R-AUTH-3: the Headteacher records their consultation on a doorstep visit."""
    visit = selectors.visit_get(user=request.user, pk=pk)
    try:
        authorisation.visit_record_head_consultation(
            actor=request.user, visit=visit, notes=request.POST.get("notes", "")[:500]
        )
    except common.VisitBlocked as blocked:
        raise PermissionDenied(blocked.messages[0]) from blocked
    messages.success(request, "Your consultation is recorded on the visit.")
    return redirect("visits:detail", pk=visit.pk)


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request, pk: int):
    visit = selectors.visit_get(user=request.user, pk=pk)
    _require_manage(request.user, visit)
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            cancellation.visit_cancel(
                actor=request.user, visit=visit, reason=form.cleaned_data["reason"]
            )
        except common.VisitConflict as conflict:
            messages.error(request, str(conflict))
        else:
            messages.success(request, "Cancelled. The office and the authoriser have been told.")
        return redirect("visits:detail", pk=visit.pk)
    return render(request, "visits/cancel.html", {"visit": visit, "form": form})


@login_required
@require_POST
def withdraw(request, pk: int):
    """R-REQ-5: a visitor withdraws from a (voluntary) doorstep visit."""
    visit = selectors.visit_get(user=request.user, pk=pk)
    try:
        cancellation.visitor_withdraw(actor=request.user, visit=visit)
    except (common.VisitBlocked, common.VisitConflict) as refused:
        messages.error(request, getattr(refused, "messages", [str(refused)])[0])
    else:
        messages.success(
            request, "You have withdrawn from the visit. The requester will find another visitor."
        )
    return redirect("visits:detail", pk=visit.pk)


@login_required
@require_GET
def data_quality(request):
    """R-REQ-8: households with fewer current contact numbers than the school expects."""
    households = selectors.households_short_of_numbers(user=request.user)
    return render(request, "visits/data_quality.html", {"households": households})


@login_required
@require_http_methods(["GET", "POST"])
def calendar_settings(request):
    """The user's private calendar addresses: show, renew (revoking the old one), stop."""
    schools = list(schools_requiring(request.user, "request_visits"))
    authorising = [s for s in schools if request.user.has_perm("schools.authorise_visits", s)]
    if request.method == "POST":
        action, scope = request.POST.get("action"), request.POST.get("scope")
        school = next((s for s in authorising if str(s.pk) == request.POST.get("school")), None)
        if scope not in CalendarFeed.Scope.values:
            messages.error(request, "Choose which calendar.")
        elif action == "revoke":
            feed = get_object_or_404(
                CalendarFeed, user=request.user, pk=request.POST.get("feed"), revoked_at=None
            )
            calendar_feeds.calendar_feed_revoke(actor=request.user, feed=feed)
            messages.success(request, "That calendar address no longer works.")
        else:
            try:
                calendar_feeds.calendar_feed_renew(actor=request.user, scope=scope, school=school)
            except common.VisitBlocked as blocked:
                raise PermissionDenied(blocked.messages[0]) from blocked
            messages.success(request, "New calendar address made; the old one no longer works.")
        return redirect("visits:calendar")
    feeds = CalendarFeed.objects.filter(user=request.user, revoked_at__isnull=True).select_related(
        "school"
    )
    return render(
        request,
        "visits/calendar.html",
        {"feeds": feeds, "authorising": authorising, "site_url": request.build_absolute_uri("/")},
    )


@require_GET
def calendar_feed(request, token: str):
    """The iCalendar feed itself: no sign-in (calendar apps can't), the secret token is the key.
    It holds times, staff names and a link, never a child's name or address."""
    feed = selectors.calendar_feed_for_token(token=token)
    body = calendar.feed_ics(
        feed=feed,
        visits=selectors.calendar_visits(feed=feed),
        link=lambda visit: request.build_absolute_uri(f"/visits/{visit.pk}/"),
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="homeward.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


def _require_manage(user, visit) -> None:
    if visit.requested_by_id != user.pk and not user.has_perm(
        "schools.view_all_visits", visit.school
    ):
        raise PermissionDenied("Only the requester or a DSL can change this visit.")
