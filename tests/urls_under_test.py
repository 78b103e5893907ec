"""Every URL of the application, with who may use it. tests/test_every_url.py fails when a URL
pattern is added without an entry here, so nobody can add an unprotected page.

Each entry: how to build the URL's arguments from the test world, who gets 200, and who gets 403.
Object URLs (`scoped=True`) also prove Oscar, from another school, gets 404.
"""

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Page:
    allowed: tuple[str, ...]
    forbidden: tuple[str, ...]
    kwargs: Callable[[dict], dict] = field(default=lambda world: {})
    scoped: bool = False  # an object of Oakfield's: Oscar gets 404
    method: str = "get"  # "post" for actions that only take a POST


# URLs anybody may open, and why.
PUBLIC = {
    "login": "the sign-in page",
    "logout": "signing out",
    "password_reset": "asking for a reset link",
    "password_reset_done": "the 'check your email' page",
    "password_reset_confirm": "the link from the email carries its own token",
    "password_reset_complete": "the 'password changed' page",
    "healthz": "the load balancer's health check (the process answers); says nothing about any "
    "school",
    "readyz": "monitoring's readiness check: per-check ok or a one-word problem, no host names, "
    "no counts (tests/test_health.py)",
    "metrics": "Prometheus: answers only METRICS_TOKEN or METRICS_ALLOWED_NETWORKS, else 404 "
    "(tests/ops/test_metrics.py)",
    "admin_login": "sends the admin's own sign-in to Homeward's two-factor sign-in",
    "visits:calendar_feed": "calendar apps cannot sign in: the secret, revocable token is the key",
    "transfers:package_link": "the receiving DSL of a school not on Homeward: the signed, "
    "expiring link is the key, used once, and only with the email address it was sent to; "
    "refusals change nothing and are audited (tests/transfers/test_package_route.py)",
    "tracking:checkin": "an overdue visitor's check-in link from an SMS: its signed, one-hour, "
    "single-use token is the key; it can only say I'm safe or 15 more minutes; rate-limited and "
    "audited (tests/tracking/test_checkin_link.py)",
    "openid_connect_login": "starts signing in with the school's Microsoft or Google account "
    "(a POST; django-allauth keeps the state, nonce and PKCE verifier in the session)",
    "openid_connect_callback": "the identity provider's redirect back: only a code and a state "
    "this session started are accepted (tests/sso/test_sign_in_sso.py)",
    "sso:invitation": "an administrator's single-use link to link a provider account: the "
    "random token (hashed in the database) is the key; nothing is linked until the school's own "
    "provider signs the person in (tests/sso/test_sign_in_sso.py)",
    "tracking:acknowledge": "the one-tap acknowledgement link in a manager's or monitor's alert: "
    "its signed, expiring, single-use token is the key; it can only say I am dealing with it and "
    "shows no child's details; rate-limited and audited (tests/tracking/test_alarm.py)",
    "tracking:twilio_status": "Twilio's delivery callbacks: POST only, refused with 403 and "
    "audited unless signed with the auth token (tests/tracking/test_receipts.py)",
    "tracking:notify_receipt": "GOV.UK Notify's delivery receipts: POST only, refused with 403 "
    "and audited unless they carry the callback bearer token (tests/tracking/test_receipts.py)",
    "tracking:twilio_sms_reply": "Twilio posts the texts visitors send back: its signature over "
    "the URL and form is the key (403 without it); POST only (tests/tracking/test_replies.py)",
    "tracking:app_manifest": "My visit's web app manifest: browsers fetch it without cookies; "
    "it holds no data (tests/tracking/test_my_visit_app.py)",
    "tracking:app_service_worker": "My visit's service worker script: the browser fetches it "
    "to install and update it; it holds no data and caches only the offline page "
    "(tests/tracking/test_my_visit_app.py)",
    "tracking:notify_sms_reply": "GOV.UK Notify posts the texts visitors send back: the "
    "callback's bearer token is the key (403 without it); POST only "
    "(tests/tracking/test_replies.py)",
    "tracking:twilio_call_status": "Twilio's call status callbacks for the fallback call: POST "
    "only, refused with 403 and audited unless signed with the auth token "
    "(tests/tracking/test_voice_fallback.py)",
    "tracking:voice_twiml": "Twilio asks what the fallback call says: its signature over the URL "
    "and form is the key (403 without it), and the URL's token is the call's id signed by "
    "Homeward (404 otherwise); POST only; says no child's details "
    "(tests/tracking/test_voice_fallback.py)",
    "tracking:voice_keypress": "the key pressed on the fallback call: Twilio's signature (403 "
    "without it) and Homeward's signed token; 1 from a person acknowledges, a machine never "
    "(tests/tracking/test_voice_fallback.py)",
}

