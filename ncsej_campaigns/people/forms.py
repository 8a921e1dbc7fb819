"""Person editor and the public data-request form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, SelectField, StringField
from wtforms.validators import Email, InputRequired, Optional

from ncsej_campaigns.forms import COUNTRY_CODE, LANGUAGE_CHOICES, Form, max_len, strip, upper_strip


class PersonForm(Form):
    first_name = StringField(_l("First name"),
                             validators=[InputRequired(_l("Enter the first name.")),
                                         max_len(100)], filters=[strip])
    last_name = StringField(_l("Last name"), validators=[Optional(), max_len(100)],
                            filters=[strip])
    email = EmailField(_l("Email"), validators=[InputRequired(_l("Enter the email address.")),
                                                Email(_l("Enter a valid email address.")),
                                                max_len(254)], filters=[strip])
    phone = StringField(_l("Phone"), validators=[Optional(), max_len(40)], filters=[strip])
    street_address = StringField(_l("Street address"), validators=[Optional(), max_len(300)],
                                 filters=[strip])
    postal_code = StringField(_l("Postal code"), validators=[Optional(), max_len(20)],
                              filters=[strip])
    city = StringField(_l("City"), validators=[Optional(), max_len(100)], filters=[strip])
    region = StringField(_l("Region or state"), validators=[Optional(), max_len(100)],
                         filters=[strip])
    country = StringField(_l("Country"), validators=[Optional(), COUNTRY_CODE],
                          filters=[upper_strip])
    preferred_language = SelectField(_l("Preferred language"), choices=LANGUAGE_CHOICES)
    email_consent = BooleanField(_l("Agreed to receive email from the coalition"))
    organization_id = SelectField(_l("Organization"), coerce=int, validate_choice=True)

    def person_data(self) -> dict:
        return {f: (getattr(self, f).data or "") for f in (
            "first_name", "last_name", "email", "phone", "street_address", "postal_code",
            "city", "region", "country", "preferred_language")} | {
            "email_consent": self.email_consent.data}


class DataRequestForm(Form):
    email = EmailField(_l("Your email"), validators=[
        InputRequired(_l("Enter your email address.")),
        Email(_l("Enter a valid email address.")), max_len(254)], filters=[strip])


class EraseForm(Form):
    confirm = BooleanField(_l("I understand that this cannot be undone"),
                           validators=[InputRequired(_l("Tick the box to confirm."))])
