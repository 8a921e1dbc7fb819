"""The public signing form, on the petition page and in the embeddable widget.

Its anti-forgery token is signed and time-limited but needs no session cookie: the widget runs
in an ``<iframe>`` on member sites, where browsers withhold our (SameSite) cookies, so the
usual session-bound CSRF token could never validate there. The token is bound to the petition
and expires; the page it sits on holds nothing private, so it may be cached.
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from markupsafe import Markup, escape
from wtforms import BooleanField, EmailField, HiddenField, StringField, TextAreaField
from wtforms.csrf.core import CSRF
from wtforms.validators import Email, InputRequired, Optional, ValidationError
from wtforms.widgets import html_params

from ncsej_campaigns.forms import Form, max_len, strip, upper_strip
from ncsej_campaigns.petitions.models import SignatureSource
from ncsej_campaigns.tokens import TokenError, make_token, read_token

FORM_PURPOSE = "petition-sign-form"
FORM_TOKEN_MAX_AGE = 24 * 3600

# Codes Babel lists that are not places a person lives (or are duplicates of one).
NOT_COUNTRIES = {"AC", "AQ", "CP", "DG", "EA", "EU", "EZ", "IC", "QO", "TA", "UN", "XA",
                 "XB", "ZZ"}
# Countries without postal codes, where the field is not required.
NO_POSTAL_CODES = {
    "AE", "AG", "AO", "AW", "BF", "BI", "BJ", "BO", "BS", "BW", "BZ", "CD", "CF", "CG", "CI",
    "CK", "CM", "DJ", "DM", "ER", "FJ", "GA", "GD", "GH", "GM", "GQ", "GY", "HK", "KI", "KM",
    "KN", "KP", "LY", "ML", "MO", "MR", "MW", "NR", "NU", "QA", "RW", "SB", "SC", "SL", "SR",
    "SS", "ST", "SY", "TD", "TG", "TK", "TL", "TO", "TV", "UG", "VU", "YE", "ZW",
}


@lru_cache(maxsize=4)
def _countries(locale: str) -> tuple[tuple[str, str], ...]:
    names = Locale.parse(locale).territories
    pairs = [(code, name) for code, name in names.items()
             if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES]
    return tuple(sorted(pairs, key=lambda p: p[1].casefold()))


COUNTRY_CODES = frozenset(code for code, _name in _countries("en"))


def country_name(code: str) -> str:
    return dict(_countries(str(get_locale() or "en"))).get(code, code)


@lru_cache(maxsize=8)
def _country_options(locale: str, prompt: str) -> str:
    options = [f'<option value="">{escape(prompt)}</option>']
    options += [f'<option value="{code}">{escape(name)}</option>'
                for code, name in _countries(locale)]
    return "".join(options)


class CountrySelect:
    """A ``<select>`` of every country, its options rendered once per language: the list is
    long and the same on every page view, and rendering it option by option was most of the
    cost of the petition page."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        if field.flags.required:
            kwargs.setdefault("required", True)
        options = _country_options(str(get_locale() or "en"), str(_l("Choose your country")))
        if field.data in COUNTRY_CODES:
            chosen = f'<option value="{field.data}">'
            options = options.replace(chosen, chosen[:-1] + " selected>", 1)
        # Every part is escaped: the names above, the attributes by html_params.
        return Markup(  # noqa: S704
            f"<select {html_params(name=field.name, **kwargs)}>{options}</select>")


class SignedFormCSRF(CSRF):
    """A stateless token: ``make_token`` over the petition id, checked for age and petition."""

    def setup_form(self, form):
        self.petition_id = form.meta.csrf_context
        return super().setup_form(form)

    def generate_csrf_token(self, csrf_token_field):
        # Made when the field is rendered: a signature POST only reads the token it carries.
        return LazyString(make_token, FORM_PURPOSE, {"p": self.petition_id})

    def validate_csrf_token(self, form, field):
        try:
            payload = read_token(FORM_PURPOSE, field.data or "", FORM_TOKEN_MAX_AGE)
        except TokenError as exc:
            raise ValidationError(_l("This form has expired. Reload the page and sign again."
                                     )) from exc
        if payload.get("p") != self.petition_id:
            raise ValidationError(_l("This form belongs to another petition. Reload the "
                                     "page and sign again."))


POSTAL_CODE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9 \-]{0,18}[A-Za-z0-9])?$")


class SignatureForm(Form):
    """Build as ``SignatureForm(meta={"csrf_context": petition.id})``."""

    class Meta:
        csrf_class = SignedFormCSRF
        csrf_context = None

    first_name = StringField(
        _l("First name"), filters=[strip],
        validators=[InputRequired(_l("Enter your first name.")), max_len(100)])
    last_name = StringField(
        _l("Last name"), filters=[strip],
        validators=[InputRequired(_l("Enter your last name.")), max_len(100)])
    email = EmailField(
        _l("Email"), filters=[strip],
        validators=[InputRequired(_l("Enter your email address.")),
                    Email(_l("Enter a valid email address, like name@example.org."),
                          check_deliverability=False),
                    max_len(254)],
        description=_l("We email you a link to confirm your signature. Your email is never "
                       "shown publicly."))
    country = StringField(_l("Country"), filters=[upper_strip], widget=CountrySelect(),
                          validators=[InputRequired(_l("Choose your country."))])
    postal_code = StringField(
        _l("Postal code"), filters=[strip],
        validators=[max_len(20)])
    comment = TextAreaField(
        _l("Comment (optional)"), filters=[strip], validators=[Optional(), max_len(1000)],
        description=_l("Only the petition's organizers see it."))
    email_consent = BooleanField(
        _l("Keep me informed by email about this campaign and the coalition's work. "
           "I can unsubscribe at any time."), default=False)
    # A field people never see (hidden by the stylesheet) and bots fill in.
    homepage = StringField(_l("Leave this field empty"), filters=[strip])
    ref = HiddenField(filters=[strip])
    source = HiddenField(default=SignatureSource.WEB.value)
    # The widget's language when the member site asks for one (``?lang=ru``).
    lang = HiddenField(filters=[strip])

    def validate_country(self, field):
        if field.data not in COUNTRY_CODES:
            raise ValidationError(_l("Choose your country."))

    def validate_postal_code(self, field):
        country = (self.country.data or "").upper()
        if not field.data:
            if country and country not in NO_POSTAL_CODES:
                raise ValidationError(_l("Enter your postal code."))
        elif not POSTAL_CODE.match(field.data):
            raise ValidationError(_l("Enter a postal code of letters, digits, spaces and "
                                     "dashes."))

    @property
    def is_bot(self) -> bool:
        return bool(self.homepage.data)

    @property
    def signature_source(self) -> SignatureSource:
        return (SignatureSource.WIDGET if self.source.data == SignatureSource.WIDGET.value
                else SignatureSource.WEB)
