"""Portico settings: one file, read from the environment with small typed readers that fail loudly."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("PORTICO_VAR_DIR", PROJECT_DIR / "var"))


def envstr(name: str, default: str) -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name: str, default: int | None) -> int | None:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


DEBUG = envbool("DEBUG", False)
TESTING = envbool("PORTICO_TESTING", False)
SECRET_KEY = envstr("SECRET_KEY", "")
if not SECRET_KEY:
    if DEBUG or TESTING or envbool("PORTICO_DEMO", False):
        SECRET_KEY = "portico-insecure-development-key-do-not-use-in-production"
    else:
        raise ImproperlyConfigured("Set SECRET_KEY (or DEBUG=true / PORTICO_DEMO=true for a local demo).")

PORTICO_BASE_DOMAIN = envstr("PORTICO_BASE_DOMAIN", "localhost").lower()
PORTICO_HTTPS = envbool("PORTICO_HTTPS", False)
PORTICO_PUBLIC_PORT = envint("PORTICO_PUBLIC_PORT", None)
# `make run`'s demo identity provider (the SSO tests' OpenID Connect provider, started by
# scripts/serve.sh): the demo's "Sign in with Demo identity provider" connection points at it.
PORTICO_DEMO_IDP_PORT = envint("PORTICO_DEMO_IDP_PORT", 8009)
# The business API's rate limit: requests per key per fixed window of seconds (portico.api.ratelimit).
PORTICO_API_RATE_LIMIT = envint("PORTICO_API_RATE_LIMIT", 100)
PORTICO_API_RATE_WINDOW = envint("PORTICO_API_RATE_WINDOW", 10)
# The largest document staff may share with customers (engagement.documents), in bytes.
PORTICO_DOCUMENT_MAX_BYTES = envint("PORTICO_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
# The bare base domain serves the platform's own pages (health, platform console).
PORTICO_PLATFORM_HOSTS = {PORTICO_BASE_DOMAIN, "127.0.0.1", "[::1]"} | {
    h for h in envstr("PORTICO_PLATFORM_HOSTS", "").split(",") if h
}
ALLOWED_HOSTS = ["*"]  # the tenant middleware answers 404 for any host that is not a tenant's


def envnameservers(name: str) -> list[tuple[str, int]]:
    """`127.0.0.1:5353,10.0.0.2,[::1]:53` → [(address, port)]; empty: the system's resolvers."""
    import ipaddress

    servers = []
    for item in (part.strip() for part in os.environ.get(name, "").split(",")):
        if not item:
            continue
        address, port = item, "53"
        if item.startswith("["):
            address, _, rest = item[1:].partition("]")
            port = rest.removeprefix(":") or "53"
        elif item.count(":") == 1:
            address, port = item.split(":")
        try:
            ipaddress.ip_address(address)
            servers.append((address, int(port)))
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must list IP addresses with optional ports (127.0.0.1:5353), not {item!r}"
            ) from None
    return servers


# Custom domains (core/domains.py): a business points its host at PORTICO_CNAME_TARGET with a CNAME
# and proves it holds the zone with a TXT record; "Verify" asks these DNS servers (the system's
# resolvers when unset), giving up after PORTICO_DNS_TIMEOUT seconds.
PORTICO_CNAME_TARGET = envstr("PORTICO_CNAME_TARGET", PORTICO_BASE_DOMAIN).lower().rstrip(".")
PORTICO_DNS_NAMESERVERS = envnameservers("PORTICO_DNS_NAMESERVERS")
PORTICO_DNS_TIMEOUT = envint("PORTICO_DNS_TIMEOUT", 5)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "allauth.socialaccount",  # single sign-on: per-organization connections (accounts/sso.py)
    "allauth.socialaccount.providers.openid_connect",
    "allauth.socialaccount.providers.saml",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # the API docs' own static files (no CDN)
    "portico.core",
    "portico.customers",
    "portico.accounts",
    "portico.catalog",
    "portico.billing",
    "portico.payments",
    "portico.subscriptions",
    "portico.projects",
    "portico.engagement",
    "portico.notifications",
    "portico.portal",
    "portico.console",
    "portico.api",
    "portico.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "portico.accounts.sso_views.SsoFormActionMiddleware",  # sign-in forms may go on to an IdP
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portico.core.middleware.TenantMiddleware",
    "portico.api.middleware.ApiKeyMiddleware",  # /api/v1/: the key, its organization, limits
    "portico.core.middleware.FormInputMiddleware",
    "portico.core.middleware.PrivateCacheMiddleware",  # outside auth: sees request.user on the way out
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "portico.portal.middleware.SessionActivityMiddleware",  # allauth's, written once a minute
    "portico.portal.middleware.MfaRequiredMiddleware",
]

