"""Document downloads are same-site only (issue 19, cheap insurance).

Pages and downloads write audit rows on GET (R-SEC-2, R-SEC-3), so a link on another site could
fill the audit trail with downloads nobody meant. A browser says where a request came from in
`Sec-Fetch-Site`: a download (a PDF, the CSV export) is refused, 403 and audited, when it says
`cross-site`. `same-origin`, `same-site`, `none` (typed in, a bookmark) and no header at all
(older browsers) are allowed. Pages are not affected.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied

from audit.services import audit_event_create


def refuse_cross_site_download(request, *, document: str) -> None:
    """Raise PermissionDenied (after auditing it) when another site started this download."""
    if request.headers.get("Sec-Fetch-Site", "").strip().lower() != "cross-site":
        return
    user = request.user
    audit_event_create(
        actor=user,
        school=None,
        obj=user,
        event_type="document.refused_cross_site",
        changes={"document": document, "path": request.path[:200]},
    )
    raise PermissionDenied(
        "This download was started from another website. Open it from Homeward instead."
    )


def same_site_download(document: str):
    """Decorate a download view (after login_required) so another site cannot start it."""

    def decorate(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            refuse_cross_site_download(request, document=document)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
