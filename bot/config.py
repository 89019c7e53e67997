"""Settings from the environment and an optional ``.env`` file (the
environment wins).  Every name here is listed in ``.env.example``."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.access import Rules


def load_dotenv(path: str | Path = ".env") -> dict[str, str]:
    """KEY=VALUE lines; comments, blank lines and ``export`` prefixes allowed,
    values optionally quoted.  Never overrides the real environment."""
    values: dict[str, str] = {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return values
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


@dataclass
class Settings:
    env: dict[str, str]

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, dotenv: str | Path = ".env") -> "Settings":
        merged = load_dotenv(dotenv)
        merged.update(environ if environ is not None else os.environ)
        return cls(merged)

    def get(self, key: str, default: str | None = None) -> str | None:
        value = self.env.get(key)
        return value if value not in (None, "") else default

    # -- the ones every part uses -----------------------------------------
    @property
    def db(self) -> str:
        return self.get("CRASHDESK_DB", "crashdesk.db")

    @property
    def data_dir(self) -> str:
        return self.get("CRASHDESK_DATA_DIR", "data")

    @property
    def storage(self) -> str | None:
        """s3://bucket/prefix: uploads in S3-compatible object storage."""
        return self.get("CRASHDESK_STORAGE")

    @property
    def tz(self) -> str:
        return self.get("TZ", "UTC")

    @property
    def lang(self) -> str:
        value = self.get("CRASHDESK_LANG", "en")
        return value if value in ("en", "zh") else "en"

    @property
    def port(self) -> int:
        try:
            return int(self.get("PORT", "8080"))
        except ValueError:
            raise SystemExit(f"crashdesk: PORT must be a number, not {self.get('PORT')!r}") from None

    @property
    def host(self) -> str | None:
        """CRASHDESK_HOST: the address to listen on (127.0.0.1: the board and
        the callbacks reachable from this machine only); unset: every interface."""
        return self.get("CRASHDESK_HOST")

    @property
    def max_upload(self) -> int:
        value = self.get("CRASHDESK_MAX_UPLOAD_MB")
        return int(value) * 1024 * 1024 if value and value.isdigit() else 2 * 1024**3

    @property
    def leads(self) -> tuple[str, ...]:
        """CRASHDESK_LEADS: the support leads (user ids or names, comma separated)."""
        return tuple(p.strip() for p in (self.get("CRASHDESK_LEADS") or "").split(",") if p.strip())

    @property
    def stale_days(self) -> int:
        """CRASHDESK_STALE_DAYS: a case with no contact for this many days is
        reminded of and listed as stale (default 7)."""
        value = self.get("CRASHDESK_STALE_DAYS", "7")
        if not value.isdigit() or int(value) < 1:
            raise SystemExit(f"crashdesk: CRASHDESK_STALE_DAYS must be a number of days, not {value!r}")
        return int(value)

    @property
    def digest_priorities(self) -> tuple[str, ...]:
        value = self.get("DIGEST_PRIORITIES", "P3")
        return tuple(p.strip().upper() for p in value.split(",") if p.strip())

    def _words(self, key: str) -> frozenset[str]:
        return frozenset(p.strip() for p in (self.get(key) or "").replace(";", ",").split(",") if p.strip())

    @property
    def access(self) -> "Rules":
        """Who may use the desk (bot.access): users, Slack channels and user
        groups, WeCom departments and tags.  None set: everyone who can reach
        the bot."""
        from bot.access import Rules

        departments = self._words("CRASHDESK_WECOM_DEPARTMENTS")
        bad = sorted(d for d in departments if not (d.isascii() and d.isdigit()))
        if bad:
            raise SystemExit("crashdesk: CRASHDESK_WECOM_DEPARTMENTS takes department ids (numbers), not "
                             + ", ".join(repr(b) for b in bad))
        return Rules(users=self._words("CRASHDESK_USERS"), slack_channels=self._words("CRASHDESK_SLACK_CHANNELS"),
                     slack_usergroups=self._words("CRASHDESK_SLACK_USERGROUPS"),
                     wecom_departments=frozenset(int(d) for d in departments),
                     wecom_tags=self._words("CRASHDESK_WECOM_TAGS"), leads=frozenset(self.leads))