ROOT_URLCONF = "portico.urls"
WSGI_APPLICATION = "portico.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],  # overrides of third-party templates (allauth, admin)
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portico.portal.context_processors.organization",
            ],
        },
    }
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'portico.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers proceed during a write; IMMEDIATE makes a writing transaction take the
    # lock up front, so select_for_update-style critical sections serialize instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ["TEST_DATABASE_NAME"]}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["portico.accounts.backends.TenantAuthenticationBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SILENCED_SYSTEM_CHECKS = [
    # Users are unique per organization (the same email may exist at two), not globally.
    "auth.W004",
    # Covering indexes (`Index(include=…)`) are a PostgreSQL speed-up; SQLite builds the same index
    # on its key columns only, which is what we want there.
    "models.W040",
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/portal/"
ACCOUNT_ADAPTER = "portico.accounts.adapters.PortalAccountAdapter"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
# Unique *per organization*: allauth's email lookup is wrapped to see only the active tenant's users
# (accounts/tenant_emails.py), and accounts migration 0003 drops allauth's global unique index.
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_GET = False
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PASSWORD_RESET_BY_CODE_ENABLED = False
ACCOUNT_PASSWORD_RESET_TOKEN_GENERATOR = "portico.accounts.tokens.ClockPasswordResetTokenGenerator"
PASSWORD_RESET_TIMEOUT = 24 * 60 * 60  # a reset link works for a day (Django's default is three)
ACCOUNT_PREVENT_ENUMERATION = True
# Failed sign-ins are counted in the database by accounts/lockout.py (shared by every worker, timed
# by core.clock); allauth's per-process cache limiter for them is off. Its other limits stay on.
ACCOUNT_RATE_LIMITS = {"login_failed": False, "reset_password": "20/m/ip"}
ACCOUNT_FORMS = {
    "login": "portico.accounts.forms.PortalLoginForm",
    "reset_password": "portico.accounts.forms.LimitedResetPasswordForm",
}
ACCOUNT_EMAIL_NOTIFICATIONS = True  # password changed/reset, second factor added/removed
MFA_ADAPTER = "portico.accounts.adapters.PortalMFAAdapter"
# Single sign-on: each organization's connections are its own (accounts.SsoConnection), served to
# allauth as apps built per request; there are no global provider settings. The provider classes
# add what allauth leaves out: an OpenID Connect nonce and id_token signature checks, and SAML
# assertions used once (accounts/sso.py).
SOCIALACCOUNT_ADAPTER = "portico.accounts.sso.PortalSocialAccountAdapter"
SOCIALACCOUNT_PROVIDERS = {
    "openid_connect": {"provider_class": "portico.accounts.sso.PortalOIDCProvider"},
    "saml": {"provider_class": "portico.accounts.sso.PortalSAMLProvider"},
}
SOCIALACCOUNT_AUTO_SIGNUP = True  # a new contact is made only where the connection allows it
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False  # linking by email is ours, verified and tenant-scoped
SOCIALACCOUNT_EMAIL_VERIFICATION = "none"
SOCIALACCOUNT_STORE_TOKENS = False  # sign-in only: no provider tokens are kept
SOCIALACCOUNT_LOGIN_ON_GET = False  # a provider is left only by a POST (CSRF-protected)
SOCIALACCOUNT_REQUESTS_TIMEOUT = 10
MFA_FORMS = {
    "authenticate": "portico.accounts.forms.LimitedAuthenticateForm",
    "reauthenticate": "portico.accounts.forms.LimitedReauthenticateForm",
    "activate_totp": "portico.accounts.forms.SingleUseActivateTOTPForm",
}
MFA_RECOVERY_CODES_SHOW_ONCE = True  # shown (and downloadable) right after they are made, then never
MFA_TOTP_TOLERANCE = 1  # accept the code of the previous/next 30 s step (clock drift of phones)
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG or TESTING
USERSESSIONS_TRACK_ACTIVITY = True

