"""The supporters' side of petitions: the public page, signing, confirming, withdrawing, the
embeddable widget, the live count and the open data. No sign-in anywhere here."""

from __future__ import annotations

import hashlib
import json
from contextlib import nullcontext

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    g,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale, format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from markupsafe import Markup, escape
from sqlalchemy import select

from ncsej_campaigns.extensions import csrf, db, limiter
from ncsej_campaigns.forms import Form
from ncsej_campaigns.page_cache import (
    cached_for_visitors,
    timed_cache,
    visitor_without_session,
)
from ncsej_campaigns.petitions import signing
from ncsej_campaigns.petitions.links import share_targets
from ncsej_campaigns.petitions.models import Petition, PetitionStatus, SignatureStatus
from ncsej_campaigns.petitions.opendata import (
    BROWSER_MAX_AGE,
    cache_key,
    open_data_json,
    recent_hours,
)
from ncsej_campaigns.petitions.public_forms import SignatureForm, country_name
from ncsej_campaigns.security import embeddable
from ncsej_campaigns.text import normalize_email
from ncsej_campaigns.tokens import TokenError

bp = Blueprint("petitions_public", __name__)

WIDGET = "widget"


@bp.app_template_global("format_count")
def format_count(value) -> str:
    return format_decimal(int(value or 0))


def signature_unit(count: int) -> str:
    """The word after the count, in the right plural form for the language."""
    return ngettext("signature", "signatures", count)


def _locale() -> str:
    return str(get_locale() or "en")


def _language(value: str | None):
    """``force_locale`` for a widget that asks for a language (``?lang=ru``), else nothing."""
    if value in current_app.config["LANGUAGES"]:
        return force_locale(value)
    return nullcontext()


def _petition_or_404(slug: str, with_campaign: bool = True) -> Petition:
    petition = signing.get_public_petition(slug, with_campaign)
    if petition is None:
        abort(404)
    return petition


def open_petition_cards(locale: str) -> list[dict]:
    """The home page's list of open petitions: link, title and a one-line summary."""
    petitions = db.session.scalars(
        select(Petition).where(Petition.status == PetitionStatus.OPEN)
        .order_by(Petition.opens_at.desc().nulls_last(), Petition.id.desc()).limit(12))
    return [{
        "url": url_for("petitions_public.petition", slug=p.slug),
        "title": p.localized("title", locale),
        "summary": _("To %(target)s · %(count)s %(unit)s", target=p.localized("target", locale),
                     count=format_count(p.total_count), unit=signature_unit(p.total_count)),
    } for p in petitions]


def milestone_text(petition: Petition) -> str:
    total = petition.total_count
    upcoming = petition.next_milestone()
    if upcoming is None:
        return _("The goal is reached. Thank you to everyone who signed!")
    return _("%(left)s more to reach %(milestone)s.", left=format_count(upcoming - total),
             milestone=format_count(upcoming))


def _page_context(petition: Petition, form: SignatureForm | None, referrer=None,
                  widget: bool = False) -> dict:
    locale = _locale()
    total = petition.total_count
    return {
        "widget": widget,
        "milestone_text": milestone_text(petition),
        "petition": petition,
        "locale": locale,
        "title": petition.localized("title", locale),
        "target": petition.localized("target", locale),
        "paragraphs": [p.strip() for p in petition.localized("text", locale).split("\n\n")
                       if p.strip()],
        "total": total,
        "unit": signature_unit(total),
        "next_milestone": petition.next_milestone(),
        "accepting": signing.accepting_signatures(petition),
        "closed_message": signing.not_signable_message(petition),
        "form": form,
        "referrer": referrer,
        "share": share_targets(petition, locale, referrer),
        "campaign_name": petition.campaign.localized("name", locale)
        if petition.campaign is not None and petition.campaign.is_public else "",
    }


def _new_form(petition: Petition, referrer, source: str = "web") -> SignatureForm:
    form = SignatureForm(meta={"csrf_context": petition.id}, formdata=None)
    form.ref.data = referrer.slug if referrer is not None else ""
    form.source.data = source
    form.lang.data = request.args.get("lang", "") if source == WIDGET else ""
    return form


BLANK_FORM_SECONDS = 600
BLANK_FORM_CACHE_SIZE = 256


