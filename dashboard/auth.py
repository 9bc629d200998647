"""Who is using the app, and what they may open: the one place that decides.

Two ways in, chosen by configuration:

- **Deployed**: the department's OpenID Connect provider, through Streamlit's `st.login` (an `[auth]`
  section in `.streamlit/secrets.toml`). Faculty are the signed-in users whose verified e-mail is in
  the faculty list (`MYOTUTOR_FACULTY_EMAILS`, or `faculty_emails` under `[myotutor]` in the secrets);
  everyone else signed in is a learner under their own identity.
- **Embedded** (no provider configured): a learner starts with a display name and gets a personal
  resume code, shown once, which with the name opens their records from any browser; faculty type
  the passcode set by `MYOTUTOR_FACULTY_PASSCODE` (or `MYOTUTOR_FACULTY_PASSCODE_HASH`, or
  `faculty_passcode[_hash]` under `[myotutor]` in the secrets). No passcode ships: without one,
  nobody is faculty and the faculty pages say how to set it.

An embedded sign-in is a row in the store (`sign_in_sessions`, only the token's hash kept), named by a
random token that lives in this session's state and in a cookie, so a reload keeps the learner signed
in. A cookie, not a query parameter: a URL gets projected, bookmarked and shared, a cookie does not
leave the browser it was set in. Every run checks the token against the store, so nothing a browser
sends (a URL, a query parameter, a widget value, a forged session-state entry) can make anyone faculty
or someone else. Faculty pages call `require_faculty()` first; the navigation lists them only for
faculty, and a learner who opens one by its URL is refused by that call, on the server.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import icons
from dashboard import secrets_hash as sh
from dashboard.common import get_store, plain
from dashboard.store import CohortInfo, NameTaken, RateLimited, Store

log = logging.getLogger(__name__)
COOKIE = "myotutor_session"
TOKEN_KEY = "_auth_token"  # session state: this session's embedded sign-in token
USER_KEY = "_auth_user"  # session state: (token, User) last confirmed by the store
OIDC_KEY = "_auth_oidc"  # session state: (e-mail, learner id) of the signed-in OIDC user
COOKIE_KEY = "_auth_cookie"  # session state: a cookie to set ("" to clear) on the next run
COHORT_KEY = "active_cohort"  # the sidebar's cohort choice (a cohort id, or 0 for none)
DEAD_COOKIE_KEY = "_auth_dead_cookie"
COOKIE_READ_KEY = "_auth_cookie_read"
RUN_USER_KEY = "_auth_run_user"  # the user resolved by app.py for the page of the current run
PASSCODE_LIMIT, PASSCODE_WINDOW_S = 5, 300  # wrong passcodes per client, per 5 minutes
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")

Role = Literal["guest", "learner", "faculty"]


@dataclass(frozen=True)
class User:
    role: Role = "guest"
    name: str = ""
    learner_id: int | None = None  # whose attempts are saved (faculty signed in by OIDC have one too)
    email: str | None = None
    via: Literal["none", "oidc", "code", "passcode"] = "none"

    @property
    def is_faculty(self) -> bool:
        return self.role == "faculty"

    @property
    def signed_in(self) -> bool:
        return self.role != "guest"


GUEST = User()


# ------------------------------------------------------------------------------------ configuration
def _secret_section(name: str) -> dict[str, Any]:
    try:
        section = st.secrets.get(name)
    except Exception:  # no secrets file, or one that does not parse: nothing configured
        return {}
    return dict(section) if section else {}


def oidc_configured() -> bool:
    """Whether a provider is configured ([auth] in secrets with a client id, directly or per provider)."""
    auth = _secret_section("auth")
    return bool(
        auth.get("client_id") or any(isinstance(v, dict) and v.get("client_id") for v in auth.values())
    )


def provider_label() -> str:
    return str(_secret_section("myotutor").get("provider_label") or "your institution's account")


def faculty_emails() -> frozenset[str]:
    """The faculty list: $MYOTUTOR_FACULTY_EMAILS (comma separated) and faculty_emails in [myotutor]."""
    listed = [e for e in os.environ.get("MYOTUTOR_FACULTY_EMAILS", "").split(",")]
    configured = _secret_section("myotutor").get("faculty_emails") or []
    listed += [configured] if isinstance(configured, str) else list(configured)
    return frozenset(e.strip().lower() for e in listed if e and e.strip())


@st.cache_resource(show_spinner=False, max_entries=4)
def _hash_of(passcode: str) -> str:
    return sh.hash_secret(passcode)


def passcode_hash() -> str | None:
    """The faculty passcode's hash, or None if no passcode is set (then nobody is faculty)."""
    section = _secret_section("myotutor")
    ready = os.environ.get("MYOTUTOR_FACULTY_PASSCODE_HASH") or section.get("faculty_passcode_hash")
    if ready:
        return str(ready)
    plain = os.environ.get("MYOTUTOR_FACULTY_PASSCODE") or section.get("faculty_passcode")
    return _hash_of(str(plain)) if plain else None


