"""Point 4: the public petition page, in the visitor's language, with a live count from the
cached counters, progress toward the goal, share links and the close date; the widget; the
home page's list of open petitions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import event

from ncsej_campaigns.extensions import db
from tests import factories

RU = {"Accept-Language": "ru"}


def page_of(client, path, **kwargs) -> str:
    response = client.get(path, **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_open_petition_shows_text_target_count_progress_and_close_date(client):
    petition = factories.PetitionFactory(
        goal=1000, milestones=[100, 500], confirmed_count=123, paper_count=7,
        closes_at=datetime(2031, 3, 1, 12, tzinfo=UTC))
    html = page_of(client, f"/petitions/{petition.slug}")

    assert f"<h1>{petition.title_en}</h1>" in html
    assert "To:</span> The Supreme Soviet" in html
    assert "<p>We call on the government to let every refusenik emigrate.</p>" in html
    assert "<p>Families have waited for years.</p>" in html
    # 123 confirmed online + 7 on paper, from the petition row's counters.
    assert re.search(r"data-petition-total>130</strong>\s*<span data-petition-unit>signatures",
                     html)
    assert 'max="1000" value="130"' in html
    assert "Goal: 1,000 signatures" in html
    assert "370 more to reach 500." in html
    assert "Including 7 signatures collected on paper." in html
    assert "Open for signatures until March 1, 2031." in html
    # The form, with consent unticked and nothing else required to pass.
    for label in ("First name", "Last name", "Email", "Country", "Postal code"):
        assert f">{label}</label>" in html
    consent = re.search(r'<input id="email_consent"[^>]*>', html).group(0)
    assert "checked" not in consent


def test_page_works_without_inline_script_or_style(client):
    petition = factories.PetitionFactory()
    html = page_of(client, f"/petitions/{petition.slug}")
    assert " style=" not in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert '<script src="/static/js/petition.js" defer></script>' in html
    # Without JavaScript the count is already in the page; the script only refreshes it.
    assert f'data-count-url="/petitions/{petition.slug}/count.json"' in html
    # The honeypot is hidden by a class of the stylesheet, not by an inline style.
    assert '<div class="hp" aria-hidden="true">' in html


def test_share_links_are_plain_links(client):
    petition = factories.PetitionFactory()
    html = page_of(client, f"/petitions/{petition.slug}")
    url = f"http://127.0.0.1:5000/petitions/{petition.slug}"
    assert f'value="{url}"' in html
    assert 'href="mailto:?subject=' in html
    assert 'href="https://wa.me/?text=' in html
    assert 'href="https://t.me/share/url?url=' in html


def test_page_in_russian_for_a_russian_visitor(client):
    petition = factories.PetitionFactory()
    html = page_of(client, f"/petitions/{petition.slug}", headers=RU)
    assert '<html lang="ru">' in html
    assert f"<h1>{petition.title_ru}</h1>" in html
    assert "Верховный Совет" in html
    assert "<p>Семьи ждут годами.</p>" in html
    # Country names in the visitor's language.
    assert ">Россия</option>" in html


def test_russian_falls_back_to_english_where_not_translated(client):
    petition = factories.PetitionFactory(title_ru="", text_ru="")
    html = page_of(client, f"/petitions/{petition.slug}", headers=RU)
    assert f"<h1>{petition.title_en}</h1>" in html
    assert "<p>Families have waited for years.</p>" in html


def test_language_switch_keeps_the_visitor_on_the_petition(client):
    petition = factories.PetitionFactory()
    path = f"/petitions/{petition.slug}"
    html = page_of(client, path)
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    response = client.post("/language", data={"lang": "ru", "next": path, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith(path)
    assert f"<h1>{petition.title_ru}</h1>" in page_of(client, path)


def test_count_is_read_from_the_counter_never_counted_per_view(client, app):
    petition = factories.PetitionFactory(confirmed_count=5)
    for _ in range(3):  # rows the counting job has not counted yet
        factories.ConfirmedSignatureFactory(petition=petition)
    statements = []

    def remember(conn, cursor, statement, params, context, executemany):
        statements.append(statement.lower())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        html = page_of(client, f"/petitions/{petition.slug}")
        count = client.get(f"/petitions/{petition.slug}/count.json").get_json()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert "data-petition-total>5<" in html
    assert count["total"] == 5
    assert not [s for s in statements if "signatures" in s], statements


def test_drafts_and_archived_petitions_are_not_public(client):
    draft = factories.DraftPetitionFactory()
    archived = factories.ClosedPetitionFactory(status="archived")
    for petition in (draft, archived):
        assert client.get(f"/petitions/{petition.slug}").status_code == 404
        assert client.get(f"/petitions/{petition.slug}/widget").status_code == 404
        assert client.get(f"/petitions/{petition.slug}/count.json").status_code == 404
        assert client.get(f"/petitions/{petition.slug}.json").status_code == 404
    assert client.get("/petitions/no-such-petition").status_code == 404


def test_closed_petition_shows_its_count_and_no_form(client):
    petition = factories.ClosedPetitionFactory(confirmed_count=42)
    html = page_of(client, f"/petitions/{petition.slug}")
    assert "data-petition-total>42<" in html
    assert 'class="sign-form"' not in html
    assert "This petition is closed and no longer accepts signatures." in html
    assert "Closed on" in html


def test_delivered_petition_says_when_and_to_whom(client):
    petition = factories.ClosedPetitionFactory(
        status="delivered", delivered_at=datetime(2026, 12, 10, 12, tzinfo=UTC),
        delivered_to="The Soviet Embassy, Washington")
    html = page_of(client, f"/petitions/{petition.slug}")
    assert "Delivered on December 10, 2026 to The Soviet Embassy, Washington." in html


def test_ref_link_is_kept_through_the_form_and_in_the_share_link(client):
    org = factories.OrganizationFactory(slug="cleveland", name="Jewish Federation of Cleveland")
    petition = factories.PetitionFactory()
    html = page_of(client, f"/petitions/{petition.slug}?ref=cleveland")
    assert 'name="ref" type="hidden" value="cleveland"' in html
    assert "Signatures through this link are credited to Jewish Federation of Cleveland." in html
    assert f'value="http://127.0.0.1:5000/petitions/{petition.slug}?ref=cleveland"' in html
    assert org.slug in html

    unknown = page_of(client, f"/petitions/{petition.slug}?ref=nobody-we-know")
    assert 'name="ref" type="hidden" value=""' in unknown
    assert "credited to" not in unknown


def test_widget_may_be_framed_by_member_sites_and_the_page_may_not(client):
    org = factories.OrganizationFactory(slug="boston")
    petition = factories.PetitionFactory()
    widget = client.get(f"/petitions/{petition.slug}/widget?ref=boston&lang=ru")
    assert widget.status_code == 200
    assert "frame-ancestors *" in widget.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in widget.headers
    html = widget.get_data(as_text=True)
    assert '<html lang="ru">' in html
    assert petition.title_ru in html
    assert 'name="source" type="hidden" value="widget"' in html
    assert f'name="ref" type="hidden" value="{org.slug}"' in html
    assert 'name="lang" type="hidden" value="ru"' in html
    assert 'class="site-header"' not in html  # compact: no site navigation inside a frame

    page = client.get(f"/petitions/{petition.slug}")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"


def test_widget_snippet_and_share_url_for_an_organization(ctx):
    from ncsej_campaigns.petitions.links import share_url, widget_snippet

    org = factories.OrganizationFactory(slug="atlanta")
    petition = factories.PetitionFactory(slug="freedom-now")
    assert share_url(petition) == "http://127.0.0.1:5000/petitions/freedom-now"
    assert share_url(petition, org) == "http://127.0.0.1:5000/petitions/freedom-now?ref=atlanta"
    snippet = widget_snippet(petition, org)
    assert snippet.startswith(
        '<iframe src="http://127.0.0.1:5000/petitions/freedom-now/widget?ref=atlanta"')
    assert snippet.endswith("></iframe>")


def test_home_lists_open_petitions(client):
    open_one = factories.PetitionFactory(confirmed_count=1234)
    closed = factories.ClosedPetitionFactory()
    draft = factories.DraftPetitionFactory()
    html = page_of(client, "/")
    assert f'href="/petitions/{open_one.slug}"' in html
    assert open_one.title_en in html
    assert "1,234 signatures" in html
    assert closed.title_en not in html and draft.title_en not in html
    assert open_one.title_ru in page_of(client, "/", headers=RU)


def test_open_data_is_documented(client):
    petition = factories.PetitionFactory()
    html = page_of(client, "/open-data")
    assert f"/petitions/{petition.slug}.json" in html
    assert "by_referring_organization" in html and "per_hour" in html
    assert "60 per minute" in html



def test_page_shows_signatures_per_hour_of_the_last_two_days(client, app):
    from datetime import timedelta

    from ncsej_campaigns.db import utcnow
    from ncsej_campaigns.extensions import db
    from ncsej_campaigns.petitions import counting

    petition = factories.PetitionFactory()
    now = utcnow()
    for hours_ago in (0, 0, 0, 0, 5, 60):  # the last one is older than two days
        factories.ConfirmedSignatureFactory(petition=petition,
                                            confirmed_at=now - timedelta(hours=hours_ago))
    with app.app_context():
        counting.update_counts()
        db.session.commit()
    html = page_of(client, f"/petitions/{petition.slug}")
    chart = re.search(r'<svg class="hours-chart".*?</svg>', html, re.S).group(0)
    assert "the busiest hour had 4." in chart
    heights = re.findall(r'<rect x="\d+" y="[\d.]+" width="8" height="([\d.]+)"', chart)
    assert len(heights) == 48
    assert heights[-1] == "60.0" and heights[-6] == "15.0"
    assert sorted(set(heights)) == ["0.0", "15.0", "60.0"]
    assert " style=" not in chart


def test_no_chart_without_recent_signatures(client):
    petition = factories.PetitionFactory()
    assert "hours-chart" not in page_of(client, f"/petitions/{petition.slug}")
