"""Command line: ``flask --app wsgi users create ...``, ``flask --app wsgi seed-demo``."""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from ncsej_campaigns.extensions import db

users_cli = AppGroup("users", help="Manage accounts.")


@users_cli.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "coordinator", "federation"]),
              required=True)
@click.option("--org", "org_slug", default=None,
              help="Organization slug (required for federation representatives).")
@click.option("--password", required=True, help="Initial password (10 characters or more).")
@click.option("--name", "full_name", default="", help="Full name.")
def create_user_command(email, role, org_slug, password, full_name):
    """Create an account."""
    from ncsej_campaigns.auth.models import Role
    from ncsej_campaigns.auth.passwords import MIN_PASSWORD_LENGTH
    from ncsej_campaigns.auth.services import AccountError, create_user
    from ncsej_campaigns.organizations.services import get_by_slug

    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.UsageError(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    org = None
    if org_slug:
        org = get_by_slug(org_slug)
        if org is None:
            raise click.UsageError(f"No organization with slug {org_slug!r}.")
    try:
        user = create_user(email=email, password=password, role=Role(role), organization=org,
                           full_name=full_name)
    except AccountError as exc:
        db.session.rollback()
        raise click.UsageError(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.role.value} account {user.email}"
               + (f" for {org.slug}" if org else ""))


@click.command("seed-demo")
@with_appcontext  # a plain click command gets no app context outside the `flask` launcher
def seed_demo_command():
    """Load a realistic demo coalition; running it again adds nothing twice."""
    from ncsej_campaigns.demo import seed_demo

    logins = seed_demo()
    db.session.commit()
    click.echo("Demo data is ready. Sign in at /login with any of these:")
    for email, role, password in logins:
        click.echo(f"  {role:<12} {email:<40} password: {password}")


def register(app: Flask) -> None:
    app.cli.add_command(users_cli)
    app.cli.add_command(seed_demo_command)