HOW_TO_SET_PASSCODE = (
    "Faculty pages need a faculty passcode, and none is set on this server. Set the environment "
    "variable `MYOTUTOR_FACULTY_PASSCODE` (or `faculty_passcode` under `[myotutor]` in "
    "`.streamlit/secrets.toml`) and restart the app. See the README, *Running it for a department*."
)


# -------------------------------------------------------------------------------------- who is here
def _oidc_user(store: Store | None) -> User:
    info = st.user
    if not info.get("is_logged_in"):
        return GUEST
    email = str(info.get("email") or "").strip().lower()
    name = str(info.get("name") or email)
    verified = info.get("email_verified") is not False  # providers that do not say are trusted
    role: Role = "faculty" if email and verified and email in faculty_emails() else "learner"
    learner_id = None
    cached = st.session_state.get(OIDC_KEY)
    if isinstance(cached, tuple) and len(cached) == 2 and cached[0] == email:
        learner_id = cached[1]
    elif store is not None and email:
        try:
            learner_id = store.oidc_learner(email, name)
            st.session_state[OIDC_KEY] = (email, learner_id)
        except (SQLAlchemyError, ValueError) as exc:
            log.warning("auth: no learner record for an OIDC user: %s", exc)
    return User(role, name, learner_id, email, "oidc")


def _token() -> str | None:
    token = st.session_state.get(TOKEN_KEY)
    if not token and not st.session_state.get(COOKIE_READ_KEY):
        # The cookies are those of the request that opened this session: read them once.
        st.session_state[COOKIE_READ_KEY] = True
        try:
            token = st.context.cookies.get(COOKIE)
        except Exception:  # no browser behind this run (bare mode): no cookie
            token = None
        if token and token == st.session_state.get(DEAD_COOKIE_KEY):
            return None
    return token if isinstance(token, str) and _TOKEN.fullmatch(token) else None


def _embedded_user(store: Store | None) -> User:
    token = _token()
    if token is None:
        return GUEST
    st.session_state[TOKEN_KEY] = token  # checked below, or once the store answers again
    cached = st.session_state.get(USER_KEY)
    if store is None:
        # The store is down: a learner already confirmed stays named (their play goes on unsaved);
        # faculty rights are never granted without the store.
        if isinstance(cached, tuple) and cached[0] == token and isinstance(cached[1], User):
            return cached[1] if not cached[1].is_faculty else GUEST
        return GUEST
    try:
        found = store.session(token)
    except SQLAlchemyError:
        return _embedded_user(None)
    if found is None:  # ended, expired or never issued
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state[DEAD_COOKIE_KEY] = token
        return GUEST
    st.session_state[TOKEN_KEY] = token
    if found.role == "faculty":
        user = User("faculty", "Faculty", None, None, "passcode")
    else:
        user = User("learner", found.name or "", found.learner_id, None, "code")
    st.session_state[USER_KEY] = (token, user)
    return user


def current_user() -> User:
    """Who is signed in, and their role, checked with the store. In a page, prefer page_user() (the
    same answer, resolved once per run by app.py); in a callback (which runs before app.py), call this."""
    store = get_store()
    return _oidc_user(store) if oidc_configured() else _embedded_user(store)


def resolve_for_run() -> User:
    """app.py, at the start of every run: resolve the user once for the pages of this run."""
    user = current_user()
    st.session_state[RUN_USER_KEY] = user
    return user


def end_of_run() -> None:
    """app.py, after the page ran: the resolved user is valid for that run only."""
    st.session_state.pop(RUN_USER_KEY, None)


def page_user() -> User:
    """The user app.py resolved for this run (or, for a page run on its own, resolved now)."""
    user = st.session_state.get(RUN_USER_KEY)
    return user if isinstance(user, User) else current_user()


def require_faculty() -> User | None:
    """The faculty user, or None after telling the visitor, on the page, why they cannot see it."""
    user = current_user()  # checked afresh: a faculty page never relies on anything cached
    if user.is_faculty:
        return user
    st.error("This page is for faculty.", icon=icons.LOCKED)
    if not oidc_configured() and passcode_hash() is None:
        st.info(HOW_TO_SET_PASSCODE)
    elif not user.signed_in or user.via != "oidc":
        st.page_link(st.session_state["_pages"]["account"], label="Sign in as faculty", icon=icons.SIGN_IN)
    return None


# ----------------------------------------------------------------------------- embedded sign-in
def _remember(store: Store, role: str, learner_id: int | None) -> None:
    token = store.start_session(role, learner_id)
    st.session_state[TOKEN_KEY] = token
    st.session_state[COOKIE_KEY] = token
    st.session_state.pop(DEAD_COOKIE_KEY, None)
    st.session_state.pop(USER_KEY, None)


UNAVAILABLE = "Signing in needs the database, which is not answering right now. Try again in a minute."


def start_learner(name: str) -> tuple[str | None, str | None]:
    """Create a named learner and sign in: (resume code to show once, None) or (None, message)."""
    store = get_store()
    if store is None:
        return None, UNAVAILABLE
    try:
        learner_id, code = store.new_named_learner(name)
        _remember(store, "learner", learner_id)
    except NameTaken:
        return (
            None,
            "That name is taken. If it is yours, continue with your resume code; else choose another.",
        )
    except ValueError:
        return None, "Type a name of 1 to 80 characters."
    except SQLAlchemyError:
        return None, UNAVAILABLE
    return sh.format_code(code), None


