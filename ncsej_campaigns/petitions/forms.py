"""Coordinator forms for petitions: the editor, state changes, invalidations, paper batches."""

from __future__ import annotations

import re
from datetime import UTC

from flask_babel import lazy_gettext as _l
from flask_babel import to_user_timezone, to_utc
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError

from ncsej_campaigns.campaigns.forms import SLUG, OrganizationsField
from ncsej_campaigns.forms import Form, max_len, strip

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def to_local_input(value):
    """An aware UTC datetime as the naive local time a datetime-local input shows."""
    return to_user_timezone(value).replace(tzinfo=None) if value else None


def from_local_input(value):
    """A naive local time from a datetime-local input as an aware UTC datetime."""
    return to_utc(value).replace(tzinfo=UTC) if value else None


def parse_milestones(text: str) -> list[int]:
    """"1000, 5 000; 25000" → [1000, 5000, 25000]: sorted, unique, positive whole numbers."""
    if isinstance(text, list | tuple):  # the form was filled from a petition, not typed
        text = ", ".join(str(m) for m in text)
    parts = [p for p in re.split(r"[,;\n]", text or "") if p.strip()]
    numbers = set()
    for part in parts:
        digits = re.sub(r"[\s\u00a0\u202f_']", "", part)
        if not digits.isdigit() or int(digits) <= 0:
            raise ValueError(part.strip())
        numbers.add(int(digits))
    return sorted(numbers)


class PetitionForm(Form):
    title_en = StringField(_l("Title (English)"),
                           validators=[InputRequired(_l("Enter the title in English.")),
                                       max_len(200)], filters=[strip])
    title_ru = StringField(_l("Title (Russian)"), validators=[Optional(), max_len(200)],
                           filters=[strip])
    slug = StringField(_l("Short name (used in links)"),
                       validators=[Optional(), max_len(80), SLUG], filters=[strip],
                       description=_l("Leave empty to make one from the English title."))
    target_en = StringField(_l("Addressed to (English)"),
                            validators=[InputRequired(_l("Say to whom the petition is addressed.")),
                                        max_len(500)], filters=[strip],
                            description=_l("For example: The Congress of the United States"))
    target_ru = StringField(_l("Addressed to (Russian)"), validators=[Optional(), max_len(500)],
                            filters=[strip])
    text_en = TextAreaField(_l("Text (English)"),
                            validators=[InputRequired(_l("Enter the text in English.")),
                                        max_len(20000)])
    text_ru = TextAreaField(_l("Text (Russian)"), validators=[Optional(), max_len(20000)])
    campaign_id = SelectField(_l("Campaign"), coerce=int)
    goal = IntegerField(_l("Goal (signatures)"), default=10000, validators=[
        InputRequired(_l("Enter the number of signatures you aim for.")),
        NumberRange(min=1, max=100_000_000, message=_l("Enter a whole number above zero."))])
    milestones = StringField(
        _l("Milestones"), validators=[Optional(), max_len(500)], filters=[strip],
        description=_l("Signature counts, separated by commas, at which coordinators are "
                       "told, for example 1000, 5000, 25000."))
    opens_at = DateTimeLocalField(_l("Opens at"), format=DATETIME_FORMATS,
                                  validators=[Optional()],
                                  description=_l("Leave empty to open it when you press Open."))
    closes_at = DateTimeLocalField(_l("Closes at"), format=DATETIME_FORMATS,
                                   validators=[Optional()])
    sponsor_ids = OrganizationsField(_l("Sponsoring organizations"))

    def validate_milestones(self, field):
        try:
            self.milestone_list = parse_milestones(field.data)
        except ValueError as exc:
            raise ValidationError(_l(
                "“%(part)s” is not a whole number. Write numbers separated by commas, "
                "like 1000, 5000, 25000.", part=str(exc))) from None

    def validate_closes_at(self, field):
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError(_l("The petition must close after it opens."))

    def load(self, petition) -> None:
        """Fill the form from ``petition`` for a GET."""
        self.campaign_id.data = petition.campaign_id or 0
        self.milestones.data = ", ".join(str(m) for m in petition.milestones or [])
        self.opens_at.data = to_local_input(petition.opens_at)
        self.closes_at.data = to_local_input(petition.closes_at)
        self.sponsor_ids.data = [o.id for o in petition.sponsors]

    def petition_data(self) -> dict:
        data = {f: (getattr(self, f).data or "") for f in (
            "slug", "title_en", "title_ru", "target_en", "target_ru", "text_en", "text_ru")}
        data.update(
            campaign_id=self.campaign_id.data or None,
            goal=self.goal.data,
            milestones=getattr(self, "milestone_list", None) or parse_milestones(
                self.milestones.data or ""),
            opens_at=from_local_input(self.opens_at.data),
            closes_at=from_local_input(self.closes_at.data),
        )
        return data


