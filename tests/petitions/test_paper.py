"""Paper signatures entered as batches (with an optional scan), and the delivery PDF."""

from __future__ import annotations

import io
import shutil
import subprocess

import pytest
from sqlalchemy import select

from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.petitions.models import PaperBatch, Petition
from tests import factories
from tests.conftest import csrf_token

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _post_batch(client, petition, data, scan=None):
    url = f"/manage/petitions/{petition.id}/paper"
    form = {"csrf_token": csrf_token(client, url), **data}
    if scan is not None:
        form["scan"] = scan
    return client.post(url, data=form, content_type="multipart/form-data")


def test_coordinator_adds_a_batch_with_a_scan_and_it_counts_apart(app, client, dbs, as_user):
    as_user("coordinator")
    org = factories.OrganizationFactory(name="Jewish Federation of Cleveland")
    petition = factories.PetitionFactory()
    factories.ConfirmedSignatureFactory(petition=petition)
    response = _post_batch(client, petition, {
        "signature_count": "1200", "source": "Shabbat tables at Temple Beth El",
        "collected_on": "2020-03-01", "organization_id": str(org.id),
    }, scan=(io.BytesIO(PNG), "../../etc/list page 1.png"))
    assert response.status_code == 302, response.get_data(as_text=True)
    dbs.expire_all()
    batch = dbs.scalar(select(PaperBatch))
    assert batch.signature_count == 1200 and batch.organization_id == org.id
    assert batch.scan_original_name == "list page 1.png"
    assert batch.scan_filename.endswith(".png") and "/" not in batch.scan_filename
    assert dbs.get(Petition, petition.id).paper_count == 1200

    page = client.get(f"/manage/petitions/{petition.id}/paper").get_data(as_text=True)
    assert "1200 paper signatures added." in page
    assert "Shabbat tables at Temple Beth El" in page
    scan = client.get(f"/manage/petitions/{petition.id}/paper/{batch.id}/scan")
    assert scan.status_code == 200 and scan.data == PNG and scan.mimetype == "image/png"
    dashboard = client.get(f"/manage/petitions/{petition.id}").get_data(as_text=True)
    assert "on paper" in dashboard and "1,200" in dashboard
    assert dbs.scalar(select(AuditEntry.action).where(AuditEntry.target_type == "paper_batches")
                      ) == "paper_batch.added"


