"""The coordinator's petition dashboard: counts, the per-day chart, per-organization and
per-country tables, the latest signatures, and reversible invalidations."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.db import utcnow
from ncsej_campaigns.petitions.models import (
    Invalidation,
    Petition,
    Signature,
    SignatureStatus,
)
from tests import factories
from tests.conftest import post_form


def flashes(client) -> str:
    """The page a redirect lands on, as text (where flashed messages show)."""
    return client.get("/dashboard").get_data(as_text=True)


def _petition_with_signatures():
    cleveland = factories.OrganizationFactory(name="Jewish Federation of Cleveland",
                                              region="Midwest")
    boston = factories.OrganizationFactory(name="CJP Boston", region="Northeast")
    petition = factories.PetitionFactory(title_en="Let Ida Nudel go")
    now = utcnow()
    for day, org, country in [(3, cleveland, "US"), (3, cleveland, "US"), (2, boston, "CA"),
                              (1, cleveland, "IL"), (1, None, "US")]:
        at = now - timedelta(days=day)
        factories.ConfirmedSignatureFactory(petition=petition, referring_organization=org,
                                            country=country, created_at=at, confirmed_at=at)
    spam = [factories.ConfirmedSignatureFactory(
        petition=petition, person=factories.PersonFactory(email=f"bot{i}@spam.test"),
        email_domain="spam.test", ip_hash="f" * 64, referring_organization=boston)
        for i in range(3)]
    factories.SignatureFactory(petition=petition, referring_organization=cleveland)  # pending
    return petition, cleveland, boston, spam


def _recount(petition_id):
    """Set the cached counts as the counting job would."""
    from ncsej_campaigns.extensions import db
    from ncsej_campaigns.petitions.reporting import refresh_counts

    refresh_counts(db.session.get(Petition, petition_id))
    db.session.commit()


def test_dashboard_shows_counts_chart_and_tables(app, client, as_user):
    petition, cleveland, boston, _spam = _petition_with_signatures()
    with app.app_context():
        _recount(petition.id)
    as_user("coordinator")
    page = client.get(f"/manage/petitions/{petition.id}").get_data(as_text=True)
    assert "Let Ida Nudel go" in page
    assert re.search(r'stat-value">8</span><span class="stat-label">confirmed online', page)
    assert re.search(r'stat-value">1</span><span class="stat-label">waiting for confirmation',
                     page)
    # The chart: an SVG with one bar per day, no inline style.
    svg = re.search(r"<svg .*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg and "style=" not in svg
    assert len(re.findall(r'<rect [^>]*class="chart-bar', svg)) == 4  # 3 days ago .. today
    assert "Confirmed signatures per day" in svg
    # Per organization (confirmed), per country.
    org_table = page.split("By referring organization")[1].split("</table>")[0]
    assert re.search(r"Jewish Federation of Cleveland</a>[^<]*<svg.*?</svg></td>\s*"
                     r"<td class=\"num\">3</td><td class=\"num\">1</td>", org_table, re.S)
    assert re.search(r"CJP Boston</a>[^<]*<svg.*?</svg></td>\s*<td class=\"num\">4</td>",
                     org_table, re.S)
    assert "No organization (direct)" in org_table
    assert "Canada" in page and "Israel" in page
    assert "bot0@spam.test" in page  # the latest signatures


def test_dashboard_in_russian_names_the_countries_in_russian(app, client, as_user):
    petition, *_ = _petition_with_signatures()
    as_user("coordinator", locale="ru")
    page = client.get(f"/manage/petitions/{petition.id}").get_data(as_text=True)
    assert "Канада" in page and "Израиль" in page


def test_empty_dashboard_says_so(client, as_user):
    as_user("coordinator")
    petition = factories.DraftPetitionFactory()
    page = client.get(f"/manage/petitions/{petition.id}").get_data(as_text=True)
    assert "No confirmed signature yet: the chart appears with the first one." in page
    assert "Open the petition to start collecting them." in page


def test_invalidating_one_signature_updates_counts_and_can_be_reverted(app, client, dbs,
                                                                       as_user):
    petition, *_ = _petition_with_signatures()
    with app.app_context():
        _recount(petition.id)
    as_user("coordinator")
    signature = dbs.scalar(select(Signature).where(Signature.country == "IL"))
    url = f"/manage/petitions/{petition.id}/signatures/{signature.id}/invalidate"
    assert "Invalidate this signature?" in client.get(url).get_data(as_text=True)
    response = post_form(client, url, {"reason": ""})
    assert response.status_code == 400
    assert "Say why" in response.get_data(as_text=True)
    assert post_form(client, url, {"reason": "Signed twice under two names"}).status_code == 302
    dbs.expire_all()
    assert dbs.get(Signature, signature.id).status == SignatureStatus.INVALIDATED
    assert dbs.get(Petition, petition.id).confirmed_count == 7
    page = client.get(f"/manage/petitions/{petition.id}").get_data(as_text=True)
    assert "Signed twice under two names" in page

    invalidation = dbs.scalar(select(Invalidation))
    revert = f"/manage/petitions/{petition.id}/invalidations/{invalidation.id}/revert"
    form_url = f"/manage/petitions/{petition.id}"
    assert post_form(client, revert, {}, form_url=form_url).status_code == 302
    assert "Tick the box to confirm." in flashes(client)
    dbs.expire_all()
    assert dbs.get(Petition, petition.id).confirmed_count == 7
    assert post_form(client, revert, {"confirm": "y"}, form_url=form_url).status_code == 302
    dbs.expire_all()
    assert dbs.get(Signature, signature.id).status == SignatureStatus.CONFIRMED
    assert dbs.get(Signature, signature.id).invalidation_id is None
    assert dbs.get(Petition, petition.id).confirmed_count == 8
    assert dbs.get(Invalidation, invalidation.id).reverted_at is not None
    actions = dbs.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["signatures.invalidated", "signatures.invalidation_reverted"]


def test_batch_invalidation_previews_then_invalidates_by_domain_and_reverts(app, client, dbs,
                                                                            as_user):
    petition, _cleveland, _boston, spam = _petition_with_signatures()
    pending_spam = factories.SignatureFactory(
        petition=petition, person=factories.PersonFactory(email="bot9@spam.test"),
        email_domain="spam.test")
    with app.app_context():
        _recount(petition.id)
    as_user("coordinator")
    url = f"/manage/petitions/{petition.id}/invalidate"
    response = post_form(client, url, {"reason": "Bots"})
    assert "Choose at least one rule" in response.get_data(as_text=True)

    response = post_form(client, url, {"email_domain": "@Spam.test", "reason": "Bots"})
    page = response.get_data(as_text=True)
    assert "This rule matches 4 signatures." in page
    assert "Invalidate 4 signatures" in page
    dbs.expire_all()
    assert dbs.get(Petition, petition.id).confirmed_count == 8  # a preview changes nothing

    # Confirming a count other than the one shown makes the coordinator look again.
    response = post_form(client, url, {"email_domain": "spam.test", "reason": "Bots",
                                       "confirm": "y", "previewed": "3"})
    assert response.status_code == 400
    assert "Check them again" in response.get_data(as_text=True)
    response = post_form(client, url, {"email_domain": "spam.test", "reason": "Bots",
                                       "confirm": "y", "previewed": "4"})
    assert response.status_code == 302
    assert "4 signatures were invalidated." in flashes(client)
    dbs.expire_all()
    refreshed = dbs.get(Petition, petition.id)
    assert (refreshed.confirmed_count, refreshed.pending_count) == (5, 1)
    statuses = {dbs.get(Signature, s.id).status for s in [*spam, pending_spam]}
    assert statuses == {SignatureStatus.INVALIDATED}
    invalidation = dbs.scalar(select(Invalidation))
    assert invalidation.signature_count == 4
    assert invalidation.criteria["email_domain"] == "spam.test"

    revert = f"/manage/petitions/{petition.id}/invalidations/{invalidation.id}/revert"
    post_form(client, revert, {"confirm": "y"}, form_url=f"/manage/petitions/{petition.id}")
    dbs.expire_all()
    refreshed = dbs.get(Petition, petition.id)
    assert (refreshed.confirmed_count, refreshed.pending_count) == (8, 2)
    assert dbs.get(Signature, pending_spam.id).status == SignatureStatus.PENDING
    # Reverting twice is refused.
    post_form(client, revert, {"confirm": "y"}, form_url=f"/manage/petitions/{petition.id}")
    assert "already reverted" in flashes(client)


def test_batch_invalidation_by_ip_hash_and_time_window(app, client, dbs, as_user):
    petition, *_ = _petition_with_signatures()
    as_user("coordinator")
    url = f"/manage/petitions/{petition.id}/invalidate"
    response = post_form(client, url, {"ip_hash": "f" * 64, "reason": "One machine",
                                       "confirm": "y", "previewed": "3"})
    assert response.status_code == 302
    dbs.expire_all()
    assert dbs.scalar(select(Invalidation)).signature_count == 3
    # A window with nothing in it says so.
    response = post_form(client, url, {"created_from": "2001-01-01T00:00",
                                       "created_to": "2001-01-02T00:00", "reason": "x",
                                       "confirm": "y", "previewed": "0"})
    page = response.get_data(as_text=True)
    assert "No pending or confirmed signature matches this rule." in page
    assert "This rule matches 0 signatures." in page


def test_federation_dashboard_shows_only_its_own_signers_and_no_corrections(client, as_user):
    petition, cleveland, _boston, _spam = _petition_with_signatures()
    as_user("federation", organization=cleveland)
    page = client.get(f"/manage/petitions/{petition.id}").get_data(as_text=True)
    assert "bot0@spam.test" not in page  # referred by Boston
    assert "CJP Boston" not in page
    assert re.search(r'stat-value">3</span><span class="stat-label">confirmed, from your', page)
    assert "Invalidate…" not in page and "Invalidations" not in page
    signature = factories.ConfirmedSignatureFactory(petition=petition)
    assert client.get(f"/manage/petitions/{petition.id}/invalidate").status_code == 404
    assert client.get(f"/manage/petitions/{petition.id}/signatures/{signature.id}/invalidate"
                      ).status_code == 404