def _blank_form(petition: Petition, referrer, source: str = "web") -> Markup:
    """The empty signing form, rendered once per petition, language, referral and place for
    ten minutes. It is the same for every visitor (its token is bound to the petition, not to a
    session, and stays valid for a day), and rendering its fields one by one was most of the
    cost of a page view."""
    lang = request.args.get("lang", "") if source == WIDGET else ""
    key = (petition.id, petition.slug, _locale(), referrer.slug if referrer is not None else "",
           source, lang)
    # A rendered template, escaped by Jinja's autoescaping.
    return timed_cache("petition_blank_forms", BLANK_FORM_CACHE_SIZE).remember(
        key, BLANK_FORM_SECONDS, lambda: Markup(render_template(  # noqa: S704
            "petitions/public/_form.html", form=_new_form(petition, referrer, source),
            petition=petition, widget=source == WIDGET)))


def _hours_chart(petition: Petition) -> Markup:
    """The last 48 hours as bars, rendered once per petition, language and hour until the
    counts move: its 48 localized labels cost more than the rest of the page."""
    hours = recent_hours(petition)
    key = (petition.id, petition.counted_at, hours[-1][0], _locale())
    cache = current_app.extensions.setdefault("petition_hour_charts", {})
    html = cache.get(key)
    if html is None:
        # A rendered template, escaped by Jinja's autoescaping.
        html = Markup(render_template(  # noqa: S704
            "petitions/public/_hours.html", hours=hours,
            hours_peak=max(n for _hour, n in hours)))
        if len(cache) >= BLANK_FORM_CACHE_SIZE:
            cache.clear()
        cache[key] = html
    return html


# --- the page and the widget ----------------------------------------------------------------

@bp.route("/petitions/<slug>")
@cached_for_visitors
def petition(slug: str):
    petition = _petition_or_404(slug)
    referrer = signing.find_referrer(request.args.get("ref"))
    form_html = _blank_form(petition, referrer) if signing.accepting_signatures(petition) else None
    return render_template("petitions/public/petition.html", form_html=form_html,
                           hours_html=_hours_chart(petition),
                           **_page_context(petition, None, referrer))


@bp.route("/petitions/<slug>/widget")
@embeddable
@cached_for_visitors
def widget(slug: str):
    petition = _petition_or_404(slug)
    with _language(request.args.get("lang")):
        referrer = signing.find_referrer(request.args.get("ref"))
        form_html = (_blank_form(petition, referrer, WIDGET)
                     if signing.accepting_signatures(petition) else None)
        return render_template("petitions/public/widget.html", form_html=form_html,
                               **_page_context(petition, None, referrer, widget=True))


# --- signing --------------------------------------------------------------------------------

def _sign_email_key() -> str:
    slug = (request.view_args or {}).get("slug", "")
    return f"petition-sign:{slug}:{normalize_email(request.form.get('email', ''))}"


def _signature_recorded(response) -> bool:
    # Only a submission that reached the signature counts against the email's limit: someone
    # fixing a typo in the form is not held back.
    return response.status_code == 200


@bp.route("/petitions/<slug>/sign", methods=["GET", "POST"])
@csrf.exempt  # the form carries its own signed token (see public_forms), cookies or not
@limiter.limit(lambda: current_app.config["PETITION_SIGN_LIMIT_PER_IP"], methods=["POST"])
@limiter.limit(lambda: current_app.config["PETITION_SIGN_LIMIT_PER_EMAIL"], methods=["POST"],
               key_func=_sign_email_key, deduct_when=_signature_recorded)
def sign(slug: str):
    if request.method == "GET":  # a reload of the result page: back to the petition
        return make_response("", 303, {"Location": url_for(".petition", slug=slug)})
    petition = signing.signing_petition(slug)
    if petition is None:
        abort(404)
    from_widget = request.form.get("source") == WIDGET
    if from_widget:
        g.embeddable = True
    with _language(request.form.get("lang")):
        return _sign(petition, from_widget)