class TransitionForm(Form):
    """Confirms one state change; the delivery fields matter only when delivering."""

    to = HiddenField()
    confirm = BooleanField(_l("Yes, change the state"),
                           validators=[InputRequired(_l("Tick the box to confirm."))])
    delivered_on = DateField(_l("Delivered on"), validators=[Optional()])
    delivered_to = StringField(_l("Delivered to"), validators=[Optional(), max_len(300)],
                               filters=[strip],
                               description=_l("Who received it, for example: "
                                              "Office of Senator Jackson, Washington"))
    delivery_method = StringField(_l("How it was delivered"),
                                  validators=[Optional(), max_len(300)], filters=[strip],
                                  description=_l("For example: handed over at the rally; "
                                                 "sent by registered mail"))
    delivery_notes = TextAreaField(_l("Notes"), validators=[Optional(), max_len(5000)])


class InvalidateSignatureForm(Form):
    reason = StringField(_l("Reason"), validators=[
        InputRequired(_l("Say why, so others can judge later.")), max_len(500)],
        filters=[strip])


class InvalidateBatchForm(Form):
    email_domain = StringField(_l("Email domain"), validators=[Optional(), max_len(254)],
                               filters=[strip],
                               description=_l("Everything after @, for example mailinator.com"))
    ip_hash = StringField(_l("IP hash"), validators=[Optional(), max_len(64)], filters=[strip],
                          description=_l("As shown in the signatures list; the address "
                                         "itself is never stored."))
    created_from = DateTimeLocalField(_l("Signed from"), format=DATETIME_FORMATS,
                                      validators=[Optional()])
    created_to = DateTimeLocalField(_l("Signed until"), format=DATETIME_FORMATS,
                                    validators=[Optional()])
    reason = StringField(_l("Reason"), validators=[
        InputRequired(_l("Say why, so others can judge later.")), max_len(500)],
        filters=[strip])
    confirm = BooleanField(_l("Yes, invalidate the signatures shown above"))
    # The count the coordinator saw; if the rule now matches another number, they look again.
    previewed = HiddenField()

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        if not (self.email_domain.data or self.ip_hash.data or self.created_from.data
                or self.created_to.data):
            self.form_errors.append(str(_l(
                "Choose at least one rule: an email domain, an IP hash or a time window.")))
            ok = False
        if (self.created_from.data and self.created_to.data
                and self.created_to.data <= self.created_from.data):
            self.created_to.errors.append(str(_l("The window must end after it starts.")))
            ok = False
        return ok

    def criteria(self) -> dict:
        return {
            "email_domain": (self.email_domain.data or "").lower().lstrip("@"),
            "ip_hash": self.ip_hash.data or "",
            "created_from": from_local_input(self.created_from.data),
            "created_to": from_local_input(self.created_to.data),
        }


class RevertForm(Form):
    confirm = BooleanField(_l("Yes, count these signatures again"),
                           validators=[InputRequired(_l("Tick the box to confirm."))])


SCAN_EXTENSIONS = ("pdf", "jpg", "jpeg", "png")


class PaperBatchForm(Form):
    signature_count = IntegerField(_l("Number of signatures"), validators=[
        InputRequired(_l("Enter how many signatures the batch holds.")),
        NumberRange(min=1, max=1_000_000, message=_l("Enter a whole number above zero."))])
    source = StringField(_l("Where they were collected"), validators=[
        InputRequired(_l("Say where the signatures were collected.")), max_len(300)],
        filters=[strip], description=_l("For example: Shabbat tables at Temple Beth El"))
    collected_on = DateField(_l("Collected on"), validators=[
        InputRequired(_l("Enter the date the signatures were collected."))])
    organization_id = SelectField(_l("Organization"), coerce=int)
    scan = FileField(_l("Scanned list (optional)"), validators=[
        Optional(), FileAllowed(SCAN_EXTENSIONS, _l("Upload a PDF, JPEG or PNG file."))],
        description=_l("PDF, JPEG or PNG, up to 10 MB."))


class RemoveBatchForm(Form):
    confirm = BooleanField(_l("Yes, remove this batch from the total"),
                           validators=[InputRequired(_l("Tick the box to confirm."))])
