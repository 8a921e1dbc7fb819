"""The Russian catalog is complete, and a Russian speaker sees Russian.

The catalog checks extract the messages from the current source in memory, as
``pybabel extract`` does with ``babel.cfg``, so a string added without a Russian
translation fails here instead of showing up in English on a Russian page.
The compiled ``.mo`` files are build output, not kept in git; a session fixture compiles
them when they are missing or older than the ``.po``.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from babel.dates import format_datetime
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlalchemy import select

from ncsej_campaigns.audit.models import AuditEntry
from ncsej_campaigns.auth.models import User
from tests import factories
from tests.conftest import ROOT, login, post_form

TRANSLATIONS = ROOT / "ncsej_campaigns" / "translations"
RU_PO = TRANSLATIONS / "ru" / "LC_MESSAGES" / "messages.po"
RU_MO = RU_PO.with_suffix(".mo")

# The keywords of the extraction command in README.md ("Translations").
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None,
            "lazy_pgettext": ((1, "c"), 2)}

RUSSIAN_PLURAL_FORMS = (
    "(n%10==1 && n%100!=11 ? 0 : n%10>=2 && n%10<=4 && (n%100<10 || n%100>=20) ? 1 : 2)"
)

# %(name)s, %(count)d, %s, %.2f ...; "%%" is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[#0\- +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa%]")

RU = {"Accept-Language": "ru"}
EN = {"Accept-Language": "en"}


def placeholders(text: str) -> set[str]:
    return {p for p in PLACEHOLDER.findall(text) if p != "%%"}


def source_messages() -> dict[tuple[str | None, str | tuple], list[str]]:
    """Every message marked in the source: (context, msgid or (singular, plural)) -> places."""
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    found: dict[tuple[str | None, str | tuple], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.setdefault((context, message), []).append(f"{filename}:{lineno}")
    return found


def russian_catalog():
    with open(RU_PO, "rb") as f:
        return read_po(f, locale="ru")


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.fixture(scope="session", autouse=True)
def compiled_catalogs(app):
    """Compile the catalogs if the .mo is missing or stale, then drop cached translations."""
    if not RU_MO.exists() or RU_MO.stat().st_mtime < RU_PO.stat().st_mtime:
        # No check=True: a catalog too broken to compile is reported, entry by entry, by the
        # catalog tests below rather than as an error in every test of this module.
        subprocess.run(
            [sys.executable, "-m", "babel.messages.frontend", "-q", "compile",
             "-d", str(TRANSLATIONS)],
            cwd=ROOT, capture_output=True,
        )
        # Flask-Babel caches a language's catalog on first use; an earlier Russian request
        # made while the .mo was missing would otherwise keep serving English.
        with app.app_context():
            app.extensions["babel"].instance.domain_instance.cache.clear()


# --- the catalog ---------------------------------------------------------------------------


def test_catalog_declares_the_three_russian_plural_forms():
    catalog = russian_catalog()
    assert catalog.num_plurals == 3
    assert catalog.plural_expr.replace(" ", "") == RUSSIAN_PLURAL_FORMS.replace(" ", "")


def test_every_source_string_has_a_russian_translation():
    catalog = russian_catalog()
    problems = []
    for (context, message), places in sorted(source_messages().items(), key=str):
        msgid = message[0] if isinstance(message, tuple) else message
        entry = catalog.get(msgid, context=context)
        where = ", ".join(sorted(places))
        if entry is None:
            problems.append(f"missing: {msgid!r} ({where})")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r} ({where})")
        elif isinstance(message, tuple) != entry.pluralizable:
            problems.append(f"plural forms differ from the source: {msgid!r} ({where})")
        elif entry.pluralizable and (len(entry.string) != 3 or not all(entry.string)):
            problems.append(f"needs all 3 Russian plural forms: {msgid!r} ({where})")
        elif not entry.pluralizable and not entry.string:
            problems.append(f"untranslated: {msgid!r} ({where})")
    assert not problems, (
        f"{len(problems)} string(s) lack a Russian translation. Run the commands in "
        "README.md (Translations), then translate:\n  " + "\n  ".join(problems)
    )


def test_translations_keep_the_placeholders_of_the_original():
    problems = []
    for entry in russian_catalog():
        # Fuzzy guesses are not used at run time; the completeness test reports them.
        if not entry.id or not entry.string or entry.fuzzy:
            continue
        if entry.pluralizable:
            # As gettext and Babel read them: form 0 answers the singular msgid, the other
            # forms the plural one.
            singular, plural = entry.id
            for form, text in enumerate(entry.string):
                expected = placeholders(singular if form == 0 else plural)
                if text and placeholders(text) != expected:
                    problems.append(f"{singular!r} [{form}]: {sorted(placeholders(text))} "
                                    f"instead of {sorted(expected)}")
        elif placeholders(entry.string) != placeholders(entry.id):
            problems.append(f"{entry.id!r}: {sorted(placeholders(entry.string))} "
                            f"instead of {sorted(placeholders(entry.id))}")
    assert not problems, "placeholders changed in translation:\n  " + "\n  ".join(problems)


def test_catalog_passes_the_checks_of_pybabel_compile():
    """``pybabel compile`` (and so scripts/setup) stops on these errors."""
    problems = [f"{message.id!r}: {'; '.join(str(e) for e in errors)}"
                for message, errors in russian_catalog().check() if not message.fuzzy]
    assert not problems, "the Russian catalog does not compile:\n  " + "\n  ".join(problems)


# --- what a person sees --------------------------------------------------------------------


def test_login_page_follows_the_browser_language(client):
    russian = page(client.get("/login", headers=RU))
    assert '<html lang="ru">' in russian
    assert "Войти" in russian
    assert "Забыли пароль?" in russian
    assert "Forgot your password?" not in russian

    english = page(client.get("/login", headers=EN))
    assert '<html lang="en">' in english
    assert "Sign in" in english
    assert "Forgot your password?" in english
    assert "Войти" not in english


def test_plural_counts_use_the_russian_forms(client, as_user):
    as_user("coordinator")
    for _ in range(3):
        factories.OrganizationFactory()
    assert "3 организации" in page(client.get("/organizations/", headers=RU))
    assert "3 organizations" in page(client.get("/organizations/", headers=EN))


def test_language_switch_makes_the_following_pages_russian(client):
    response = post_form(client, "/language", {"lang": "ru", "next": "/login"},
                         form_url="/login", headers=EN)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"

    # The choice wins over the browser's own preference, page after page.
    assert "Забыли пароль?" in page(client.get("/login", headers=EN))
    assert "Отпусти народ мой" in page(client.get("/", headers=EN))

    post_form(client, "/language", {"lang": "en", "next": "/"}, form_url="/login")
    assert "Let my people go" in page(client.get("/", headers=RU))


def test_a_visitor_switches_language_without_a_session(client):
    """Public pages carry a switch token that needs no session: viewing one sets no cookie,
    and the switch itself keeps the choice in a ``lang`` cookie of its own."""
    home = client.get("/", headers=EN)
    assert "Set-Cookie" not in home.headers
    token = re.search(r'class="lang-switch".*?name="csrf_token" value="([^"]+)"',
                      page(home), re.S).group(1)

    response = client.post("/language", data={"lang": "ru", "next": "/",
                                              "csrf_token": token}, headers=EN)
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith("lang=ru;") and "HttpOnly" in c for c in cookies)
    assert not any(c.startswith("session=") for c in cookies)
    assert "Отпусти народ мой" in page(client.get("/", headers=EN))


def test_language_switch_refuses_a_forged_token(client):
    response = client.post("/language", data={"lang": "ru", "csrf_token": "forged"},
                           headers=RU)
    assert response.status_code == 400
    assert "Срок действия формы истёк" in response.get_data(as_text=True)
    assert not any(c.startswith("lang=") for c in response.headers.getlist("Set-Cookie"))


def test_language_switch_is_kept_on_the_account(app, client, as_user, dbs):
    user = as_user("coordinator")
    assert "Dashboard" in page(client.get("/dashboard", headers=EN))

    post_form(client, "/language", {"lang": "ru", "next": "/dashboard"}, form_url="/dashboard")
    assert "Панель управления" in page(client.get("/dashboard", headers=EN))
    assert dbs.scalar(select(User.locale).where(User.id == user.id)) == "ru"

    # Signing in again elsewhere, from an English browser, brings Russian back.
    elsewhere = app.test_client()
    assert login(elsewhere, user.email).status_code == 302
    dashboard = page(elsewhere.get("/dashboard", headers=EN))
    assert f"Добро пожаловать, {user.full_name}" in dashboard


def test_account_language_needs_no_browser_header(client, as_user):
    as_user("coordinator", full_name="Natan Sharansky", locale="ru")
    dashboard = page(client.get("/dashboard"))
    assert "Добро пожаловать, Natan Sharansky" in dashboard
    assert "Быстрые действия" in dashboard
    assert "Добавить человека" in dashboard
    assert "Welcome" not in dashboard


def test_account_language_wins_over_a_switch_made_before_signing_in(client):
    user = factories.UserFactory(locale="ru")
    post_form(client, "/language", {"lang": "en", "next": "/login"}, form_url="/login")
    assert "Forgot your password?" in page(client.get("/login"))

    assert login(client, user.email).status_code == 302
    assert "Панель управления" in page(client.get("/dashboard"))


def test_dashboard_counts_agree_with_their_numbers_in_russian(client, as_user):
    as_user("admin", locale="ru")
    for _ in range(2):
        factories.OrganizationFactory()
    dashboard = page(client.get("/dashboard"))
    # Two organizations (and the admin's own account: one) in the right plural forms.
    assert re.search(r'stat-value">2</span><span class="stat-label">организации<', dashboard)
    assert re.search(r'stat-value">1</span><span class="stat-label">учётная запись<',
                     dashboard)
    assert re.search(r'stat-value">0</span><span class="stat-label">человек<', dashboard)


@pytest.mark.parametrize(("locale", "greeting"), [("en", "Hello,"), ("ru", "Здравствуйте!")])
def test_an_email_to_someone_without_a_name_greets_them_plainly(ctx, mailbox, locale,
                                                                greeting):
    from ncsej_campaigns.extensions import db
    from ncsej_campaigns.notifications.services import queue_email

    queue_email("password_reset", to_address=f"noname-{locale}@example.org", subject="Reset",
                locale=locale, reset_url="https://example.org/r", valid_minutes=60)
    db.session.commit()
    (message,) = mailbox.wait_for(to=f"noname-{locale}@example.org")
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert text.splitlines()[0] == greeting


def test_an_organizations_name_is_a_title_not_a_persons_first_name(client, as_user):
    as_user("coordinator", locale="ru")
    factories.OrganizationFactory()
    organizations = page(client.get("/organizations/"))
    assert '<th scope="col">Название</th>' in organizations
    assert ">Название</label>" in page(client.get("/organizations/new"))
    factories.PersonFactory()
    assert '<th scope="col">Имя</th>' in page(client.get("/people/"))


def test_dates_use_russian_month_names(client, as_user):
    as_user("coordinator")
    person = factories.PersonFactory(
        first_name="Ida", last_name="Nudel",
        created_at=datetime(2026, 3, 15, 12, 0, tzinfo=UTC),
    )
    russian = page(client.get(f"/people/{person.id}", headers=RU))
    assert "В базе с" in russian
    assert "15 мар. 2026" in russian  # CLDR puts a narrow no-break space before "г."

    english = page(client.get(f"/people/{person.id}", headers=EN))
    assert "On record since" in english
    assert "Mar 15, 2026" in english


def test_audit_log_in_russian_after_an_export(client, as_user, dbs):
    as_user("admin")
    person = factories.PersonFactory()
    assert client.get(f"/people/{person.id}/export.json").status_code == 200

    log = page(client.get("/admin/audit/", headers=RU))
    entry = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "person.exported")).one()
    assert "Журнал действий" in log
    assert "Когда" in log and "Кто" in log
    assert format_datetime(entry.created_at, "short", tzinfo=UTC, locale="ru") in log
    assert "Персональные данные выгружены" in log  # the action, read in Russian
    assert f"Человек #{person.id}" in log  # what it was about
    assert "person.exported" in log  # the code stays, for filtering
    factories.Session.add(AuditEntry(action="petition.closed", actor_label="system"))
    factories.Session.commit()
    assert ">система<" in page(client.get("/admin/audit/", headers=RU))  # the beat job


def test_every_audit_action_the_application_records_has_a_label():
    from ncsej_campaigns.audit.labels import ACTION_LABELS

    codes = set()
    for path in (ROOT / "ncsej_campaigns").rglob("*.py"):
        codes |= set(re.findall(
            r'"((?:account|campaign|organization|outbox|paper_batch|person|petition|signatures)'
            r'\.[a-z_]+)"', path.read_text(encoding="utf-8")))
    codes -= {"outbox.detail"}  # an endpoint, not an action
    assert len(codes) > 20
    assert sorted(codes - set(ACTION_LABELS)) == []


def test_a_consent_source_reads_in_the_page_language(client, as_user):
    person = factories.PersonFactory(email_consent=True,
                                     email_consent_at=datetime(2026, 3, 1, tzinfo=UTC),
                                     email_consent_source="petition let-my-people-go")
    as_user("admin", locale="ru")
    assert "подписал(а) петицию let-my-people-go" in page(client.get(f"/people/{person.id}"))


def test_password_reset_email_is_in_the_account_language(client, mailbox):
    user = factories.UserFactory(full_name="Avital Sharansky", locale="ru")
    response = post_form(client, "/password/forgot", {"email": user.email})
    assert response.status_code == 302

    [message] = mailbox.wait_for(user.email)
    assert message["Subject"] == "Сброс пароля"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Здравствуйте, Avital Sharansky!" in body
    assert "Someone" not in body


def test_csrf_error_page_is_translated(client):
    response = client.post("/language", data={"lang": "ru"}, headers=RU)
    assert response.status_code == 400
    assert "Срок действия формы истёк" in response.get_data(as_text=True)


def test_wtforms_own_messages_follow_the_page_language(app):
    from wtforms import SelectField

    from ncsej_campaigns.forms import Form

    class Choice(Form):
        class Meta:
            csrf = False

        pick = SelectField(choices=[("a", "A")])

    for headers, expected in ((RU, "Неверный вариант."), (EN, "Not a valid choice.")):
        with app.test_request_context("/", method="POST", data={"pick": "z"}, headers=headers):
            form = Choice()
            assert not form.validate()
            assert form.pick.errors == [expected]
            # Loaded once per language, not per request.
            assert form.meta.get_translations(form) is Choice().meta.get_translations(form)