def _sign(petition: signing.SigningPetition, from_widget: bool):
    form = SignatureForm(meta={"csrf_context": petition.id})
    referrer = signing.find_referrer(form.ref.data)
    if not signing.accepting_signatures(petition):
        # A refusal is read afresh: the copy may predate a close date moved later.
        petition = signing.signing_petition(petition.slug, fresh=True) or abort(404)
    if not signing.accepting_signatures(petition):
        return _not_signable(petition.slug, signing.not_signable_message(petition), from_widget)
    if not form.validate_on_submit():
        template = ("petitions/public/widget.html" if from_widget
                    else "petitions/public/petition.html")
        full = _petition_or_404(petition.slug)
        return render_template(
            template, **_page_context(full, form, referrer, widget=from_widget)), 400
    context = {"title": petition.localized("title", _locale()), "email": form.email.data,
               "widget": from_widget,
               "back_url": url_for(".widget" if from_widget else ".petition", slug=petition.slug)}
    if form.is_bot:
        # Looks like success, so the bot learns nothing; nothing is written or sent.
        return _check_email_page(context)
    details = signing.SignerDetails(
        email=form.email.data, first_name=form.first_name.data, last_name=form.last_name.data,
        postal_code=form.postal_code.data.upper(), country=form.country.data,
        comment=form.comment.data, email_consent=form.email_consent.data, locale=_locale(),
        source=form.signature_source, ip=request.remote_addr or "")
    if signing.sign_new_person(petition, details, referrer) is None:
        # Someone already on file, a petition that stopped taking signatures, or SQLite:
        # the general path, on the petition's row as it is now.
        current = _petition_or_404(petition.slug, with_campaign=False)
        try:
            signing.sign_petition(current, details, referrer)
        except signing.SigningError as exc:
            db.session.rollback()
            return _not_signable(petition.slug, str(exc), from_widget)
    db.session.commit()
    return _check_email_page(context)


def _not_signable(slug: str, message: str, from_widget: bool):
    petition = _petition_or_404(slug)
    return render_template("petitions/public/closed.html", petition=petition,
                           title=petition.localized("title", _locale()), message=message,
                           widget=from_widget), 409


# Stands for the signer's address in the cached "check your email" page: private-use
# characters, which nothing else on the page contains.
EMAIL_SLOT = "\ue000signer-email\ue000"


def _check_email_page(context: dict) -> str:
    """The "check your email" page. For visitors without a session it is rendered once per
    petition, language and place for ten minutes, with a slot for the address: it is the same
    page for every signer but for the address (rendering it was a tenth of a signature's cost)."""
    if not visitor_without_session():
        return render_template("petitions/public/check_email.html", **context)
    # Nothing of the petition row itself: after the commit, reading it would query again.
    key = (request.path, context["back_url"], context["title"], _locale(), context["widget"])
    html = timed_cache("petition_check_email_pages", BLANK_FORM_CACHE_SIZE).remember(
        key, BLANK_FORM_SECONDS, lambda: render_template(
            "petitions/public/check_email.html", **{**context, "email": EMAIL_SLOT}))
    return html.replace(EMAIL_SLOT, str(escape(context["email"])))


@bp.errorhandler(429)
def limited(error):
    if request.endpoint == "petitions_public.open_data":
        response = current_app.response_class(json.dumps({
            "error": "too many requests",
            "limit": current_app.config["PETITION_DATA_LIMIT"],
            "documentation": url_for("petitions_public.open_data_help", _external=True),
        }), status=429, mimetype="application/json")
        return response
    from_widget = request.form.get("source") == WIDGET if request.method == "POST" else False
    if from_widget:
        g.embeddable = True
    slug = (request.view_args or {}).get("slug", "")
    petition = signing.get_public_petition(slug) if slug else None
    return render_template("petitions/public/limited.html", petition=petition,
                           title=petition.localized("title", _locale()) if petition else "",
                           widget=from_widget), 429


# --- confirming and withdrawing -------------------------------------------------------------

def _bad_link(petition: Petition | signing.SigningPetition, exc: TokenError | None):
    expired = exc is not None and exc.expired
    return render_template("petitions/public/link_invalid.html", petition=petition,
                           title=petition.localized("title", _locale()), expired=expired), 400


