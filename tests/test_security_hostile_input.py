"""Bad input (issue #7): hypothesis throws random and hostile values (very long strings, HTML and
script, SQL fragments, unicode, NUL bytes, ids of another school's objects) at every URL of the
app — as a form POST with the fields its pages' forms carry, and as a GET with query strings —
and proves: never a 500; no script stored or reflected unescaped; no write that crosses schools.

The URLs come from the resolver (the same list as tests/test_every_url.py), so a URL added later
is covered without touching this file (one test per app, each URL in turn). Random examples per
URL that takes input: HOSTILE_EXAMPLES (default 5),
after a deterministic sweep that puts each script payload in every field at once.
"""

import os
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.db.models import F, ForeignKey, ManyToManyField, OneToOneField
from django.urls import Resolver404, resolve, reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.models import AuditEvent
from schools.models import Household, Pupil, Role, School
from tests.auth import sign_in
from tests.factories import ContactNumberFactory, HouseholdFactory, PupilFactory, person
from tests.factories import visit_draft as make_visit
from tests.test_every_url import _app_url_names, world  # noqa: F401  (world: the fixture)
from tests.urls_under_test import PAGES, PUBLIC, PUBLIC_KWARGS, UNAVAILABLE_IS_AN_ANSWER

EXAMPLES = int(os.environ.get("HOSTILE_EXAMPLES", "5"))
MARK = "hwxss"
# What an unescaped payload looks like in a page. Escaped, each starts with &lt; or &quot;.
UNESCAPED = (
    re.compile(rf"<script>{MARK}"),
    re.compile(rf"<img src=x onerror={MARK}"),
    re.compile(rf"""(?:href|src|action)\s*=\s*["']?\s*javascript:{MARK}""", re.IGNORECASE),
)
HOSTILE_TEXT = [
    f"<script>{MARK}()</script>",
    f'"><img src=x onerror={MARK}()>',
    f"javascript:{MARK}()",
    "' OR '1'='1' --",
    "1; DROP TABLE schools_pupil; --",
    "Robert'); DELETE FROM audit_auditevent;--",
    "{{ request.user.password }}{% debug %}",
    "../../../../etc/passwd",
    "\x00",
    "nul\x00inside",
    "²",  # a digit to str.isdigit(), not to int()
    "#²",
    "\u202egnp.exe",
    "🙂" * 300,
    "Ж" * 5000,
    "A" * 100_000,
    "",
    " ",
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "31/02/2026",
    "2026-13-45T25:61",
    "+447700900999",
    "on",
    "true",
]


