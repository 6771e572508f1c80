"""Django settings of the review and reporting web app.

Everything an authority changes comes from environment variables (see README, "The web app"):
the data folder (``WAREHOUSE_DATA_DIR``, as the pipeline), the hosts it answers to, and single
sign-on. The app's own state (accounts, sessions, review decisions, audit and access logs) is a
SQLite file under the data folder; the warehouse is only ever read, from the published copies.
"""

from __future__ import annotations

import os
import secrets

from django.core.exceptions import ImproperlyConfigured

from orchestration.settings import APP_DATABASE, data_dir

# The pipeline's data folder and the app's database in it, as the pipeline knows them.
DATA_DIR = data_dir()
APP_DATABASE_PATH = DATA_DIR / APP_DATABASE
APP_DIR = APP_DATABASE_PATH.parent
SECRET_KEY_FILE = APP_DIR / "secret_key"


def _secret_key() -> str:
    """DJANGO_SECRET_KEY, else the key ``python -m webapp`` keeps in the data folder, else a key
    for this process only (tests; sessions then end with the process)."""
    if os.environ.get("DJANGO_SECRET_KEY"):
        return os.environ["DJANGO_SECRET_KEY"]
    if SECRET_KEY_FILE.exists():
        return SECRET_KEY_FILE.read_text(encoding="utf-8").strip()
    return secrets.token_urlsafe(50)


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("WEBAPP_DEBUG") == "1"
ALLOWED_HOSTS = os.environ.get("WEBAPP_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "webapp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "webapp.urls"
WSGI_APPLICATION = "webapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "webapp.roles.context",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": APP_DATABASE_PATH,
        # The linkage step reads decisions while reviewers write them.
        "OPTIONS": {"timeout": 20, "init_command": "pragma journal_mode=wal;"},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Sessions end after a working day, and when the browser closes.
SESSION_COOKIE_AGE = int(os.environ.get("WEBAPP_SESSION_SECONDS", 8 * 60 * 60))
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Behind the authority's HTTPS proxy set WEBAPP_HTTPS=1 (cookies then only travel over HTTPS).
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = os.environ.get("WEBAPP_HTTPS") == "1"
if os.environ.get("WEBAPP_HTTPS") == "1":
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_TRUSTED_ORIGINS = [f"https://{host}" for host in ALLOWED_HOSTS]
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"

# Failed logins: after this many for one user name within the window, refuse until it passes.
LOGIN_FAILURE_LIMIT = 5
LOGIN_FAILURE_WINDOW_SECONDS = 15 * 60
# And after this many from one client address (whatever the user names), refuse that address
# until the window passes: many names guessed from one machine. Higher than the per-name
# limit, as an office behind one address shares it.
LOGIN_ADDRESS_FAILURE_LIMIT = 20
# How many reverse proxies stand in front of the app, each appending the address it saw to
# X-Forwarded-For: the client's address is the one the nearest of them added (REMOTE_ADDR is
# the proxy's, shared by everyone). One behind the authority's HTTPS proxy (WEBAPP_HTTPS=1),
# none otherwise; WEBAPP_PROXY_COUNT says otherwise.
WEBAPP_PROXY_COUNT = int(
    os.environ.get("WEBAPP_PROXY_COUNT", "1" if os.environ.get("WEBAPP_HTTPS") == "1" else "0")
)

AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}


def _required(name: str) -> str:
    if not os.environ.get(name):
        raise ImproperlyConfigured(
            f"single sign-on is on (OIDC_RP_CLIENT_ID is set) but {name} is not"
        )
    return os.environ[name]


# Single sign-on (OpenID Connect, e.g. Microsoft Entra ID), on when OIDC_RP_CLIENT_ID is set.
# Local accounts keep working beside it (e.g. a break-glass administrator).
OIDC_ENABLED = bool(os.environ.get("OIDC_RP_CLIENT_ID"))
if OIDC_ENABLED:
    INSTALLED_APPS.append("mozilla_django_oidc")
    AUTHENTICATION_BACKENDS.append("webapp.oidc.AuthorityOIDCBackend")
    OIDC_RP_CLIENT_ID = os.environ["OIDC_RP_CLIENT_ID"]
    OIDC_RP_CLIENT_SECRET = _required("OIDC_RP_CLIENT_SECRET")
    OIDC_OP_AUTHORIZATION_ENDPOINT = _required("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = _required("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _required("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = _required("OIDC_OP_JWKS_ENDPOINT")
    OIDC_RP_SIGN_ALGO = os.environ.get("OIDC_RP_SIGN_ALGO", "RS256")
    OIDC_RP_SCOPES = os.environ.get("OIDC_RP_SCOPES", "openid email profile")
    # Which claim holds the user's roles or groups (Entra ID app roles: "roles"), and which of
    # its values mean each role of this app.
    OIDC_ROLE_CLAIM = os.environ.get("OIDC_ROLE_CLAIM", "roles")
    OIDC_ROLE_VALUES = {
        "reviewer": os.environ.get("OIDC_REVIEWER_VALUES", "reviewer").split(","),
        "analyst": os.environ.get("OIDC_ANALYST_VALUES", "analyst").split(","),
    }
