"""Public links to a petition: the share link (with a member organization's referral), the
share targets (email, messengers), and the ``<iframe>`` snippet member sites paste."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from markupsafe import Markup, escape

from ncsej_campaigns.organizations.models import Organization
from ncsej_campaigns.petitions.models import Petition
from ncsej_campaigns.urls import external_url

WIDGET_HEIGHT = 640


def share_url(petition: Petition, org: Organization | None = None) -> str:
    """The petition's public address; with ``org`` every signature through it is credited to
    that organization (``?ref=<slug>``)."""
    values = {"ref": org.slug} if org is not None else {}
    return external_url("petitions_public.petition", slug=petition.slug, **values)


def widget_url(petition: Petition, org: Organization | None = None) -> str:
    values = {"ref": org.slug} if org is not None else {}
    return external_url("petitions_public.widget", slug=petition.slug, **values)


def widget_snippet(petition: Petition, org: Organization | None = None) -> str:
    """The HTML a member site pastes to carry the signing form (plain text, for a ``<pre>`` or
    a read-only text area)."""
    title = escape(petition.title_en)
    return str(Markup(
        '<iframe src="{src}" title="{title}" width="100%" height="{height}" '
        'loading="lazy" style="border:0;max-width:480px"></iframe>'
    ).format(src=widget_url(petition, org), title=title, height=WIDGET_HEIGHT))


def share_targets(petition: Petition, locale: str, org: Organization | None = None) -> dict:
    """Plain links for sharing: no third-party script is loaded, each is an ordinary link."""
    url = share_url(petition, org)
    title = petition.localized("title", locale)
    text = f"{title} {url}"
    return {
        "url": url,
        "email": "mailto:?" + urlencode({"subject": title, "body": text}, quote_via=quote),
        "whatsapp": "https://wa.me/?" + urlencode({"text": text}, quote_via=quote),
        "telegram": "https://t.me/share/url?" + urlencode({"url": url, "text": title},
                                                          quote_via=quote),
        "facebook": "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url}),
        "x": "https://x.com/intent/post?" + urlencode({"text": title, "url": url},
                                                      quote_via=quote),
    }