@bp.route("/petitions/<slug>/confirm/<token>")
def confirm(slug: str, token: str):
    # The few-seconds copy identifies the petition; confirming reads the row itself
    # (signature.petition) to check it still takes signatures.
    petition = signing.signing_petition(slug)
    if petition is None:
        abort(404)
    try:
        signature = signing.signature_for_confirm_token(petition, token)
    except TokenError as exc:
        return _bad_link(petition, exc)
    if signature.status not in (SignatureStatus.PENDING, SignatureStatus.CONFIRMED):
        return _bad_link(petition, None)
    try:
        just_confirmed = signing.confirm_signature(signature)
    except signing.SigningError as exc:
        db.session.rollback()
        return _not_signable(slug, str(exc), False)
    # Written before the commit, while the petition is loaded (the commit would expire it and
    # the page would read it again); an error in the commit still ends in the error page.
    page = _confirmed_page(signature.petition, signature, just_confirmed)
    db.session.commit()
    return page


def _confirmed_page(petition: Petition, signature, just_confirmed: bool) -> str:
    """The thank-you page. It shows nothing of the signature, only the petition, its count and
    share links (credited to the signature's referrer), so visitors without a session get one
    rendered at most PAGE_CACHE_SECONDS ago for the same petition, language, referrer and
    outcome: a wave of confirmations after a mailing costs a template per few seconds, not
    one per signer."""
    seconds = current_app.config["PAGE_CACHE_SECONDS"] if visitor_without_session() else 0
    key = (petition.slug, _locale(), signature.referring_organization_id, just_confirmed)
    return timed_cache("petition_confirmed_pages", BLANK_FORM_CACHE_SIZE).remember(
        key, seconds, lambda: render_template(
            "petitions/public/confirmed.html", just_confirmed=just_confirmed,
            **_page_context(petition, None, signature.referring_organization)))


class WithdrawForm(Form):
    """Only the CSRF token: the emailed link proves who asks."""


@bp.route("/petitions/<slug>/withdraw/<token>", methods=["GET", "POST"])
def withdraw(slug: str, token: str):
    petition = _petition_or_404(slug)
    try:
        signature = signing.signature_for_withdraw_token(petition, token)
    except TokenError as exc:
        return _bad_link(petition, exc)
    context = {"petition": petition, "title": petition.localized("title", _locale()),
               "signature": signature}
    if signature.status == SignatureStatus.WITHDRAWN:
        return render_template("petitions/public/withdrawn.html", **context)
    if signature.status == SignatureStatus.INVALIDATED:
        return _bad_link(petition, None)
    form = WithdrawForm()
    error = None
    if form.validate_on_submit():
        try:
            signing.withdraw_signature(signature)
        except signing.SigningError as exc:
            db.session.rollback()
            error = str(exc)
        else:
            db.session.commit()
            return render_template("petitions/public/withdrawn.html", **context)
    return render_template("petitions/public/withdraw.html", form=form, error=error,
                           **context), (409 if error else 200)


# --- live count and open data ---------------------------------------------------------------

@bp.route("/petitions/<slug>/count.json")
@limiter.exempt  # one primary-key read of the cached count; the page polls it
def count(slug: str):
    petition = _petition_or_404(slug)
    total = petition.total_count
    response = current_app.response_class(json.dumps({
        "slug": petition.slug,
        "status": petition.status.value,
        "total": total,
        "total_formatted": format_count(total),
        "unit": signature_unit(total),
        "online_confirmed": petition.confirmed_count,
        "paper": petition.paper_count,
        "goal": petition.goal,
        "next_milestone": petition.next_milestone(),
        "milestone_text": milestone_text(petition),
        "counted_at": petition.counted_at.isoformat() if petition.counted_at else None,
    }, ensure_ascii=False), mimetype="application/json")
    response.headers["Cache-Control"] = "private, max-age=5"
    response.vary.add("Accept-Language")
    return response


@bp.route("/petitions/<slug>.json")
@limiter.limit(lambda: current_app.config["PETITION_DATA_LIMIT"])
def open_data(slug: str):
    petition = _petition_or_404(slug)
    etag = hashlib.sha256(cache_key(petition).encode()).hexdigest()[:32]
    response = Response(open_data_json(petition), mimetype="application/json")
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={BROWSER_MAX_AGE}"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)


@bp.route("/open-data")
def open_data_help():
    example = db.session.scalar(
        select(Petition).where(Petition.status == PetitionStatus.OPEN).order_by(Petition.id))
    return render_template("petitions/public/open_data.html", example=example,
                           limit=current_app.config["PETITION_DATA_LIMIT"],
                           max_age=BROWSER_MAX_AGE, country_name=country_name)