# Public URLs whose 503 is an answer, not a crash: the readiness check says "not ready" when the
# escalation scan has not run, as in a test world without a worker.
UNAVAILABLE_IS_AN_ANSWER = {"readyz"}

# Arguments for public URLs that take some.
PUBLIC_KWARGS = {
    "password_reset_confirm": {"uidb64": "MQ", "token": "set-password"},
    "visits:calendar_feed": {"token": "not-a-real-token"},
    "tracking:checkin": {"token": "not-a-real-token"},
    "transfers:package_link": {"token": "not-a-real-token"},
    "openid_connect_login": {"provider_id": "no-such-school"},
    "openid_connect_callback": {"provider_id": "no-such-school"},
    "sso:invitation": {"token": "not-a-real-token"},
    "tracking:acknowledge": {"token": "not-a-real-token"},
    "tracking:voice_twiml": {"token": "not-a-real-token"},
    "tracking:voice_keypress": {"token": "not-a-real-token"},
}


def _visit(world):
    return {"pk": world["visit"].pk}


# Django's admin checks is_staff itself and sends everyone else to its own sign-in.
ADMIN_NAMESPACE = "admin"

PAGES: dict[str, Page] = {
    # The MIS sync's runs (R-SEC-5): for those who read records (DSL, deputy, Head).
    "mis:runs": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "mis:run_detail": Page(
        allowed=("dana", "hugh"),
        forbidden=("sam", "olive", "max"),
        kwargs=lambda world: {"pk": world["sync_run"].pk},
        scoped=True,
    ),
    # After an SSO sign-in without the provider's MFA: Homeward's code (anyone signed in; a
    # verified session is sent home).
    "sso:verify": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "home": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "visits:mine": Page(allowed=("sam", "dana", "hugh"), forbidden=("olive", "max")),
    "visits:queue": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "visits:all": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "visits:detail": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=_visit,
        scoped=True,
    ),
    "visits:new": Page(allowed=("sam", "dana"), forbidden=("olive", "max")),
    "visits:siblings": Page(allowed=("sam", "dana"), forbidden=("olive", "max")),
    "visits:data_quality": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "visits:calendar": Page(allowed=("sam", "dana"), forbidden=("olive", "max")),
    "visits:edit": Page(
        allowed=("sam", "dana"), forbidden=("tess", "olive", "max"), kwargs=_visit, scoped=True
    ),
    "visits:submit": Page(
        allowed=("sam",),
        forbidden=("tess", "olive", "max"),
        kwargs=_visit,
        scoped=True,
        method="post",
    ),
    "visits:decide": Page(
        allowed=("dana", "hugh"),
        forbidden=("sam", "tess", "olive", "max"),
        kwargs=_visit,
        scoped=True,
    ),
    "visits:consult": Page(
        allowed=("hugh",),
        forbidden=("dana", "olive", "max"),
        kwargs=_visit,
        scoped=True,
        method="post",
    ),
    "visits:cancel": Page(
        allowed=("sam", "dana"), forbidden=("tess", "olive", "max"), kwargs=_visit, scoped=True
    ),
    "visits:withdraw": Page(
        allowed=("tess",), forbidden=("olive", "max"), kwargs=_visit, scoped=True, method="post"
    ),
    "tracking:board": Page(allowed=("olive", "dana", "max"), forbidden=("sam",)),
    "tracking:escalations": Page(allowed=("max", "dana"), forbidden=("sam", "olive")),
    "pupils:pupil_list": Page(allowed=("sam", "dana"), forbidden=("olive", "max")),
    "pupils:pupil_detail": Page(
        allowed=("sam", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"pk": world["pupil"].pk},
        scoped=True,
    ),
    "pupils:household_detail": Page(
        allowed=("sam", "dana"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"pk": world["household"].pk},
        scoped=True,
    ),
    # Everyone's own account (issue #7): no role needed, but signed in.
    "password_change": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "password_change_done": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "two_factor:profile": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "two_factor:setup": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "two_factor:setup_complete": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "two_factor:backup_tokens": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    # Issue 14: each member of staff's own photo; the image exists only once uploaded, and it and
    # the emergency page's copy are tested in tests/tracking/test_staff_description.py.
    "my_photo": Page(allowed=("sam", "dana", "olive", "max"), forbidden=()),
    "my_photo_image": Page(allowed=(), forbidden=()),
    "tracking:visitor_photo": Page(
        allowed=(),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"pk": world["signout"].pk, "user_pk": world["sam"].pk},
        scoped=True,
    ),
    # The QR code exists only while a set-up is in progress: tests/test_security_two_factor.py.
    "two_factor:qr": Page(allowed=(), forbidden=()),
    # The audit search (R-SEC-2): DSLs, Heads and trust leads, never staff, office or managers.
    "audit:search": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    # R-SEC-1: office staff and managers never read assessments or the contact log.
    "riskassess:assessment": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["assessed_visit"].pk},
        scoped=True,
    ),
    "riskassess:sign_off": Page(
        allowed=("dana", "hugh"),
        forbidden=("sam", "tess", "olive", "max"),
        kwargs=lambda world: {"visit_pk": world["assessed_visit"].pk},
        scoped=True,
    ),
    "riskassess:reconfirm": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["assessed_visit"].pk},
        scoped=True,
    ),
    "riskassess:doorstep": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["doorstep_visit"].pk},
        scoped=True,
    ),
    "riskassess:contact_log": Page(
        allowed=("sam", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"household_pk": world["household"].pk},
        scoped=True,
    ),
    "riskassess:missing_contact": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    # records/: R-SEC-1 — the visitors, DSLs and the Headteacher read records; the office never.
    "records:dashboard": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "records:overdue_records": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "records:concerns": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "records:overdue_actions": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "records:export": Page(allowed=("dana", "hugh"), forbidden=("sam", "olive", "max")),
    "records:my_actions": Page(allowed=("sam", "tess", "dana", "hugh"), forbidden=("olive", "max")),
    "records:concern_acknowledge": Page(
        allowed=("dana", "hugh"),
        forbidden=("sam", "tess", "olive", "max"),
        kwargs=lambda world: {"pk": world["concern"].pk},
        scoped=True,
    ),
    "records:action": Page(
        allowed=("tess", "dana", "hugh"),
        forbidden=("sam", "olive", "max"),
        kwargs=lambda world: {"pk": world["action"].pk},
        scoped=True,
    ),
    "records:action_reassign": Page(
        allowed=("dana", "hugh"),
        forbidden=("sam", "tess", "olive", "max"),
        kwargs=lambda world: {"pk": world["action"].pk},
        scoped=True,
    ),
    "records:record": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["returned_visit"].pk},
        scoped=True,
    ),
    "records:record_edit": Page(
        allowed=("sam", "tess"),
        forbidden=("dana", "hugh", "olive", "max"),
        kwargs=lambda world: {"visit_pk": world["returned_visit"].pk},
        scoped=True,
    ),
    "records:concern_raise": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["returned_visit"].pk},
        scoped=True,
    ),
    "records:action_add": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["returned_visit"].pk},
        scoped=True,
    ),
    "records:record_pdf": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["returned_visit"].pk},
        scoped=True,
    ),
    "records:assessment_pdf": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"visit_pk": world["returned_visit"].pk},
        scoped=True,
    ),
    "records:chronology": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"pk": world["pupil"].pk},
        scoped=True,
    ),
    "records:chronology_pdf": Page(
        allowed=("sam", "tess", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"pk": world["pupil"].pk},
        scoped=True,
    ),
    "records:pupil_file_pdf": Page(
        allowed=("dana", "hugh"),
        forbidden=("sam", "tess", "olive", "max"),
        kwargs=lambda world: {"pk": world["pupil"].pk},
        scoped=True,
    ),
    "records:blank_pdf": Page(
        allowed=("sam", "dana", "hugh"),
        forbidden=("olive", "max"),
        kwargs=lambda world: {"school_pk": world["pupil"].school_id, "form": "home-visit-form"},
        scoped=True,
    ),
    # Sign-out and escalation (tracking/): the office's board and calls, the visitor's own
    # actions from their phone, the manager's emergency page and decision.
    "tracking:mine": Page(allowed=("sam", "tess", "olive"), forbidden=()),
    # R-TRK-7: only ever one's own PINs, so anybody signed in may open the page.
    "tracking:app_offline": Page(allowed=("sam", "tess", "olive", "dana", "max"), forbidden=()),
    "tracking:pins": Page(allowed=("sam", "tess", "olive", "dana", "max"), forbidden=()),
    "tracking:signout": Page(
        allowed=("olive", "dana", "max"),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"visit_pk": world["authorised_visit"].pk},
        scoped=True,
    ),
    **{
        name: Page(
            allowed=("sam", "tess", "olive", "dana", "max"),
            forbidden=(),
            kwargs=lambda world: {"pk": world["signout"].pk},
            scoped=True,
        )
        for name in (
            "tracking:phone_in",
            "tracking:extend",
            "tracking:going_home",
            "tracking:returned",
            "tracking:help",
            "tracking:check_in",
        )
    },
    "tracking:call": Page(
        allowed=("olive", "dana", "max"),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"pk": world["signout"].pk},
        scoped=True,
    ),
    "tracking:row_actions": Page(
        allowed=("olive", "dana", "max"),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"pk": world["signout"].pk},
        scoped=True,
    ),
    "tracking:emergency": Page(
        allowed=("olive", "dana", "hugh", "max"),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"pk": world["signout"].pk},
        scoped=True,
    ),
    # R-ESC-9: the Headteacher and the DSL set the school's escalation chain.
    "tracking:chain_settings_home": Page(
        allowed=("hugh", "dana"), forbidden=("sam", "olive", "max")
    ),
    "tracking:chain_settings": Page(
        allowed=("hugh", "dana"),
        forbidden=("sam", "olive", "max"),
        kwargs=lambda world: {"school_pk": world["pupil"].school_id},
        scoped=True,
    ),
    "tracking:acknowledge_case": Page(
        allowed=("olive", "dana", "hugh", "max"),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"pk": world["signout"].pk},
        scoped=True,
    ),
    "tracking:briefing_pdf": Page(
        allowed=("olive", "max"),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"pk": world["signout"].pk},
        scoped=True,
    ),
    "tracking:decision": Page(
        allowed=("max", "dana", "hugh"),
        forbidden=("olive", "sam", "tess"),
        kwargs=lambda world: {"pk": world["signout"].pk},
        scoped=True,
    ),
    "tracking:resend": Page(
        allowed=("olive", "dana", "max"),
        forbidden=("sam", "tess"),
        kwargs=lambda world: {"pk": world["notification"].pk},
        scoped=True,
    ),
    # File transfers (transfers/, R-REC-8): the DSLs and the Headteacher, never other staff.
    "transfers:dashboard": Page(
        allowed=("dana", "hugh"), forbidden=("sam", "tess", "olive", "max")
    ),
    **{
        name: Page(
            allowed=("dana", "hugh"),
            forbidden=("sam", "tess", "olive", "max"),
            kwargs=lambda world: {"pk": world["leaver"].pk},
            scoped=True,
            method="post" if name == "transfers:pupil_returned" else "get",
        )
        for name in (
            "transfers:pupil",
            "transfers:pupil_leaving",
            "transfers:pupil_returned",
            "transfers:paper_file",
        )
    },
    **{
        name: Page(
            allowed=("dana", "hugh"),
            forbidden=("sam", "tess", "olive", "max"),
            kwargs=lambda world: {"pk": world["transfer"].pk},
            scoped=True,
        )
        for name in ("transfers:offer", "transfers:package", "transfers:receipt")
    },
    **{
        name: Page(
            allowed=("dana", "hugh"),
            forbidden=("sam", "tess", "olive", "max"),
            kwargs=lambda world: {"pk": world["offered_transfer"].pk},
            scoped=True,
        )
        for name in ("transfers:accept", "transfers:decline")
    },
    "transfers:document": Page(
        allowed=("dana", "hugh"),
        forbidden=("sam", "tess", "olive", "max"),
        kwargs=lambda world: {"pk": world["received_document"].pk},
        scoped=True,
    ),
    # Leaders' dashboards (insights/): the DSLs, the Headteacher and trust leads.
    "insights:dashboard": Page(allowed=("dana", "hugh"), forbidden=("sam", "tess", "olive", "max")),
    "insights:table_csv": Page(allowed=("dana", "hugh"), forbidden=("sam", "tess", "olive", "max")),
    "insights:report_pdf": Page(
        allowed=("dana", "hugh"), forbidden=("sam", "tess", "olive", "max")
    ),
}