def test_batch_form_checks_count_date_and_file(client, dbs, as_user):
    as_user("coordinator")
    petition = factories.PetitionFactory()
    response = _post_batch(client, petition, {"signature_count": "0", "source": "",
                                              "collected_on": "", "organization_id": "0"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Enter a whole number above zero." in page
    assert "Say where the signatures were collected." in page
    assert "Enter the date the signatures were collected." in page
    response = _post_batch(client, petition, {
        "signature_count": "10", "source": "Rally", "collected_on": "2020-01-01",
        "organization_id": "0"}, scan=(io.BytesIO(b"MZ not a picture"), "list.png"))
    assert response.status_code == 400
    assert "This file is not a PDF, JPEG or PNG." in response.get_data(as_text=True)
    response = _post_batch(client, petition, {
        "signature_count": "10", "source": "Rally", "collected_on": "2020-01-01",
        "organization_id": "0"}, scan=(io.BytesIO(b"x"), "list.exe"))
    assert "Upload a PDF, JPEG or PNG file." in response.get_data(as_text=True)
    response = _post_batch(client, petition, {
        "signature_count": "10", "source": "Rally", "collected_on": "2999-01-01",
        "organization_id": "0"})
    assert "The collection date cannot be in the future." in response.get_data(as_text=True)
    assert dbs.scalar(select(PaperBatch)) is None


def test_no_paper_on_a_draft_or_delivered_petition(client, as_user):
    as_user("coordinator")
    for petition in (factories.DraftPetitionFactory(), factories.DeliveredPetitionFactory()):
        page = client.get(f"/manage/petitions/{petition.id}/paper").get_data(as_text=True)
        assert "before it is delivered" in page and 'name="signature_count"' not in page


def test_federation_enters_paper_for_its_own_organization_only(client, dbs, as_user):
    org = factories.OrganizationFactory()
    other = factories.OrganizationFactory()
    petition = factories.PetitionFactory()
    theirs = factories.PaperBatchFactory(petition=petition, organization=other,
                                         signature_count=77, source="Their rally")
    as_user("federation", organization=org)
    # Even if the form names another organization, the batch is credited to its own.
    response = _post_batch(client, petition, {"signature_count": "40", "source": "Our shul",
                                              "collected_on": "2020-02-02",
                                              "organization_id": str(other.id)})
    assert response.status_code in (302, 400)
    page = client.get(f"/manage/petitions/{petition.id}/paper").get_data(as_text=True)
    assert "Their rally" not in page
    response = _post_batch(client, petition, {"signature_count": "40", "source": "Our shul",
                                              "collected_on": "2020-02-02",
                                              "organization_id": str(org.id)})
    assert response.status_code == 302
    ours = dbs.scalar(select(PaperBatch).where(PaperBatch.source == "Our shul"))
    assert ours.organization_id == org.id
    dbs.expire_all()
    assert dbs.get(Petition, petition.id).paper_count == 117
    # Another organization's batch answers 404.
    assert client.get(f"/manage/petitions/{petition.id}/paper/{theirs.id}/scan"
                      ).status_code == 404
    token = csrf_token(client, f"/manage/petitions/{petition.id}/paper")
    assert client.post(f"/manage/petitions/{petition.id}/paper/{theirs.id}/remove",
                       data={"csrf_token": token, "confirm": "y"}).status_code == 404
    # ... and no delivery document for federations.
    assert client.get(f"/manage/petitions/{petition.id}/delivery.pdf").status_code == 404


def test_removing_a_batch_needs_confirmation_and_updates_the_total(client, dbs, as_user):
    as_user("coordinator")
    petition = factories.PetitionFactory(paper_count=300)
    batch = factories.PaperBatchFactory(petition=petition, signature_count=300)
    url = f"/manage/petitions/{petition.id}/paper/{batch.id}/remove"
    token = csrf_token(client, f"/manage/petitions/{petition.id}/paper")
    still_there = select(PaperBatch.id).where(PaperBatch.id == batch.id)
    client.post(url, data={"csrf_token": token})
    assert dbs.scalar(still_there) == batch.id
    client.post(url, data={"csrf_token": token, "confirm": "y"})
    dbs.expunge_all()
    assert dbs.scalar(still_there) is None
    assert dbs.get(Petition, petition.id).paper_count == 0
    assert dbs.scalar(select(AuditEntry.action).where(AuditEntry.action == "paper_batch.removed"))


def _pdf_text(data: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "doc.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                          check=True, text=True).stdout


def test_delivery_document_is_a_pdf_with_text_and_totals(client, as_user, tmp_path):
    as_user("coordinator")
    cleveland = factories.OrganizationFactory(name="Jewish Federation of Cleveland",
                                              region="Midwest")
    petition = factories.DeliveredPetitionFactory(
        title_en="Let Ida Nudel go", title_ru="Отпустите Иду Нудель",
        target_ru="Верховный Совет", confirmed_count=2, paper_count=500)
    factories.ConfirmedSignatureFactory.create_batch(2, petition=petition,
                                                     referring_organization=cleveland)
    factories.PaperBatchFactory(petition=petition, organization=cleveland, signature_count=500)
    response = client.get(f"/manage/petitions/{petition.id}/delivery.pdf?lang=en")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = _pdf_text(response.data, tmp_path)
    assert "Let Ida Nudel go" in text
    assert "Jewish Federation of Cleveland" in text and "Midwest" in text
    assert "502" in text  # online + paper for the organization
    assert "Office of Senator Jackson" in text

    response = client.get(f"/manage/petitions/{petition.id}/delivery.pdf?lang=ru")
    text = _pdf_text(response.data, tmp_path)
    assert "Отпустите Иду Нудель" in text and "Верховный Совет" in text
