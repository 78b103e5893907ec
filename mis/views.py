from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from . import selectors
from .models import SyncItem
from .services import PHONE_KINDS

SYNCED_FIELDS = [
    "Pupils: first name, last name, date of birth, year group, UPN, date of leaving",
    "Households: the home address of the first-priority contact",
    "Carers: name, relationship, parental responsibility",
    "Contact numbers: " + ", ".join(kind for _, kind in PHONE_KINDS),
    "Staff: name and email (never a role)",
]


@login_required
@require_GET
def runs(request):
    queryset = selectors.sync_runs_for(user=request.user)
    page = Paginator(queryset, 30).get_page(request.GET.get("page"))
    return render(request, "mis/runs.html", {"page": page, "synced_fields": SYNCED_FIELDS})


@login_required
@require_GET
def run_detail(request, pk):
    run = selectors.sync_run_for(user=request.user, pk=pk)
    action = request.GET.get("action", "")
    items = run.items.all()
    if action in SyncItem.Action.values:
        items = items.filter(action=action)
    page = Paginator(items, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "mis/run_detail.html",
        {"run": run, "page": page, "action": action, "actions": SyncItem.Action.choices},
    )
