"""The leaders' dashboards: per school, and across a trust (R-SEC-1 scope in
insights.selectors), for a term or a date range. Every CSV and PDF download is audited."""

import csv
import io
from types import SimpleNamespace

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from audit.services import document_download_record
from records.pdf import pdf_render

from . import charts, figures, selectors
from .forms import PeriodForm


def _figures(request):
    scope = selectors.dashboard_scope(user=request.user, school_pk=request.GET.get("school"))
    today = timezone.localdate()
    form = PeriodForm(request.GET or None, today=today)
    period = form.period()
    data = figures.dashboard_figures(
        user=request.user,
        schools=scope.schools,
        period=period,
        suppress=scope.suppress,
        today=today,
    )
    return scope, form, period, data


def _charts(scope, data) -> dict:
    weeks = [(f"{day:%d/%m}", n) for day, n in data["weeks"]]
    reasons = next(t for t in data["tables"] if t.key == "reasons")
    totals = reasons.rows[-1][1]
    # The trust total by reason: the last row (or the only school's row) of the reasons table.
    raw = [
        (label, value if isinstance(value, int) else 1)
        for label, value in zip(reasons.columns, totals, strict=True)
    ]
    return {
        "weekly": charts.column_chart(
            id="chart-weekly",
            title="Visits requested each week",
            points=weeks,
            suppress=scope.suppress,
        ),
        "reasons": charts.bar_chart(
            id="chart-reasons",
            title="Visits by reason",
            points=raw,
            suppress=scope.suppress,
        ),
    }


@login_required
@require_GET
def dashboard(request):
    scope, form, period, data = _figures(request)
    return render(
        request,
        "insights/dashboard.html",
        {
            "scope": scope,
            "form": form,
            "period": period,
            "period_dates": f"{period.start:%d/%m/%Y} to {period.end:%d/%m/%Y}",
            "tables": data["tables"],
            "weeks": data["weeks"],
            "charts": _charts(scope, data),
            "query": request.GET.urlencode(),
        },
    )


@login_required
@require_GET
def table_csv(request):
    table = request.GET.get("table") or "requests"
    scope, _form, period, data = _figures(request)
    chosen = next((t for t in data["tables"] if t.key == table), None)
    if chosen is None:
        raise Http404("Not found.")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([f"{chosen.title}, {period.label}"])
    writer.writerow(["School", *chosen.columns])
    for name, values in chosen.rows:
        writer.writerow([name, *values])
    for school in scope.schools:
        document_download_record(
            actor=request.user,
            school=school,
            obj=school,
            document=f"dashboard-{table}-csv",
            details={"start": period.start.isoformat(), "end": period.end.isoformat()},
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{table}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"'
    )
    return response


@login_required
@require_GET
def report_pdf(request):
    """The termly safeguarding visits report for governors: one page, figures only."""
    scope, _form, period, data = _figures(request)
    wanted = (
        "requests",
        "decisions",
        "children",
        "escalations",
        "records",
        "concerns",
        "actions",
        "transfers",
    )
    tables = [t for t in data["tables"] if t.key in wanted]
    header = scope.schools[0] if len(scope.schools) == 1 else SimpleNamespace(name=scope.title)
    content = pdf_render(
        template="insights/report.html",
        context={
            "title": "Termly safeguarding visits report",
            "scope": scope,
            "period": period,
            "tables": tables,
        },
        school=header,
        printed_by=request.user,
    )
    for school in scope.schools:
        document_download_record(
            actor=request.user,
            school=school,
            obj=school,
            document="governors-report",
            details={"start": period.start.isoformat(), "end": period.end.isoformat()},
        )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="safeguarding-visits-report-{period.start:%Y%m%d}.pdf"'
    )
    return response
