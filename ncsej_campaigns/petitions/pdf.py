"""The printable delivery document: what is handed to the petition's target with the
signatures — the text, whom it is addressed to, the totals by organization and by region, and
the dates. Rendered by WeasyPrint from a template, in English or Russian."""

from __future__ import annotations

from flask import render_template
from flask_babel import force_locale

from ncsej_campaigns.db import utcnow
from ncsej_campaigns.petitions import reporting
from ncsej_campaigns.petitions.models import Petition


def delivery_document_html(petition: Petition, locale: str) -> str:
    with force_locale(locale):
        organizations = reporting.per_organization(petition)
        return render_template(
            "petitions/pdf/delivery.html", petition=petition, locale=locale,
            organizations=organizations, regions=reporting.per_region(organizations),
            countries=reporting.per_country(petition), generated_at=utcnow(),
        )


def delivery_document_pdf(petition: Petition, locale: str) -> bytes:
    from weasyprint import HTML  # imported late: it loads Pango, which only this needs

    html = delivery_document_html(petition, locale)
    return HTML(string=html).write_pdf()
