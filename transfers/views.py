"""Thin views of the file transfer (R-REC-8): access through transfers.selectors, a form, a
transfers.services call, then a redirect or a render. Downloads are audited (R-SEC-3)."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.services import audit_read, document_download_record
from schools.services import pupil_mark_left, pupil_mark_returned
from tracking.throttle import throttle_hit

from . import selectors, services
from .forms import (
    DeclineForm,
    LeavingForm,
    LinkForm,
    OfferForm,
    PackageForm,
    PaperFileForm,
    ReceiptForm,
)

logger = logging.getLogger(__name__)
GET_POST = require_http_methods(["GET", "POST"])
LINK_TRIES_PER_ADDRESS = 20


def _problems(error) -> list[str]:
    return list(getattr(error, "messages", [str(error)]))


def _to_pupil(pupil_pk: int):
    return redirect("transfers:pupil", pk=pupil_pk)


@login_required
@require_GET
def dashboard(request):
    """Files to transfer (deadline in school days, overdue first), files offered to us."""
    return render(request, "transfers/dashboard.html", selectors.dashboard(user=request.user))


@login_required
@require_GET
def pupil(request, pk: int):
    pupil = selectors.transfer_pupil_get(user=request.user, pk=pk)
    audit_read(actor=request.user, obj=pupil, what="file_transfer")
    context = selectors.pupil_page(pupil=pupil)
    context["leaving_form"] = LeavingForm(
        initial={"left_on": pupil.left_on, "leaving_to": pupil.leaving_to}
    )
    return render(request, "transfers/pupil.html", context)


@login_required
@GET_POST
def pupil_leaving(request, pk: int):
    """Mark a pupil as leaving by hand (the MIS sync does it the same way)."""
    pupil = selectors.transfer_pupil_get(user=request.user, pk=pk)
    form = LeavingForm(
        request.POST or None, initial={"left_on": pupil.left_on, "leaving_to": pupil.leaving_to}
    )
    if request.method == "POST" and form.is_valid():
        pupil_mark_left(
            actor=request.user,
            pupil=pupil,
            left_on=form.cleaned_data["left_on"],
            leaving_to=form.cleaned_data["leaving_to"],
        )
        messages.success(request, f"{pupil.full_name} is marked as leaving.")
        return _to_pupil(pupil.pk)
    return render(request, "transfers/form.html", {"form": form, "pupil": pupil, "kind": "leaving"})


@login_required
@require_POST
def pupil_returned(request, pk: int):
    pupil = selectors.transfer_pupil_get(user=request.user, pk=pk)
    if pupil.left_on is None:
        messages.info(request, f"{pupil.full_name} is on the school's roll.")
    else:
        pupil_mark_returned(actor=request.user, pupil=pupil)
        messages.success(request, f"{pupil.full_name} is back on the roll.")
    return _to_pupil(pupil.pk)


def _open_transfer_form(request, pk: int, form_class, kind: str, act, form_kwargs):
    transfer = selectors.transfer_get(user=request.user, pk=pk)
    if not transfer.is_open:
        messages.info(request, "This file transfer is closed.")
        return _to_pupil(transfer.pupil_id)
    form = form_class(request.POST or None, **form_kwargs(transfer))
    if request.method == "POST" and form.is_valid():
        try:
            return act(transfer, form.cleaned_data)
        except services.TransferBlocked as error:
            for problem in _problems(error):
                form.add_error(None, problem)
    return render(
        request,
        "transfers/form.html",
        {"form": form, "transfer": transfer, "pupil": transfer.pupil, "kind": kind},
    )


@login_required
@GET_POST
def offer(request, pk: int):
    """Send the file to a school on Homeward: its DSLs are alerted and one accepts."""

    def act(transfer, data):
        services.transfer_offer(actor=request.user, transfer=transfer, to_school=data["to_school"])
        messages.success(request, f"The file is offered to {data['to_school']}.")
        return _to_pupil(transfer.pupil_id)

    return _open_transfer_form(
        request,
        pk,
        OfferForm,
        "offer",
        act,
        form_kwargs=lambda t: {"schools": selectors.receiving_schools(transfer=t)},
    )


@login_required
@GET_POST
def package(request, pk: int):
    """Send the encrypted package to any other school; the password is shown once, here."""

    def act(transfer, data):
        transfer, password, _token = services.transfer_package_send(
            actor=request.user,
            transfer=transfer,
            to_school_name=data["to_school_name"],
            recipient_email=data["recipient_email"],
        )
        return render(
            request, "transfers/package_sent.html", {"transfer": transfer, "password": password}
        )

    return _open_transfer_form(
        request,
        pk,
        PackageForm,
        "package",
        act,
        form_kwargs=lambda t: {"initial": {"to_school_name": t.to_school_name}},
    )


@login_required
@GET_POST
def receipt(request, pk: int):
    """Record by hand who received the file, when and how."""

    def act(transfer, data):
        services.transfer_receipt_record(actor=request.user, transfer=transfer, **data)
        messages.success(request, "The receipt is recorded.")
        return _to_pupil(transfer.pupil_id)

    return _open_transfer_form(
        request,
        pk,
        ReceiptForm,
        "receipt",
        act,
        form_kwargs=lambda t: {"initial": {"to_school_name": t.to_school_name}},
    )


@login_required
@GET_POST
def accept(request, pk: int):
    """A DSL of the receiving school accepts the file offered to it."""
    transfer = selectors.offered_transfer_get(user=request.user, pk=pk)
    if request.method == "POST":
        try:
            transfer = services.transfer_accept(actor=request.user, transfer=transfer)
        except services.TransferBlocked as error:
            messages.error(request, " ".join(_problems(error)))
            return redirect("transfers:dashboard")
        messages.success(request, "The file is accepted: it is now your school's.")
        return _to_pupil(transfer.received_pupil_id)
    return render(request, "transfers/accept.html", {"transfer": transfer, "form": DeclineForm()})


@login_required
@GET_POST
def decline(request, pk: int):
    transfer = selectors.offered_transfer_get(user=request.user, pk=pk)
    form = DeclineForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.transfer_decline(
                actor=request.user, transfer=transfer, reason=form.cleaned_data["reason"]
            )
        except services.TransferBlocked as error:
            messages.error(request, " ".join(_problems(error)))
        else:
            messages.success(request, "The file is declined; the sending school is told.")
        return redirect("transfers:dashboard")
    return render(request, "transfers/accept.html", {"transfer": transfer, "form": form})


@login_required
@GET_POST
def paper_file(request, pk: int):
    """Record a child protection file that arrived on paper, attached to the pupil."""
    pupil = selectors.transfer_pupil_get(user=request.user, pk=pk)
    form = PaperFileForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.paper_file_record(actor=request.user, pupil=pupil, **form.cleaned_data)
        except services.TransferBlocked as error:
            for problem in _problems(error):
                form.add_error(None, problem)
        else:
            messages.success(request, "The paper file is recorded.")
            return _to_pupil(pupil.pk)
    return render(request, "transfers/form.html", {"form": form, "pupil": pupil, "kind": "paper"})


@login_required
@require_GET
def document(request, pk: int):
    document = selectors.document_get(user=request.user, pk=pk)
    received = document.received_file
    document_download_record(
        actor=request.user,
        school=received.school,
        obj=received,
        document="transferred-file",
        details={"title": document.title},
    )
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="pupil-{received.pupil_id}-{document.filename}"'
    )
    response["Cache-Control"] = "no-store"
    return response


# The public package link ---------------------------------------------------------------------


@GET_POST
def package_link(request, token: str):
    """The receiving DSL's page: no sign-in, the signed link is the key. GET only shows the
    page (mail scanners open links); a POST with the recipient's email downloads the package
    once, then confirms receipt."""
    if throttle_hit(
        key=f"transfer-link:{request.META.get('REMOTE_ADDR', '')}",
        limit=LINK_TRIES_PER_ADDRESS,
        window_seconds=600,
    ):
        return render(
            request, "transfers/link.html", {"refused": "Too many tries. Wait a while."}, status=429
        )
    form = LinkForm(request.POST or None)
    if request.method == "GET":
        try:
            transfer = services.package_link_check(token=token)
        except services.LinkRefused as error:
            return render(request, "transfers/link.html", {"refused": str(error)})
        return render(request, "transfers/link.html", {"form": form, "transfer": transfer})
    if not form.is_valid():
        return render(request, "transfers/link.html", {"form": form})
    email = form.cleaned_data["email"]
    try:
        if request.POST.get("step") == "confirm":
            transfer = services.package_receipt_confirm(
                token=token, email=email, name=form.cleaned_data["name"]
            )
            return render(request, "transfers/link.html", {"confirmed": transfer})
        transfer, content = services.package_download(token=token, email=email)
    except services.LinkRefused as error:
        logger.info("transfer link refused: %s", error.reason)
        return render(request, "transfers/link.html", {"refused": str(error), "form": form})
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = (
        f'attachment; filename="safeguarding-file-transfer-{transfer.pk}.zip"'
    )
    response["Cache-Control"] = "no-store"
    return response
