"""Settings from ``MODELWARD_*`` environment variables (documented in docs/settings.md)."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path

from modelward.errors import ConfigurationError

ENV_HOME = "MODELWARD_HOME"
ENV_DATABASE_URL = "MODELWARD_DATABASE_URL"
ENV_ARTIFACT_ROOT = "MODELWARD_ARTIFACT_ROOT"
ENV_ACTOR = "MODELWARD_ACTOR"
ENV_DEBUG = "MODELWARD_DEBUG"
ENV_TRACKING_URI = "MODELWARD_TRACKING_URI"
ENV_TOKEN = "MODELWARD_TOKEN"
#: Schemes of a control-plane server; the database schemes keep the embedded store.
REMOTE_SCHEMES = ("http://", "https://")
DATABASE_SCHEMES = ("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")

#: Every setting and what it does; docs/settings.md must mention each (a test checks).
SETTINGS: dict[str, str] = {
    ENV_HOME: "folder for the embedded database, artifacts and caches (default ~/.modelward)",
    ENV_DATABASE_URL: "SQLAlchemy URL of the metadata store "
    "(default sqlite:///$MODELWARD_HOME/modelward.db; postgresql://… for PostgreSQL)",
    ENV_ARTIFACT_ROOT: "where artifacts live: a folder or an fsspec URL such as s3://bucket/prefix "
    "(default $MODELWARD_HOME/artifacts)",
    ENV_ACTOR: "name recorded as the actor of changes in embedded mode (default: the OS user)",
    ENV_DEBUG: "set to 1 to print tracebacks for unexpected errors",
    "MODELWARD_ROLE": "role of the acting OS user in embedded mode (default admin; e.g. reviewer "
    "to approve)",
    "MODELWARD_PII_MODE": "overrides the policies' privacy.pii for every model: how signature "
    "columns flagged pii are kept in the inference log: hash (keyed HMAC), drop or keep",
    "MODELWARD_WEBHOOK_KEY_FILE": "file holding the key webhook signing secrets are derived from "
    "(default $MODELWARD_HOME/keys/webhooks.key, created 0600 on first use)",
    "MODELWARD_PII_KEY_FILE": "file holding the HMAC key for pii columns "
    "(default $MODELWARD_HOME/keys/pii.key, created 0600 on first use)",
    ENV_TRACKING_URI: "http(s)://host:port of a control-plane server: the CLI and "
    "modelward.connect() call its API (remote mode); unset or a database URL: the embedded store",
    ENV_TOKEN: "API token sent as 'Authorization: Bearer' in remote mode",
}


@dataclass(frozen=True)
class Settings:
    """Resolved settings; build with :func:`load_settings`."""

    home: Path
    database_url: str
    artifact_root: str
    actor: str
    debug: bool = False
    #: The control-plane server's base URL in remote mode, else ``None`` (embedded store).
    tracking_uri: str | None = None
    token: str | None = field(default=None, repr=False)  # a secret: never in a repr or a log

    @property
    def remote(self) -> bool:
        """True when a control-plane server, not the database, answers (remote mode)."""
        return self.tracking_uri is not None

    @property
    def cache_dir(self) -> Path:
        """Scratch space for unpacked artifacts."""
        return self.home / "cache"

    def ensure_home(self) -> None:
        """Create the home folder (and the local artifact root) if they are missing."""
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            self.cache_dir.mkdir(exist_ok=True)
            if "://" not in self.artifact_root:
                Path(self.artifact_root).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create modelward folders under {self.home}: {exc.strerror}",
                hint=f"set {ENV_HOME} to a writable folder",
            ) from exc


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return f"uid-{os.getuid()}"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read settings from the environment (``os.environ`` unless given)."""
    env = os.environ if environ is None else environ
    home = Path(env.get(ENV_HOME) or Path.home() / ".modelward").expanduser().resolve()
    database_url = env.get(ENV_DATABASE_URL) or f"sqlite:///{home / 'modelward.db'}"
    artifact_root = env.get(ENV_ARTIFACT_ROOT) or str(home / "artifacts")
    if "://" not in artifact_root:
        artifact_root = str(Path(artifact_root).expanduser().resolve())
    actor = env.get(ENV_ACTOR) or _current_user()
    debug = env.get(ENV_DEBUG, "").lower() in {"1", "true", "yes"}
    tracking_uri = _tracking_uri(env.get(ENV_TRACKING_URI, "").strip())
    if tracking_uri is not None and not tracking_uri.startswith(REMOTE_SCHEMES):
        database_url = _database_from_tracking(tracking_uri, env.get(ENV_DATABASE_URL))
        tracking_uri = None
    token = env.get(ENV_TOKEN, "").strip() or None
    return Settings(home, database_url, artifact_root, actor, debug, tracking_uri, token)


def _tracking_uri(value: str) -> str | None:
    """``MODELWARD_TRACKING_URI`` checked: an http(s) base URL without a trailing slash, a
    database URL, or ``None`` when unset."""
    if not value:
        return None
    if value.lower().startswith(REMOTE_SCHEMES):
        scheme, _, rest = value.partition("://")
        if not rest.strip("/"):
            raise ConfigurationError(
                f"{ENV_TRACKING_URI}={value!r} names no host",
                hint="write e.g. http://127.0.0.1:8000",
            )
        return f"{scheme.lower()}://{rest.rstrip('/')}"
    if value.lower().startswith(DATABASE_SCHEMES):
        return value
    raise ConfigurationError(
        f"{ENV_TRACKING_URI}={value!r} is neither an http(s) URL nor a database URL",
        hint="write http://host:8000 for a control-plane server (modelward server), or unset it "
        f"and use {ENV_DATABASE_URL} for the embedded store",
    )


def _database_from_tracking(uri: str, database_url: str | None) -> str:
    """A database URL given as the tracking URI (as MLflow users write it) is the database."""
    if database_url and database_url != uri:
        raise ConfigurationError(
            f"{ENV_TRACKING_URI} and {ENV_DATABASE_URL} name two different databases",
            hint=f"set only {ENV_DATABASE_URL}",
        )
    return uri
