"""My visit as an app (issue 13): a web app manifest and a service worker, so My visit can be
added to the home screen and, with no data, shows a cached offline page with the office's
number, the 999 instruction and the reply words. The worker caches that page and its static
files only: never a page with a child's details."""

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from ..auth import sign_in

pytestmark = pytest.mark.django_db


def precache_of(worker: str) -> list[str]:
    return json.loads(re.search(r"const PRECACHE = (\[.*?\]);", worker).group(1))


def test_the_manifest_starts_and_stays_on_my_visit(client):
    response = client.get(reverse("tracking:app_manifest"))
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["start_url"] == manifest["scope"] == reverse("tracking:mine")
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200


def test_the_service_worker_is_served_with_my_visit_as_its_scope(client):
    response = client.get(reverse("tracking:app_service_worker"))
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    assert response["Service-Worker-Allowed"] == reverse("tracking:mine")
    assert reverse("tracking:app_service_worker").startswith(reverse("tracking:mine"))


def test_the_service_worker_caches_the_offline_page_and_static_files_only(client):
    # Never a child's details: no My visit, no visit, pupil, record or emergency page.
    worker = client.get(reverse("tracking:app_service_worker")).content.decode()
    precache = precache_of(worker)
    assert precache[0] == reverse("tracking:app_offline")
    assert all(url == precache[0] or url.startswith("/static/") for url in precache)
    assert reverse("tracking:mine") not in precache
    assert "cache.put" not in worker, "nothing fetched later is ever cached"


def test_the_offline_page_has_the_offices_number_999_and_the_reply_words(sam, oakfield, signout):
    oakfield.monitor_phone = "+447700900500"
    oakfield.save()
    page = sign_in(Client(), sam).get(reverse("tracking:app_offline")).content.decode()
    assert 'href="tel:999"' in page and 'href="tel:+447700900500"' in page
    assert "07700 900500" in page
    for word in ("SAFE", "BACK", "HOME", "FINE", "HELP"):
        assert f"<strong>{word}</strong>" in page
    # Nothing about the visit: no address, no pupil, no visitor's name.
    assert "Elm Grove" not in page and "Aisha" not in page and "Tess" not in page


def test_my_visit_links_the_manifest_registers_the_worker_and_calls_the_office(sam, signout):
    page = sign_in(Client(), sam).get(reverse("tracking:mine")).content.decode()
    assert f'rel="manifest" href="{reverse("tracking:app_manifest")}"' in page
    assert "/static/js/my-visit-app.js" in page
    assert f'data-service-worker="{reverse("tracking:app_service_worker")}"' in page
    assert 'href="tel:+447700900500"' in page and "Call the office" in page
