"""The one settings object of the workbook: target, endpoints, region, bucket, role, keys, app server.

Every value comes from a `WORKBOOK_*` environment variable (or a keyword argument), e.g.

    WORKBOOK_TARGET=aliyun                     local (default) | aliyun
    WORKBOOK_OSS_ENDPOINT=https://oss-cn-hangzhou.aliyuncs.com   a bare host gets https://
    WORKBOOK_STS_ENDPOINT=sts.cn-hangzhou.aliyuncs.com
    WORKBOOK_REGION=cn-hangzhou
    WORKBOOK_BUCKET=my-bucket
    WORKBOOK_ROLE_ARN=acs:ram::<account>:role/<name>
    WORKBOOK_ACCESS_KEY_ID=LTAI...             the app server's RAM user key (only sts:AssumeRole)
    WORKBOOK_ACCESS_KEY_SECRET=...
    WORKBOOK_APPSERVER_PUBLIC_URL=https://app.example.com   what OSS calls back (must be reachable by OSS)
    WORKBOOK_APP_USERS='{"alice": "pw1", "bob": "pw2"}'       demo app users (JSON)
    WORKBOOK_SESSION_SECRET=...                 HMAC key of bearer sessions, >= 32 characters; required
                                                on aliyun and with several workers (random per process
                                                only for the single-process local stack)
    WORKBOOK_CREDENTIALS_FILE=.workbook/credentials.json    local target: read keys, role, users from it
    WORKBOOK_DB_PATH=.workbook/appserver.sqlite3  the SQLite file of recorded uploads

`explain(exc)` turns any error of building Settings into one line per bad variable
(`WORKBOOK_<NAME>: reason`), never with its value.

Secrets are `SecretStr` and unwrapped with `.get_secret_value()` only where used; never log a
Settings object (pydantic-settings #256 echoes inputs inside a ValidationError). No settings are
built at import time: library code receives `settings` as a parameter; `get_settings()` (cached)
is for notebooks only. Imports nothing from `helpers.localcloud`.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    Field,
    ModelWrapValidatorHandler,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings.exceptions import SettingsError

from helpers.protocol.callback_keys import REAL_OSS_KEY_URL_PREFIXES, allowed_key_urls

USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
ENV_PREFIX = "WORKBOOK_"
MIN_SESSION_SECRET = 32
# What must be set explicitly on the aliyun target: there is no credentials file to fill it in, and a
# default (the bucket "workbook", a per-process session secret) would be wrong there.
ALIYUN_REQUIRED = ("bucket", "role_arn", "access_key_id", "access_key_secret", "app_users", "session_secret")


class Settings(BaseSettings):
    """Everything the app server, the client helpers and the notebooks need to know about a target."""

    model_config = SettingsConfigDict(env_prefix="WORKBOOK_", extra="ignore", frozen=True,
                                      hide_input_in_errors=True)

    target: Literal["local", "aliyun"] = "local"
    oss_endpoint: str = ""
    sts_endpoint: str = ""
    region: str = "cn-hangzhou"
    bucket: str = "workbook"
    role_arn: str = ""
    access_key_id: str = ""
    access_key_secret: SecretStr = SecretStr("")
    appserver_public_url: str = ""
    sts_duration_seconds: int = Field(900, ge=900, le=43200)
    sts_refresh_margin_seconds: int = Field(300, ge=0)
    signature_version: Literal["v4", "v1"] = "v4"
    signed_url_default_expires: int = Field(300, ge=1)
    max_upload_bytes: int = Field(100 * 1024 * 1024, ge=1)
    credentials_file: Path | None = None
    app_users: dict[str, SecretStr] = Field(default_factory=dict)
    db_path: Path = Path(".workbook/appserver.sqlite3")
    session_secret: SecretStr = Field(default_factory=lambda: SecretStr(secrets.token_urlsafe(32)))
    session_ttl_seconds: int = Field(3600, ge=60)
    callback_key_url_prefixes: tuple[str, ...] = REAL_OSS_KEY_URL_PREFIXES

    @field_validator("oss_endpoint", "sts_endpoint", "appserver_public_url")
    @classmethod
    def _url(cls, value: str) -> str:
        # A bare host gets https://, as alibabacloud-oss-v2 (endpoints.add_scheme) and both STS SDKs
        # (tea's protocol "HTTPS", aliyunsdksts's AssumeRoleRequest) do; oss2 alone would pick http://.
        url = value.strip()
        if not url:
            return ""
        if "://" not in url:
            url = "https://" + url
        parts = urlsplit(url)
        url = url.rstrip("/")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be a host or an http:// or https:// URL, "
                             "e.g. sts.cn-hangzhou.aliyuncs.com or http://127.0.0.1:9000")
        return url

    @field_validator("session_secret")
    @classmethod
    def _long_secret(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_SESSION_SECRET:
            raise ValueError(f"must be at least {MIN_SESSION_SECRET} characters "
                             "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
        return value

    @field_validator("app_users")
    @classmethod
    def _usernames(cls, value: dict[str, SecretStr]) -> dict[str, SecretStr]:
        # A username becomes the folder `users/<username>/`, so it must be a safe path segment.
        for name in value:
            if not USERNAME_RE.match(name):
                raise ValueError("app user names must be 1-32 of A-Z a-z 0-9 . _ - (starting alphanumeric)")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _required_on_aliyun(cls, data: Any, handler: ModelWrapValidatorHandler[Settings]) -> Settings:
        # Around the whole validation, so a missing variable is reported together with every bad
        # one (an "after" check would be skipped while any field is invalid).
        settings: Settings | None = None
        errors: list[Any] = []
        try:
            settings = handler(data)
        except ValidationError as exc:
            errors = list(exc.errors())
        raw = data if isinstance(data, dict) else {}
        aliyun = settings.target == "aliyun" if settings is not None else raw.get("target") == "aliyun"
        if aliyun:
            bad = {str(e["loc"][0]) for e in errors if e.get("loc")}
            for name in ALIYUN_REQUIRED:
                if settings is not None:  # valid, but a default or empty does not count as given
                    given = getattr(settings, name) if name in settings.model_fields_set else None
                else:
                    given = raw.get(name)
                if name not in bad and not given:
                    errors.append(InitErrorDetails(type=PydanticCustomError(
                        "required_on_aliyun", "required on the aliyun target"), loc=(name,), input=None))
        if errors or settings is None:
            raise ValidationError.from_exception_data(cls.__name__, errors, hide_input=True)
        return settings

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.sts_refresh_margin_seconds >= self.sts_duration_seconds:
            # A model-level error has no field: its message names the variables (explain() prints it).
            raise ValueError(f"{env_name('sts_refresh_margin_seconds')}: must be smaller than "
                             f"{env_name('sts_duration_seconds')}")
        return self

    # ------------------------------------------------------------------------------------ builders

    @classmethod
    def from_credentials_file(cls, path: str | Path, *, oss_endpoint: str, sts_endpoint: str,
                              **overrides: Any) -> Settings:
        """Local-target settings from the credentials file `python -m helpers.stack up` writes.

        Takes the app server's RAM key, the role ARN and the demo app users from the file; the
        endpoints and anything else come from the arguments (then the environment).
        """
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        values: dict[str, Any] = {
            "target": "local", "oss_endpoint": oss_endpoint, "sts_endpoint": sts_endpoint,
            "role_arn": doc["role_arn"], "access_key_id": doc["appserver"]["access_key_id"],
            "access_key_secret": SecretStr(doc["appserver"]["access_key_secret"]),
            "app_users": {u["username"]: SecretStr(u["password"]) for u in doc.get("app_users", [])},
            "credentials_file": Path(path),
        }
        values.update(overrides)
        return cls(**values)

    # ------------------------------------------------------------------------------------- derived

    def allowed_key_urls(self) -> tuple[str, ...]:
        """Callback public-key URL prefixes: the configured ones, plus the local cloud's own key URL
        (an exact URL, no trailing slash) when the target is local."""
        return allowed_key_urls(self.oss_endpoint, local=self.target == "local",
                                prefixes=self.callback_key_url_prefixes)

    def callback_url(self) -> str:
        """Where OSS posts upload callbacks: `<appserver_public_url>/api/callback` ('' if unknown)."""
        return f"{self.appserver_public_url}/api/callback" if self.appserver_public_url else ""


def env_name(field: str) -> str:
    """The environment variable of a Settings field: `WORKBOOK_<FIELD>`."""
    return ENV_PREFIX + field.upper()


def settings_variables() -> tuple[str, ...]:
    """Every environment variable Settings reads (`WORKBOOK_<FIELD>` of each field)."""
    return tuple(env_name(name) for name in Settings.model_fields)


def explain(exc: Exception) -> list[str]:
    """One line per bad setting, `WORKBOOK_<NAME>: reason`, for any error of building Settings.

    Never contains a value: pydantic's messages are templates (the input is kept apart and dropped
    here) and pydantic-settings' parse errors name only the field."""
    if isinstance(exc, ValidationError):
        lines = []
        for error in exc.errors(include_input=False, include_url=False):
            msg = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
            loc = error.get("loc") or ()
            if loc:
                lines.append(f"{env_name(str(loc[0]))}: {msg}")
            else:  # a model-level check: its lines already name their variables
                lines += msg.splitlines()
        return lines
    if isinstance(exc, SettingsError):
        found = re.search(r'field "([a-z_]+)"', str(exc))
        if found:
            return [f"{env_name(found.group(1))}: not valid JSON"]
    if isinstance(exc, OSError):
        return [f"{env_name('credentials_file')}: cannot read {exc.filename}: {exc.strerror}"]
    if isinstance(exc, KeyError | json.JSONDecodeError):
        return [f"{env_name('credentials_file')}: not a credentials file of `stack up` "
                f"({type(exc).__name__})"]
    return [f"settings: {type(exc).__name__}"]


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment; on the local target a credentials file fills in keys and users."""
    base = Settings(**overrides)
    if base.target == "local" and base.credentials_file and not base.access_key_id:
        explicit = {k: v for k, v in overrides.items() if k not in ("oss_endpoint", "sts_endpoint")}
        explicit.pop("credentials_file", None)
        return Settings.from_credentials_file(base.credentials_file, oss_endpoint=base.oss_endpoint,
                                              sts_endpoint=base.sts_endpoint, **explicit)
    return base


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Cached settings for notebooks; library code takes `settings` as a parameter instead."""
    return load_settings()