def resume_learner(name: str, code: str) -> str | None:
    """Sign in with a name and its resume code; None when signed in, else a message."""
    store = get_store()
    if store is None:
        return UNAVAILABLE
    try:
        learner_id = store.resume_named(name, code)
        if learner_id is None:
            return "That name and resume code do not match."
        _remember(store, "learner", learner_id)
    except RateLimited as limited:
        return (
            f"Too many wrong codes for this name. Try again in {max(1, round(limited.retry_after / 60))} min."
        )
    except SQLAlchemyError:
        return UNAVAILABLE
    return None


def sign_in_faculty(passcode: str) -> str | None:
    """Sign in as faculty with the passcode; None when signed in, else a message. Wrong passcodes are
    counted in the store per client address, so the limit holds across server processes."""
    expected = passcode_hash()
    if expected is None:
        return HOW_TO_SET_PASSCODE
    store = get_store()
    if store is None:
        return UNAVAILABLE
    key = f"passcode:{_client()}"
    try:
        store.check_rate(key, PASSCODE_LIMIT, PASSCODE_WINDOW_S)
        if not sh.verify_secret(passcode, expected):
            store.record_failure(key)
            return "Wrong passcode."
        store.clear_failures(key)
        _remember(store, "faculty", None)
    except RateLimited as limited:
        return f"Too many wrong passcodes. Try again in {max(1, round(limited.retry_after / 60))} min."
    except SQLAlchemyError:
        return UNAVAILABLE
    return None


def _client() -> str:
    try:
        address = st.context.ip_address
    except Exception:  # no client behind this run
        return "local"
    return address if isinstance(address, str) and address else "local"  # localhost gives None


def sign_out() -> None:
    """End this browser's sign-in (the store forgets the token; the cookie is cleared)."""
    if oidc_configured() and st.user.get("is_logged_in"):
        st.session_state.pop(OIDC_KEY, None)
        st.logout()
        return
    token = _token()
    store = get_store()
    if token and store is not None:
        try:
            store.end_session(token)
        except SQLAlchemyError as exc:
            log.warning("auth: sign-out not recorded: %s", exc)
    for key in (TOKEN_KEY, USER_KEY, COHORT_KEY):
        st.session_state.pop(key, None)
    if token:
        st.session_state[DEAD_COOKIE_KEY] = token
    st.session_state[COOKIE_KEY] = ""


def sync_cookie() -> None:
    """Set (or clear) the sign-in cookie in the browser after a sign-in or sign-out; app.py calls it.
    The value is our own random token (checked against _TOKEN), never anything a request carried."""
    value = st.session_state.pop(COOKIE_KEY, None)
    if value is None or (value and not _TOKEN.fullmatch(value)):
        return
    age = 30 * 24 * 3600 if value else 0
    st.html(
        "<script>document.cookie = '"
        f"{COOKIE}={value}; Max-Age={age}; Path=/; SameSite=Strict'"
        " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
        width="content",
    )


# ------------------------------------------------------------------------------------------ cohorts
def my_cohorts(user: User) -> list[CohortInfo]:
    """The active cohorts of a learner (none for guests, or when the store is down)."""
    store = get_store()
    if user.learner_id is None or store is None:
        return []
    try:
        return store.memberships(user.learner_id)
    except SQLAlchemyError:
        return []


def active_cohort_id(user: User) -> int | None:
    """The cohort a learner's attempts are recorded in: the one picked in the sidebar, if the learner
    is (still) an active member of it; by default the most recently joined active cohort."""
    cohorts = my_cohorts(user)
    chosen = st.session_state.get(COHORT_KEY)
    ids = [c.id for c in cohorts]
    if chosen == 0:
        return None
    if chosen in ids:
        return int(chosen)
    return ids[0] if ids else None


def sidebar(user: User) -> None:
    """Who is signed in, the cohort their attempts go to, and the way to the account page."""
    account = st.session_state["_pages"]["account"]
    if not user.signed_in:
        st.sidebar.page_link(account, label="Sign in to save your progress", icon=icons.SIGN_IN)
        return
    if user.via == "passcode":
        st.sidebar.markdown("Signed in as **faculty**")
    else:
        st.sidebar.markdown(
            f"Signed in as **{plain(user.name)}**" + (" · faculty" if user.is_faculty else "")
        )
    cohorts = my_cohorts(user)
    if cohorts:
        names = {c.id: plain(c.name) for c in cohorts} | {0: "No cohort (self-paced)"}
        current = active_cohort_id(user)
        st.session_state[COHORT_KEY] = current if current is not None else 0
        st.sidebar.selectbox(
            "Recording answers for",
            list(names),
            format_func=lambda cohort_id: names.get(cohort_id, "(not one of your cohorts)"),
            key=COHORT_KEY,
            help="Your attempts count in this cohort's results. Choose another cohort, or none.",
        )
