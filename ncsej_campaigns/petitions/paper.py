"""Paper signatures: counted batches with an optional scanned list.

A batch adds to the petition's total and is shown apart from the online signatures. The scan
is kept under ``instance/uploads/paper/`` with a random name; the name the uploader gave is
kept only for display, so nothing they type can become a path.
"""

from __future__ import annotations

import secrets
from datetime import date
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ncsej_campaigns.audit import services as audit
from ncsej_campaigns.db import utcnow
from ncsej_campaigns.extensions import db
from ncsej_campaigns.petitions.models import PaperBatch, Petition, PetitionStatus

MAX_SCAN_BYTES = 10 * 1024 * 1024
# What the first bytes of each accepted kind of file must be: the extension alone proves
# nothing about the content.
SCAN_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
}
SCAN_MIMETYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg"}
# Paper can be entered while a petition runs and after it closes, until it is handed over.
PAPER_STATES = frozenset({PetitionStatus.OPEN, PetitionStatus.CLOSED})


class PaperError(ValueError):
    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


def scan_dir() -> Path:
    path = Path(current_app.instance_path) / "uploads" / "paper"
    path.mkdir(parents=True, exist_ok=True)
    return path


def scan_path(batch: PaperBatch) -> Path | None:
    if not batch.scan_filename:
        return None
    path = scan_dir() / batch.scan_filename
    return path if path.is_file() else None


def scan_mimetype(batch: PaperBatch) -> str:
    return SCAN_MIMETYPES.get(batch.scan_filename.rsplit(".", 1)[-1], "application/octet-stream")


def _kind_of(head: bytes) -> str | None:
    for kind, magics in SCAN_SIGNATURES.items():
        if any(head.startswith(m) for m in magics):
            return kind
    return None


def store_scan(upload) -> tuple[str, str]:
    """Save an uploaded scan; return (stored name, original name). Raises PaperError."""
    data = upload.stream.read(MAX_SCAN_BYTES + 1)
    if len(data) > MAX_SCAN_BYTES:
        raise PaperError(_l("The scan is larger than 10 MB. Scan at a lower resolution or "
                            "split it."), "scan")
    kind = _kind_of(data[:8])
    if kind is None:
        raise PaperError(_l("This file is not a PDF, JPEG or PNG."), "scan")
    name = f"{secrets.token_hex(16)}.{kind}"
    (scan_dir() / name).write_bytes(data)
    original = Path(upload.filename or "").name[:300]
    return name, original


def paper_batches_stmt(petition: Petition, stmt=None):
    stmt = stmt if stmt is not None else select(PaperBatch)
    return stmt.where(PaperBatch.petition_id == petition.id).order_by(
        PaperBatch.collected_on.desc(), PaperBatch.id.desc())


def add_paper_batch(petition: Petition, *, signature_count: int, source: str,
                    collected_on: date, organization_id: int | None, scan=None,
                    actor) -> PaperBatch:
    if petition.status not in PAPER_STATES:
        raise PaperError(_l("Paper signatures can be added while the petition is open or "
                            "closed, before it is delivered."))
    if collected_on > utcnow().date():
        raise PaperError(_l("The collection date cannot be in the future."), "collected_on")
    stored, original = ("", "")
    if scan is not None and getattr(scan, "filename", ""):
        stored, original = store_scan(scan)
    batch = PaperBatch(petition_id=petition.id, organization_id=organization_id,
                       signature_count=signature_count, source=source,
                       collected_on=collected_on, scan_filename=stored,
                       scan_original_name=original, created_by=actor)
    db.session.add(batch)
    db.session.flush()
    petition.paper_count = paper_total(petition)
    audit.record("paper_batch.added", target=batch, actor=actor,
                 summary=f"{petition.title_en}: {signature_count} — {source}",
                 details={"petition_id": petition.id, "organization_id": organization_id,
                          "signature_count": signature_count, "scan": bool(stored)})
    db.session.flush()
    return batch


def remove_paper_batch(batch: PaperBatch, *, actor) -> None:
    petition = batch.petition
    if petition.status not in PAPER_STATES:
        raise PaperError(_l("The petition was delivered with this batch; it can no longer "
                            "be removed."))
    audit.record("paper_batch.removed", target=batch, actor=actor,
                 summary=f"{petition.title_en}: {batch.signature_count} — {batch.source}",
                 details={"petition_id": petition.id, "organization_id": batch.organization_id,
                          "signature_count": batch.signature_count,
                          "scan_filename": batch.scan_filename})
    # The scan file stays: the audit entry names it, and a removal can be a mistake.
    db.session.delete(batch)
    db.session.flush()
    petition.paper_count = paper_total(petition)
    db.session.flush()


def paper_total(petition: Petition) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(PaperBatch.signature_count), 0))
                             .where(PaperBatch.petition_id == petition.id))
