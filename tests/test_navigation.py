"""The navigation is grouped by what each role does, and "Log out" of Homeward lives in the
user's own menu, away from the board's "Sign out" buttons that sign visitors out."""

import re


def _nav(client) -> str:
    page = client.get("/", follow=True).content.decode()
    return re.search(r'<nav class="navbar.*?</nav>', page, re.S).group(0)


def _top_level(nav: str) -> list[str]:
    first_list = re.search(
        r'<ul class="navbar-nav me-auto">(.*?)</ul>\s*<ul class="navbar-nav">', nav, re.S
    )
    # Only the links directly in the bar (not those inside the "More" menu).
    bar = re.sub(r'<ul class="dropdown-menu">.*?</ul>', "", first_list.group(1), flags=re.S)
    return [
        re.sub(r"<.*?>", "", link).strip() for link in re.findall(r"<a [^>]*>.*?</a>", bar, re.S)
    ]


def test_dana_has_five_items_in_the_bar_and_the_rest_under_more(signed_in, dana):
    nav = _nav(signed_in(dana))
    assert _top_level(nav) == ["To authorise", "All visits", "Records", "Sign-out board", "More"]
    for item in ("Escalations", "Audit trail", "Out on a visit now", "My actions"):
        assert item in nav


def test_staff_see_their_visits_and_out_on_a_visit_now_not_two_my_visit_links(signed_in, sam):
    items = _top_level(_nav(signed_in(sam)))
    assert items == ["My visits", "Out on a visit now", "Pupils", "My actions"]


def test_the_office_sees_the_board_and_logs_out_from_its_own_menu(signed_in, olive):
    nav = _nav(signed_in(olive))
    assert _top_level(nav) == ["Sign-out board"]
    assert "Log out of Homeward" in nav and ">Sign out<" not in nav


def test_the_dsl_and_the_head_find_the_mis_sync_runs_under_more_and_staff_do_not(
    signed_in, dana, hugh, sam, olive
):
    """R-SEC-5: each sync run is shown to the DSL (and Head); the link opens their runs."""
    for person in (dana, hugh):
        client = signed_in(person)
        nav = _nav(client)
        assert re.search(r'<a class="dropdown-item" href="/mis/">MIS sync</a>', nav), person
        assert "MIS sync" not in _top_level(nav)
        page = client.get("/mis/")
        assert page.status_code == 200 and "No sync has run yet." in page.content.decode()
    for person in (sam, olive):
        assert "MIS sync" not in _nav(signed_in(person)), person
