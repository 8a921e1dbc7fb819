"""CSV export of a petition's signatures: streamed, audited, and scoped to a federation's own
signers."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.petitions.models import SignatureStatus
from tests import factories


def _rows(response) -> list[dict]:
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")  # so spreadsheets read Cyrillic names as UTF-8
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_coordinator_export_streams_every_signature_and_is_audited(client, dbs, as_user):
    coordinator = as_user("coordinator")
    org = factories.OrganizationFactory(slug="cleveland")
    petition = factories.PetitionFactory(slug="let-them-go")
    factories.ConfirmedSignatureFactory(
        petition=petition, referring_organization=org,
        person=factories.PersonFactory(first_name="Ида", last_name="Нудель",
                                       email="ida@example.net"),
        comment="=HYPERLINK(\"http://evil\")")
    factories.SignatureFactory(petition=petition)
    factories.ConfirmedSignatureFactory()  # another petition's

    response = client.get(f"/manage/petitions/{petition.id}/export.csv")
    assert response.status_code == 200
    assert response.is_streamed
    assert response.mimetype == "text/csv"
    assert 'filename="let-them-go-signatures-' in response.headers["Content-Disposition"]
    rows = _rows(response)
    assert len(rows) == 2
    ida = next(r for r in rows if r["email"] == "ida@example.net")
    assert (ida["first_name"], ida["last_name"]) == ("Ида", "Нудель")
    assert ida["status"] == "confirmed" and ida["referring_organization"] == "cleveland"
    assert ida["comment"].startswith("'=")  # never a live formula in a spreadsheet
    assert {r["status"] for r in rows} == {"confirmed", "pending"}

    entry = dbs.scalar(select(AuditEntry).where(AuditEntry.action == "signatures.exported"))
    assert entry.actor_id == coordinator.id and entry.target_id == petition.id


def test_export_filters_by_organization_and_state(client, as_user):
    as_user("coordinator")
    org = factories.OrganizationFactory()
    petition = factories.PetitionFactory()
    factories.ConfirmedSignatureFactory(petition=petition, referring_organization=org)
    factories.SignatureFactory(petition=petition, referring_organization=org)
    factories.ConfirmedSignatureFactory(petition=petition)
    rows = _rows(client.get(f"/manage/petitions/{petition.id}/export.csv?org={org.id}"
                            "&status=confirmed"))
    assert len(rows) == 1 and rows[0]["referring_organization"] == org.slug


def test_export_reads_in_chunks_and_yields_in_pieces(app):
    """Many rows arrive as many pieces: the generator never builds the whole file."""
    from flask_login import login_user

    from ncsej_campaigns.auth.models import User
    from ncsej_campaigns.extensions import db
    from ncsej_campaigns.petitions import reporting
    from ncsej_campaigns.petitions.models import Petition, Signature

    coordinator = factories.UserFactory(role="coordinator")
    petition = factories.PetitionFactory()
    people = [factories.PersonFactory.build() for _ in range(250)]
    session = factories.Session()
    session.add_all(people)
    session.flush()
    session.add_all([Signature(petition_id=petition.id, person_id=p.id,
                                         status=SignatureStatus.PENDING) for p in people])
    session.commit()
    with app.test_request_context():
        login_user(db.session.get(User, coordinator.id))
        stmt = reporting.export_stmt(db.session.get(Petition, petition.id))
        pieces = list(reporting.export_csv(stmt, chunk_rows=100))
    assert len(pieces) == 3  # 100 + 100 + 50 rows, the header with the first
    assert sum(piece.count("\n") for piece in pieces) == 251


def test_federation_exports_only_its_own_signers(client, dbs, as_user):
    org = factories.OrganizationFactory(slug="cleveland")
    other = factories.OrganizationFactory(slug="boston")
    petition = factories.PetitionFactory()
    mine = factories.ConfirmedSignatureFactory(petition=petition, referring_organization=org)
    factories.ConfirmedSignatureFactory(petition=petition, referring_organization=other)
    factories.ConfirmedSignatureFactory(petition=petition)
    as_user("federation", organization=org)
    response = client.get(f"/manage/petitions/{petition.id}/export.csv")
    assert response.status_code == 200 and response.is_streamed
    rows = _rows(response)
    assert [int(r["signature_id"]) for r in rows] == [mine.id]
    # Asking for another organization's signers, or a petition not public, is 404.
    assert client.get(f"/manage/petitions/{petition.id}/export.csv?org={other.id}"
                      ).status_code == 404
    draft = factories.DraftPetitionFactory()
    assert client.get(f"/manage/petitions/{draft.id}/export.csv").status_code == 404
    exports = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "signatures.exported"))
    assert [e.details["organization_id"] for e in exports] == [org.id]


def test_export_needs_sign_in(client):
    petition = factories.PetitionFactory()
    assert client.get(f"/manage/petitions/{petition.id}/export.csv").status_code == 302


def test_export_query_runs_on_a_server_side_cursor(app, client, as_user):
    """The rows come in chunks from the database (a named server-side cursor on PostgreSQL),
    so a million signatures never sit in the web process's memory at once."""
    from sqlalchemy import event

    from ncsej_campaigns.extensions import db

    as_user("coordinator")
    petition = factories.PetitionFactory()
    factories.ConfirmedSignatureFactory.create_batch(3, petition=petition)
    seen = []

    def spy(conn, cursor, statement, parameters, context, executemany):
        if "FROM signatures" in statement and "people" in statement:
            seen.append((context.execution_options.get("yield_per"),
                         context.execution_options.get("stream_results"),
                         getattr(cursor, "name", None), conn.dialect.name))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        response = client.get(f"/manage/petitions/{petition.id}/export.csv")
        assert len(_rows(response)) == 3
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    [(yield_per, stream_results, cursor_name, dialect)] = seen
    assert yield_per == 1000 and stream_results
    if dialect == "postgresql":
        assert cursor_name  # psycopg's named cursor lives on the server
