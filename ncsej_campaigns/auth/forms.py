"""Sign-in, password and account forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional

from ncsej_campaigns.auth.models import Role
from ncsej_campaigns.auth.passwords import MIN_PASSWORD_LENGTH
from ncsej_campaigns.forms import LANGUAGE_CHOICES, Form, max_len, strip

EMAIL = [InputRequired(_l("Enter your email address.")),
         Email(_l("Enter a valid email address.")), max_len(254)]
NEW_PASSWORD = [
    InputRequired(_l("Choose a password.")),
    Length(min=MIN_PASSWORD_LENGTH, max=200,
           message=_l("Use at least %(min)d characters.", min=MIN_PASSWORD_LENGTH)),
]


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=EMAIL, filters=[strip])
    password = PasswordField(_l("Password"),
                             validators=[InputRequired(_l("Enter your password.")),
                                         max_len(200)])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(Form):
    email = EmailField(_l("Email"), validators=EMAIL, filters=[strip])


class ResetPasswordForm(Form):
    password = PasswordField(_l("New password"), validators=NEW_PASSWORD)
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[EqualTo("password", _l("The two passwords differ."))])


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"),
                                     validators=[InputRequired(_l("Enter your current password."))])
    password = PasswordField(_l("New password"), validators=NEW_PASSWORD)
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[EqualTo("password", _l("The two passwords differ."))])


def role_choices():
    return [(r.value, r.label) for r in Role]


class AccountForm(Form):
    email = EmailField(_l("Email"), validators=EMAIL, filters=[strip])
    full_name = StringField(_l("Full name"), validators=[Optional(), max_len(200)],
                            filters=[strip])
    role = SelectField(_l("Role"), validators=[InputRequired()])
    organization_id = SelectField(_l("Organization (federation representatives only)"),
                                  coerce=int, validate_choice=True)
    locale = SelectField(_l("Language"), choices=[("", _l("Browser's choice")),
                                                  *LANGUAGE_CHOICES])
    active = BooleanField(_l("Account active"), default=True)
    password = PasswordField(_l("Initial password"), validators=NEW_PASSWORD)
