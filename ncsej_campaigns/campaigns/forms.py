"""The campaign editor, and the organization picker petitions share with it."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import BooleanField, DateField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from ncsej_campaigns.extensions import db
from ncsej_campaigns.forms import Form, max_len, strip
from ncsej_campaigns.organizations.models import Organization

SLUG = Regexp(r"^[a-z0-9]+(-[a-z0-9]+)*$",
              message=_l("Use lowercase letters, digits and dashes."))


class OrganizationsField(SelectMultipleField):
    """Several organizations as a list of checkboxes: easier to read and to tick on a phone
    than a multiple select that needs Ctrl-click."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=int, **kwargs)

    def load_choices(self) -> None:
        self.choices = [(r.id, r.name) for r in db.session.execute(
            select(Organization.id, Organization.name).order_by(Organization.name))]

    def chosen_first(self) -> None:
        """Put the ticked organizations at the top, where a long list shows them."""
        chosen = set(self.data or [])
        self.choices.sort(key=lambda choice: choice[0] not in chosen)


class CampaignForm(Form):
    name_en = StringField(_l("Name (English)"),
                          validators=[InputRequired(_l("Enter the name in English.")),
                                      max_len(200)], filters=[strip])
    name_ru = StringField(_l("Name (Russian)"), validators=[Optional(), max_len(200)],
                          filters=[strip])
    slug = StringField(_l("Short name (used in links)"),
                       validators=[Optional(), max_len(80), SLUG], filters=[strip],
                       description=_l("Leave empty to make one from the English name."))
    goal_en = StringField(_l("Goal (English)"), validators=[Optional(), max_len(500)],
                          filters=[strip])
    goal_ru = StringField(_l("Goal (Russian)"), validators=[Optional(), max_len(500)],
                          filters=[strip])
    description_en = TextAreaField(_l("Description (English)"),
                                   validators=[Optional(), max_len(20000)])
    description_ru = TextAreaField(_l("Description (Russian)"),
                                   validators=[Optional(), max_len(20000)])
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    is_public = BooleanField(_l("Show the campaign page to the public"), default=True)
    sponsor_ids = OrganizationsField(_l("Co-sponsoring organizations"))

    def campaign_data(self) -> dict:
        data = {f: (getattr(self, f).data or "") for f in (
            "slug", "name_en", "name_ru", "goal_en", "goal_ru", "description_en",
            "description_ru")}
        data.update(starts_on=self.starts_on.data, ends_on=self.ends_on.data,
                    is_public=bool(self.is_public.data))
        return data
