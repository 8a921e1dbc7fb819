"""Sign in and out, password reset by emailed link, password change."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user, logout_user

from ncsej_campaigns.auth import services
from ncsej_campaigns.auth.forms import (
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ResetPasswordForm,
)
from ncsej_campaigns.extensions import db, limiter
from ncsej_campaigns.redirects import safe_next
from ncsej_campaigns.security import private
from ncsej_campaigns.text import normalize_email
from ncsej_campaigns.tokens import TokenError

bp = Blueprint("auth", __name__)


def _login_account_key() -> str:
    return "login-account:" + normalize_email(request.form.get("email", ""))


def _failed_login(response) -> bool:
    # Only failed attempts count toward the limits; a successful sign-in redirects.
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_IP"], methods=["POST"],
               deduct_when=_failed_login)
@limiter.limit(lambda: current_app.config["LOGIN_LIMIT_PER_ACCOUNT"], methods=["POST"],
               key_func=_login_account_key, deduct_when=_failed_login)
def login():
    next_url = safe_next(request.args.get("next"), url_for("public.dashboard"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            db.session.commit()
            login_user(user, remember=form.remember.data)
            return redirect(next_url)
        form.password.errors.append(_("The email or password is not correct."))
        status = 401
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You are signed out."), "info")
    return redirect(url_for("public.home"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        db.session.commit()
        flash(ngettext("If an account exists for %(email)s, a link to reset its password is "
                       "on its way. It is valid for %(num)d minute.",
                       "If an account exists for %(email)s, a link to reset its password is "
                       "on its way. It is valid for %(num)d minutes.",
                       current_app.config["PASSWORD_RESET_MAX_AGE"] // 60,
                       email=form.email.data), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@private
def reset_password(token: str):
    try:
        user = services.user_for_reset_token(token)
    except TokenError as exc:
        message = (_("This reset link has expired. Ask for a new one below.") if exc.expired
                   else _("This reset link is not valid or was already used. "
                          "Ask for a new one below."))
        flash(message, "error")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.set_password(user, form.password.data, actor=user,
                              action="account.password_reset")
        db.session.commit()
        flash(_("Your password was changed. Sign in with the new one."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset_password.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    # The account itself, not the current_user proxy: the audit entry names its table and
    # login_user() keeps the object it is given.
    user = current_user._get_current_object()
    if form.validate_on_submit():
        try:
            services.change_password(user, form.current_password.data, form.password.data)
        except services.AccountError as exc:
            db.session.rollback()
            form.current_password.errors.append(str(exc))
        else:
            db.session.commit()
            login_user(user, fresh=True)
            flash(_("Your password was changed."), "success")
            return redirect(url_for("public.dashboard"))
    return render_template("auth/change_password.html", form=form)
