"""The organization editor."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import EmailField, SelectField, StringField, TextAreaField, URLField
from wtforms.validators import URL, Email, InputRequired, Optional, Regexp

from ncsej_campaigns.forms import COUNTRY_CODE, Form, max_len, strip, upper_strip
from ncsej_campaigns.organizations.models import MembershipStatus, OrganizationKind

WEB_ADDRESS_MESSAGE = _l("Enter a full address starting with https://.")


class OrganizationForm(Form):
    name = StringField(lazy_pgettext("organization", "Name"),
                       validators=[InputRequired(_l("Enter the name.")), max_len(200)],
                       filters=[strip])
    slug = StringField(
        _l("Short name (used in links)"),
        validators=[Optional(), max_len(80),
                    Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$",
                           message=_l("Use lowercase letters, digits and dashes."))],
        filters=[strip],
        description=_l("Leave empty to make one from the name."),
    )
    kind = SelectField(_l("Kind"), choices=[(k.value, k.label) for k in OrganizationKind])
    parent_id = SelectField(_l("Part of"), coerce=int)
    region = StringField(_l("Region"), validators=[Optional(), max_len(100)], filters=[strip])
    country = StringField(_l("Country"), validators=[Optional(), COUNTRY_CODE],
                          filters=[upper_strip], default="US")
    membership_status = SelectField(
        _l("Membership"), choices=[(s.value, s.label) for s in MembershipStatus]
    )
    contact_name = StringField(_l("Contact person"), validators=[Optional(), max_len(200)],
                               filters=[strip])
    contact_email = EmailField(_l("Contact email"),
                               validators=[Optional(), Email(_l("Enter a valid email address.")),
                                           max_len(254)], filters=[strip])
    contact_phone = StringField(_l("Contact phone"), validators=[Optional(), max_len(40)],
                                filters=[strip])
    # URL() accepts any scheme (javascript://host/%0A...), and the address becomes a link on
    # the organization's page, so only web addresses are taken.
    website = URLField(_l("Website"), validators=[
        Optional(), URL(message=WEB_ADDRESS_MESSAGE),
        Regexp(r"^https?://", flags=re.IGNORECASE, message=WEB_ADDRESS_MESSAGE),
        max_len(300)], filters=[strip])
    description = TextAreaField(_l("About"), validators=[Optional(), max_len(5000)])

    # Kinds and statuses arrive as strings; the model wants the enum values.
    def data_for_save(self) -> dict:
        data = {f: getattr(self, f).data for f in (
            "name", "slug", "region", "country", "contact_name", "contact_email",
            "contact_phone", "website", "description")}
        data["kind"] = OrganizationKind(self.kind.data)
        data["membership_status"] = MembershipStatus(self.membership_status.data)
        data["parent_id"] = self.parent_id.data or None
        data = {k: ("" if v is None and k not in ("parent_id",) else v) for k, v in data.items()}
        return data
