"""Bot configuration from `GITOPS_HEALTH_*` environment variables, checked once at start.

Every problem is reported as one `SettingsError` line naming the variable to fix. A forge is
"configured" when it has both credentials and a webhook secret; the bot starts with none
configured and answers their webhooks with 404 until they are.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "GITOPS_HEALTH_"
DEFAULT_MAX_BODY_BYTES = 25 * 1024 * 1024  # GitHub's own payload cap
FORGES = ("github", "bitbucket-cloud", "bitbucket-server")
DEFAULT_QUEUE_NAME = "gitops-health"


class SettingsError(ValueError):
    """A missing, malformed or contradictory setting; `str()` is one line naming the variable."""


@dataclass(frozen=True)
class GitHubSettings:
    webhook_secret: str = ""
    app_id: int | None = None
    private_key: str = field(default="", repr=False)
    token: str = field(default="", repr=False)
    api_url: str = "https://api.github.com"
    seconds_between_requests: float = 0.25
    seconds_between_writes: float = 1.0
    secondary_rate_wait: float = 60.0
    retry_backoff: float = 1.0

    @property
    def configured(self) -> bool:
        return bool(self.webhook_secret and (self.app_id or self.token))

    @property
    def app_mode(self) -> bool:
        return self.app_id is not None


@dataclass(frozen=True)
class BitbucketCloudSettings:
    webhook_secret: str = ""
    token: str = field(default="", repr=False)
    username: str = ""
    app_password: str = field(default="", repr=False)
    api_url: str = "https://api.bitbucket.org"

    @property
    def configured(self) -> bool:
        return bool(self.webhook_secret and (self.token or self.username))


@dataclass(frozen=True)
class BitbucketServerSettings:
    webhook_secret: str = ""
    url: str = ""
    token: str = field(default="", repr=False)

    @property
    def configured(self) -> bool:
        return bool(self.webhook_secret and self.url and self.token)


@dataclass(frozen=True)
class CloneSettings:
    """The bare-clone cache history features come from (`bot/clones.py`)."""

    enabled: bool = True
    directory: Path | None = None  # None: <data_dir>/clones
    timeout_seconds: float = 300.0
    max_age_days: float = 14.0
    max_size_mb: float = 0.0  # 0: no cap


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    queue_url: str  # "" = SQLite queue file under data_dir
    public_url: str
    host: str = "127.0.0.1"
    port: int = 8080
    admin_policy: Path | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    workers: int = 2
    queue_name: str = DEFAULT_QUEUE_NAME  # several bots may share one Redis under their own names
    job_lease_seconds: float = 600.0
    log_format: str = "json"  # or "text"
    log_level: str = "INFO"
    github: GitHubSettings = field(default_factory=GitHubSettings)
    bitbucket_cloud: BitbucketCloudSettings = field(default_factory=BitbucketCloudSettings)
    bitbucket_server: BitbucketServerSettings = field(default_factory=BitbucketServerSettings)
    clones: CloneSettings = field(default_factory=CloneSettings)

    @property
    def queue_path(self) -> Path:
        return self.data_dir / "queue.db"

    @property
    def clone_dir(self) -> Path:
        return self.clones.directory or self.data_dir / "clones"

    def webhook_secret(self, forge: str) -> str:
        return {
            "github": self.github.webhook_secret,
            "bitbucket-cloud": self.bitbucket_cloud.webhook_secret,
            "bitbucket-server": self.bitbucket_server.webhook_secret,
        }[forge]

    def configured(self, forge: str) -> bool:
        return {
            "github": self.github.configured,
            "bitbucket-cloud": self.bitbucket_cloud.configured,
            "bitbucket-server": self.bitbucket_server.configured,
        }[forge]

    @property
    def unconfigured_forges(self) -> tuple[str, ...]:
        return tuple(forge for forge in FORGES if not self.configured(forge))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        return _load(_Env(os.environ if env is None else env))


_FLAGS = {"on": True, "true": True, "yes": True, "1": True, "off": False, "false": False,
          "no": False, "0": False}  # fmt: skip


class _Env:
    """Typed reads of GITOPS_HEALTH_* variables; empty values count as unset."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def text(self, name: str, default: str = "") -> str:
        return self._env.get(PREFIX + name, "").strip() or default

    def number(self, name: str, default: float, minimum: float = 0.0) -> float:
        raw = self.text(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{PREFIX}{name} must be a number, got {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"{PREFIX}{name} must be at least {minimum:g}, got {raw}")
        return value

    def flag(self, name: str, default: bool) -> bool:
        raw = self.text(name).lower()
        if not raw:
            return default
        if raw not in _FLAGS:
            raise SettingsError(f"{PREFIX}{name} must be on or off, got {raw!r}")
        return _FLAGS[raw]

    def choice(self, name: str, choices: tuple[str, ...]) -> str:
        """One of `choices` (the first is the default), matched without regard to case."""
        raw = self.text(name, choices[0])
        value = next((c for c in choices if c.lower() == raw.lower()), None)
        if value is None:
            raise SettingsError(f"{PREFIX}{name} must be one of {', '.join(choices)}, got {raw!r}")
        return value

    def integer(self, name: str, default: int, minimum: int = 0) -> int:
        value = self.number(name, default, minimum)
        if value != int(value):
            raise SettingsError(f"{PREFIX}{name} must be a whole number, got {value:g}")
        return int(value)

    def secret_or_file(self, name: str) -> str:
        """`NAME` or the contents of the file named by `NAME_FILE`, never both."""
        value, path = self.text(name), self.text(name + "_FILE")
        if value and path:
            raise SettingsError(f"{PREFIX}{name} and {PREFIX}{name}_FILE are both set; keep one")
        if not path:
            return value.replace("\\n", "\n")
        try:
            return Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise SettingsError(f"{PREFIX}{name}_FILE cannot be read: {exc.strerror}") from None

    def url(self, name: str, default: str = "") -> str:
        value = self.text(name, default).rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise SettingsError(f"{PREFIX}{name} must be an http(s) URL, got {value!r}")
        return value


def _load(env: _Env) -> Settings:
    data_dir = Path(env.text("DATA_DIR", ".gitops-health-data")).expanduser().resolve()
    port = env.integer("PORT", 8080, minimum=1)
    settings = Settings(
        data_dir=data_dir,
        database_url=env.text("DATABASE_URL", f"sqlite:///{data_dir / 'bot.db'}"),
        queue_url=_queue_url(env),
        public_url=env.url("PUBLIC_URL", f"http://127.0.0.1:{port}"),
        host=env.text("HOST", "127.0.0.1"),
        port=port,
        admin_policy=_admin_policy(env),
        max_body_bytes=env.integer("MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, minimum=1024),
        workers=env.integer("WORKERS", 2, minimum=1),
        queue_name=env.text("QUEUE_NAME", DEFAULT_QUEUE_NAME),
        job_lease_seconds=env.number("JOB_LEASE_SECONDS", 600.0, minimum=1.0),
        log_format=env.choice("LOG_FORMAT", ("json", "text")),
        log_level=env.choice("LOG_LEVEL", ("INFO", "DEBUG", "WARNING", "ERROR")),
        github=_github(env),
        bitbucket_cloud=_bitbucket_cloud(env),
        bitbucket_server=_bitbucket_server(env),
        clones=_clones(env),
    )
    _check_database_url(settings.database_url)
    return settings


def _queue_url(env: _Env) -> str:
    value = env.text("QUEUE_URL")
    if value and not value.startswith(("redis://", "rediss://", "unix://", "sqlite:///")):
        raise SettingsError(
            f"{PREFIX}QUEUE_URL must be redis://…, rediss://…, unix://… or sqlite:///path, "
            f"got {value.split('://')[0]!r}"
        )
    return value


def _check_database_url(url: str) -> None:
    if not url.startswith(("sqlite:", "postgresql", "mysql")):
        raise SettingsError(
            f"{PREFIX}DATABASE_URL must be a SQLAlchemy URL (sqlite:///… or postgresql://…)"
        )


def _admin_policy(env: _Env) -> Path | None:
    value = env.text("ADMIN_POLICY")
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_file():
        raise SettingsError(f"{PREFIX}ADMIN_POLICY names {value!r}, which is not a readable file")
    return path


def _clones(env: _Env) -> CloneSettings:
    directory = env.text("CLONE_DIR")
    return CloneSettings(
        enabled=env.flag("CLONE_CACHE", True),
        directory=Path(directory).expanduser().resolve() if directory else None,
        timeout_seconds=env.number("CLONE_TIMEOUT", 300.0, minimum=1.0),
        max_age_days=env.number("CLONE_MAX_AGE_DAYS", 14.0, minimum=0.01),
        max_size_mb=env.number("CLONE_MAX_SIZE_MB", 0.0),
    )


def _github(env: _Env) -> GitHubSettings:
    raw_app_id = env.text("GITHUB_APP_ID")
    private_key = env.secret_or_file("GITHUB_PRIVATE_KEY")
    token = env.secret_or_file("GITHUB_TOKEN")
    if raw_app_id and not raw_app_id.isdigit():
        raise SettingsError(f"{PREFIX}GITHUB_APP_ID must be the numeric App ID, got {raw_app_id!r}")
    if raw_app_id and not private_key:
        raise SettingsError(f"{PREFIX}GITHUB_PRIVATE_KEY (or _FILE) is required with GITHUB_APP_ID")
    if private_key and not raw_app_id:
        raise SettingsError(f"{PREFIX}GITHUB_APP_ID is required with GITHUB_PRIVATE_KEY")
    if raw_app_id and token:
        raise SettingsError(
            f"{PREFIX}GITHUB_TOKEN and GITHUB_APP_ID are both set; choose App or token mode"
        )
    if private_key and "PRIVATE KEY" not in private_key:
        raise SettingsError(f"{PREFIX}GITHUB_PRIVATE_KEY is not a PEM private key")
    settings = GitHubSettings(
        webhook_secret=env.secret_or_file("GITHUB_WEBHOOK_SECRET"),
        app_id=int(raw_app_id) if raw_app_id else None,
        private_key=private_key,
        token=token,
        api_url=env.url("GITHUB_API_URL", "https://api.github.com"),
        seconds_between_requests=env.number("GITHUB_SECONDS_BETWEEN_REQUESTS", 0.25),
        seconds_between_writes=env.number("GITHUB_SECONDS_BETWEEN_WRITES", 1.0),
        secondary_rate_wait=env.number("GITHUB_SECONDARY_RATE_WAIT", 60.0),
        retry_backoff=env.number("GITHUB_RETRY_BACKOFF", 1.0),
    )
    _require_pair(
        "GITHUB",
        settings.webhook_secret,
        bool(settings.app_id or settings.token),
        "GITHUB_APP_ID + GITHUB_PRIVATE_KEY or GITHUB_TOKEN",
    )
    return settings


def _bitbucket_cloud(env: _Env) -> BitbucketCloudSettings:
    settings = BitbucketCloudSettings(
        webhook_secret=env.secret_or_file("BITBUCKET_CLOUD_WEBHOOK_SECRET"),
        token=env.secret_or_file("BITBUCKET_CLOUD_TOKEN"),
        username=env.text("BITBUCKET_CLOUD_USERNAME"),
        app_password=env.secret_or_file("BITBUCKET_CLOUD_APP_PASSWORD"),
        api_url=env.url("BITBUCKET_CLOUD_API_URL", "https://api.bitbucket.org").removesuffix(
            "/2.0"
        ),
    )
    if settings.token and settings.username:
        raise SettingsError(
            f"{PREFIX}BITBUCKET_CLOUD_TOKEN and BITBUCKET_CLOUD_USERNAME are both set; keep one"
        )
    if bool(settings.username) != bool(settings.app_password):
        missing = "APP_PASSWORD" if settings.username else "USERNAME"
        raise SettingsError(f"{PREFIX}BITBUCKET_CLOUD_{missing} is required with the other")
    _require_pair(
        "BITBUCKET_CLOUD",
        settings.webhook_secret,
        bool(settings.token or settings.username),
        "BITBUCKET_CLOUD_TOKEN or BITBUCKET_CLOUD_USERNAME + BITBUCKET_CLOUD_APP_PASSWORD",
    )
    return settings


def _bitbucket_server(env: _Env) -> BitbucketServerSettings:
    settings = BitbucketServerSettings(
        webhook_secret=env.secret_or_file("BITBUCKET_SERVER_WEBHOOK_SECRET"),
        url=env.url("BITBUCKET_SERVER_URL").removesuffix("/rest"),
        token=env.secret_or_file("BITBUCKET_SERVER_TOKEN"),
    )
    if bool(settings.url) != bool(settings.token):
        missing = "TOKEN" if settings.url else "URL"
        raise SettingsError(f"{PREFIX}BITBUCKET_SERVER_{missing} is required with the other")
    _require_pair(
        "BITBUCKET_SERVER",
        settings.webhook_secret,
        bool(settings.token),
        "BITBUCKET_SERVER_URL + BITBUCKET_SERVER_TOKEN",
    )
    return settings


def _require_pair(forge: str, secret: str, has_credentials: bool, credentials: str) -> None:
    """Credentials without a webhook secret (or the reverse) is a half-configured forge."""
    if has_credentials and not secret:
        raise SettingsError(f"{PREFIX}{forge}_WEBHOOK_SECRET is required: webhooks must be signed")
    if secret and not has_credentials:
        raise SettingsError(f"{PREFIX}{credentials} is required with {forge}_WEBHOOK_SECRET")