class FormFields(HTMLParser):
    """The fields of every form on a page, by the URL each form submits to."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url = page_url
        self.forms: list[tuple[str, str, set[str]]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = attrs.get("action") or self.page_url
            self.forms.append((action, (attrs.get("method") or "get").lower(), set()))
        elif (
            tag in ("input", "select", "textarea", "button")
            and self.forms
            and attrs.get("name") not in (None, "csrfmiddlewaretoken")
        ):
            self.forms[-1][2].add(attrs["name"])


def _url_name(url: str) -> str | None:
    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        return None
    return match.view_name


_FIELDS: dict[str, set[str]] = {}


def fields_by_url_name(client, world) -> dict[str, set[str]]:  # noqa: F811
    """Crawls every page once per test process, as a person allowed to open it."""
    if _FIELDS:
        return _FIELDS
    pages = [(name, None) for name in PUBLIC if name != "logout"]
    pages += [(name, page) for name, page in PAGES.items() if page.allowed]
    for name, page in pages:
        client.logout()
        if page is not None:
            sign_in(client, world[page.allowed[0]])
        url = reverse(name, kwargs=page.kwargs(world) if page else PUBLIC_KWARGS.get(name, {}))
        response = client.get(url, follow=True)
        parser = FormFields(url)
        parser.feed(response.content.decode(errors="replace"))
        for action, _, names in parser.forms:
            target = _url_name(action)
            if target:
                _FIELDS.setdefault(target, set()).update(names)
    client.logout()
    return _FIELDS


@pytest.fixture
def outsiders(oscar, riverside):
    """Riverside's own objects: their ids are thrown at Oakfield's people."""
    household = HouseholdFactory(school=riverside, address_line_1="1 River Walk")
    ContactNumberFactory(household=household)
    ContactNumberFactory(household=household)
    pupil = PupilFactory(household=household, first_name="Rory", last_name="Rivers")
    rita = person("rita", riverside, Role.STAFF)
    visit = make_visit(oscar, pupil, [oscar, rita])
    return {"household": household, "pupil": pupil, "visit": visit}


def _school_path(model) -> str | None:
    names = {f.name: f for f in model._meta.get_fields() if f.is_relation and f.concrete}
    if "school" in names and names["school"].related_model is School:
        return "school"
    for via in ("visit", "household", "pupil"):
        if via in names and _school_path(names[via].related_model) == "school":
            return f"{via}__school"
    return None


# The links between schools the design makes on purpose, and why (none is made by a form field
# naming another school's object: each is written by the service that moves a child's file).
SANCTIONED_LINKS = {
    # R-REC-8: a file transfer's receipt names the pupil the file now belongs to, at the new
    # school; the received file names the transfer it came by (the sending school's receipt).
    ("transfers.filetransfer", "received_pupil"),
    ("transfers.receivedfile", "transfer"),
}


def cross_school_links() -> int:
    """Rows of one school's object pointing at another school's object (a pupil on another
    school's visit, a contact log on another school's household, …), over every model."""
    total = 0
    for model in apps.get_models():
        own = _school_path(model)
        if own is None:
            continue
        for field in model._meta.get_fields():
            if (model._meta.label_lower, field.name) in SANCTIONED_LINKS:
                continue
            if not (field.concrete and isinstance(field, ForeignKey | OneToOneField)):
                if isinstance(field, ManyToManyField) and _school_path(field.related_model):
                    through = field.remote_field.through
                    source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
                    total += through.objects.exclude(
                        **{f"{target}__{_school_path(field.related_model)}": F(f"{source}__{own}")}
                    ).count()
                continue
            theirs = _school_path(field.related_model)
            if theirs is None or field.name == "school" or own.startswith(f"{field.name}__"):
                continue
            total += (
                model._default_manager.filter(**{f"{field.name}__isnull": False})
                .exclude(**{f"{field.name}__{theirs}": F(own)})
                .count()
            )
    return total


def events_by_outsiders(since: int) -> int:
    """Audit events written by someone with no role at the event's school or its trust. A file
    transfer is audited at both its schools (R-REC-8): there, an actor with a role at either
    school of the transfer is no outsider."""
    from transfers.models import FileTransfer

    outside = (
        AuditEvent.objects.filter(pk__gt=since, actor__isnull=False, school__isnull=False)
        .exclude(actor__memberships__school=F("school"))
        .exclude(actor__trust_roles__trust=F("school__trust"))
    )
    total = 0
    for event in outside.select_related("actor"):
        transfer = (
            FileTransfer.objects.filter(pk=event.object_id).first()
            if event.object_type == "transfers.filetransfer"
            else None
        )
        # A declined transfer no longer names the school that declined it: the event does.
        schools = (
            {transfer.school_id, transfer.to_school_id, event.changes.get("by_school")}
            if transfer
            else set()
        )
        if not event.actor.memberships.filter(school_id__in=schools).exists():
            total += 1
    return total


def riverside_snapshot(riverside) -> tuple:
    """Riverside's directory as it stands (its audit events are checked by who wrote them)."""
    return (
        list(Pupil.objects.filter(school=riverside).order_by("pk").values()),
        list(Household.objects.filter(school=riverside).order_by("pk").values()),
        list(School.objects.filter(pk=riverside.pk).values()),
    )


def assert_nothing_unescaped(response, where: str) -> None:
    if "html" not in response.get("Content-Type", ""):
        return
    page = response.content.decode(errors="replace")
    for pattern in UNESCAPED:
        assert not pattern.search(page), f"{where}: unescaped hostile input in the page"


def _is_a_file(url: str) -> bool:
    """A PDF, an export or a calendar feed: not a page a script could run in."""
    return bool(re.search(r"\.(pdf|csv|ics|zip)$", urlsplit(url).path))


def hostile_value(outsider_ids: list[int]):
    return st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        st.sampled_from([str(i) for i in outsider_ids]),
        st.text(max_size=300),
        st.integers(min_value=-(2**63), max_value=2**63).map(str),
    )


ALL_URLS = sorted(n for n in _app_url_names() if n in PAGES) + sorted(PUBLIC)
# One test per app (a URL namespace; "accounts" for the rest): each builds its world once and
# attacks its URLs in turn, so the suite stays fast as URLs are added. A failure names the URL.
GROUPS: dict[str, list[str]] = {}
for _name in ALL_URLS:
    GROUPS.setdefault(_name.split(":")[0] if ":" in _name else "accounts", []).append(_name)


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_hostile_input_never_breaks_a_page_leaks_a_script_or_crosses_schools(
    client,
    world,  # noqa: F811
    outsiders,
    riverside,
    group,
):
    for name in GROUPS[group]:
        attack(name, client=client, world=world, outsiders=outsiders, riverside=riverside)