SESSION_COOKIE_NAME = "portico_session"
# Host-only cookies (no Domain attribute): a session or CSRF cookie set on one tenant's host, or on a
# business's custom domain, is never sent to another host. Never set these to the base domain.
SESSION_COOKIE_DOMAIN = None
CSRF_COOKIE_DOMAIN = None
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PORTICO_HTTPS
CSRF_COOKIE_SECURE = PORTICO_HTTPS
CSRF_FAILURE_VIEW = "portico.core.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"
# Scripts only from our origin or with the per-request nonce (allauth's passkey pages load static
# scripts and JSON data blocks, which CSP allows). Inline style attributes stay allowed.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
if PORTICO_HTTPS:
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
# Uploaded files (logos, documents, PDFs, exports): the local disk, or an S3-compatible bucket
# (AWS S3, MinIO, Ceph, R2…) through django-storages (`pip install 'portico[s3]'`) when
# PORTICO_S3_BUCKET is set — private objects, reached through short-lived signed addresses only.
S3_BUCKET = envstr("PORTICO_S3_BUCKET", "")
DEFAULT_STORAGE = (
    {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": envstr("PORTICO_S3_ENDPOINT_URL", "") or None,
            "region_name": envstr("PORTICO_S3_REGION", "") or None,
            "access_key": envstr("PORTICO_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": envstr("PORTICO_S3_SECRET_ACCESS_KEY", "") or None,
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": 300,
            "file_overwrite": False,
        },
    }
    if S3_BUCKET
    else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
)
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

EMAIL_URL = envstr(
    "EMAIL_URL", "console://" if DEBUG or envbool("PORTICO_DEMO", False) else "smtp://127.0.0.1:25"
)


def _email_settings(url: str) -> dict:
    from urllib.parse import parse_qs, unquote, urlparse

    parsed = urlparse(url)
    if parsed.scheme == "console":
        return {"EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"}
    if parsed.scheme == "locmem":
        return {"EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if parsed.scheme not in {"smtp", "smtps", "submission"}:
        raise ImproperlyConfigured(f"EMAIL_URL scheme must be smtp, smtps, submission or console: {url!r}")
    query = parse_qs(parsed.query)
    return {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": parsed.hostname or "127.0.0.1",
        "EMAIL_PORT": parsed.port or {"smtp": 25, "smtps": 465, "submission": 587}[parsed.scheme],
        "EMAIL_HOST_USER": unquote(parsed.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parsed.password or ""),
        "EMAIL_USE_SSL": parsed.scheme == "smtps",
        "EMAIL_USE_TLS": parsed.scheme == "submission" or query.get("tls") == ["1"],
        "EMAIL_TIMEOUT": 10,
    }


globals().update(_email_settings(EMAIL_URL))
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Portico <billing@portico.localhost>")

PAYMENT_GATEWAY = envstr("PAYMENT_GATEWAY", "test")
if PAYMENT_GATEWAY not in {"test", "stripe", "offline"}:
    raise ImproperlyConfigured(f"PAYMENT_GATEWAY must be test, stripe or offline, not {PAYMENT_GATEWAY!r}")
STRIPE_SECRET_KEY = envstr("STRIPE_SECRET_KEY", "")
STRIPE_API_BASE = envstr("STRIPE_API_BASE", "")

TASKS = {"default": {"BACKEND": envstr("TASKS_BACKEND", "django_tasks_db.DatabaseBackend")}}

# Outgoing webhooks never go to this machine or a private network (SSRF); loopback (and plain http
# to it) only in development, tests and the demo; a private network only where the install says so.
PORTICO_WEBHOOKS_ALLOW_LOOPBACK = envbool(
    "PORTICO_WEBHOOKS_ALLOW_LOOPBACK", DEBUG or TESTING or envbool("PORTICO_DEMO", False)
)
# A chat widget's script is https on its provider's domains; a stand-in on this machine over plain
# http (development, the browser tests) only where this is on.
PORTICO_CHAT_ALLOW_LOOPBACK = envbool("PORTICO_CHAT_ALLOW_LOOPBACK", DEBUG or TESTING)
PORTICO_WEBHOOKS_ALLOW_PRIVATE = envbool("PORTICO_WEBHOOKS_ALLOW_PRIVATE", False)

# Email replies into conversations (engagement.inbound): the domain of the signed reply-to addresses
# (unset: no reply address, customers answer in the portal) and the shared secret the inbound-mail
# webhook must present (unset: the webhook refuses every request).
PORTICO_INBOUND_DOMAIN = envstr("PORTICO_INBOUND_DOMAIN", "").lower()
PORTICO_INBOUND_SECRET = envstr("PORTICO_INBOUND_SECRET", "")

# Error reports hide card fields of every request (core/reporting.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "portico.core.reporting.CardSafeExceptionReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"forbidden_one_line": {"()": "portico.core.logfilters.ForbiddenWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # A 403 is an expected refusal: one warning line, no traceback.
        "django.request": {"filters": ["forbidden_one_line"]},
        "django.security": {"filters": ["forbidden_one_line"]},
        # WeasyPrint reports every layout step at INFO: one line per PDF page.
        "weasyprint": {"level": "WARNING"},
        "weasyprint.progress": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