def attack(name: str, *, client, world, outsiders, riverside) -> None:  # noqa: F811
    """Everything this module proves, for one URL."""
    fields = sorted(fields_by_url_name(client, world).get(name, set()))
    page = PAGES.get(name)
    people = [None] if page is None else [*page.allowed, *page.forbidden, "oscar"]
    people = people or ["dana"]
    own_kwargs = page.kwargs(world) if page else PUBLIC_KWARGS.get(name, {})
    outsider_ids = [obj.pk for obj in outsiders.values()]
    links_before = cross_school_links()
    riverside_before = riverside_snapshot(riverside)
    first_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    writes = AuditEvent.objects.exclude(event_type__startswith="read.")
    writes_before = writes.count()

    # First, every field at once gets each script payload, and then another school's ids, as
    # the person the page is for: a deterministic sweep, so an unescaped field is always found.
    client.logout()
    if people[0] is not None:
        sign_in(client, world[people[0]])
    url = reverse(name, kwargs=own_kwargs)
    payloads = [dict.fromkeys(fields or ["q"], value) for value in HOSTILE_TEXT[:3]]
    payloads += [
        {field: str(outsider_ids[n % len(outsider_ids)]) for n, field in enumerate(fields)}
    ]
    takes_input = bool(fields) or (page is not None and page.method == "post")
    if not fields:  # no form: one hostile query string is enough for the sweep
        payloads = payloads[:1]
    posts_only = page is not None and page.method == "post"
    sends = [client.post] if posts_only else [client.get, client.post] if fields else [client.get]
    for payload in payloads:
        for send in sends:
            response = send(url, payload)
            unavailable = name in UNAVAILABLE_IS_AN_ANSWER and response.status_code == 503
            assert response.status_code < 500 or unavailable, (
                f"{name} answered {response.status_code}"
            )
            assert_nothing_unescaped(response, name)
    signed_in_as = [people[0]]

    @settings(
        # A URL with no form and no POST gets fewer random examples: the sweep covered it.
        max_examples=EXAMPLES if takes_input else 1,
        deadline=None,
        database=None,
        derandomize=bool(os.environ.get("CI")),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(data=st.data())
    def attempt(data):
        who = data.draw(st.sampled_from(people), label="who")
        if who != signed_in_as[0] or (who and "_auth_user_id" not in client.session):
            client.logout()
            if who is not None:
                sign_in(client, world[who])
            signed_in_as[0] = who
        kwargs = dict(own_kwargs)
        for key in kwargs:
            if data.draw(st.booleans(), label=f"replace {key}"):
                kwargs[key] = data.draw(st.sampled_from(outsider_ids), label=key)
        url = reverse(name, kwargs=kwargs)
        names = st.sampled_from(fields) if fields else st.text(min_size=1, max_size=20)
        payload = data.draw(
            st.dictionaries(
                st.one_of(names, st.text(min_size=1, max_size=20)),
                hostile_value(outsider_ids),
                max_size=max(3, len(fields) + 2),
            ),
            label="payload",
        )
        if data.draw(st.booleans(), label="post"):
            response = client.post(url, payload)
        else:
            response = client.get(url, payload)
        unavailable = name in UNAVAILABLE_IS_AN_ANSWER and response.status_code == 503
        assert response.status_code < 500 or unavailable, f"{name} answered {response.status_code}"
        assert_nothing_unescaped(response, name)

    attempt()

    assert cross_school_links() == links_before, f"{name} linked one school's data to another's"
    assert riverside_snapshot(riverside) == riverside_before, f"{name} changed Riverside's data"
    assert events_by_outsiders(first_event) == 0, f"{name} let someone act outside their school"
    # Whatever was stored is shown escaped where it is shown: the URL's own pages, and every
    # page about an object (visit, pupil, household, …) and the audit trail.
    # Every write is audited (R-SEC-2): when nothing was written, nothing new can be shown.
    if not takes_input or writes.count() == writes_before:
        return
    namespace = name.split(":")[0] if ":" in name else ""
    shown = sorted(
        (page.allowed[0], other)
        for other, page in PAGES.items()
        if page.allowed
        and page.method == "get"
        and not _is_a_file(reverse(other, kwargs=page.kwargs(world)))
        and (page.scoped or other.startswith(f"{namespace}:") or other == name)
    )
    signed_in_as = None
    for who, other in shown + [("dana", "audit:search")]:
        if who != signed_in_as:
            client.logout()
            sign_in(client, world[who])
            signed_in_as = who
        response = client.get(reverse(other, kwargs=PAGES[other].kwargs(world)))
        assert_nothing_unescaped(response, f"{other} after {name}")


def test_the_detectors_can_fail(outsiders, oakfield, riverside, world):  # noqa: F811
    from django.http import HttpResponse

    with pytest.raises(AssertionError):
        assert_nothing_unescaped(
            HttpResponse(f"<p><script>{MARK}()</script></p>", content_type="text/html"), "x"
        )
    assert_nothing_unescaped(
        HttpResponse(f"<p>&lt;script&gt;{MARK}()&lt;/script&gt;</p>", content_type="text/html"),
        "x",
    )
    before = cross_school_links()
    world["visit"].pupils.add(outsiders["pupil"])
    assert cross_school_links() == before + 1
    pupil = world["pupil"]
    pupil.household = outsiders["household"]
    pupil.save()
    assert cross_school_links() == before + 2
