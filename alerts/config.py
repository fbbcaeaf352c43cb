"""Configuration models owned by alerts: targets, watches, term sets, delivery and health."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Literal

from pydantic import Field, field_validator, model_validator

from crawler.config import Duration, StrictModel

_COUNTRY = re.compile(r"^[A-Z]{2}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Target(StrictModel):
    """A place alerts go: any Apprise URL, addressed by name or tag."""

    name: str = Field(min_length=1)
    url: str = Field(min_length=1)
    tags: list[str] = []
    format: Literal["auto", "text", "markdown", "html", "slack"] = "auto"


#: What a follow-up of an alerted story sends: "alert" (one more immediate message),
#: "digest" (listed in the watch's next digest, at its ``digest_at`` times) or "ignore".
FollowUp = Literal["alert", "digest", "ignore"]


class Watch(StrictModel):
    """What one analyst wants to hear about: countries, a query, and where to send it."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    countries: list[str] = []
    query: str | None = None
    exclude: str | None = None
    sources: list[str] = []
    fields: list[Literal["title", "text"]] = ["title", "text"]
    targets: list[str] = []
    mode: Literal["immediate", "digest"] = "immediate"
    digest_at: list[str] = ["08:00"]
    max_per_hour: int | None = Field(default=None, ge=1)
    quiet_hours: str | None = None
    cities: bool = False  # capitals and large cities imply their country (city gazetteer)
    #: The article a story was alerted with gets a new version (its publisher changed the
    #: title or text). "digest" by default: worth knowing, not worth an interruption, so a
    #: story still makes one immediate alert per watch.
    on_update: FollowUp = "digest"
    #: A later article of an alerted story names a country the watch cares about, or a tier
    #: statement, that the story's earlier articles did not. Mere coverage ("+N outlets")
    #: is never growth. "digest" by default, for the same reason as ``on_update``. An
    #: update that adds such a country or statement is growth too: the stronger applies.
    on_growth: FollowUp = "digest"

    @field_validator("countries")
    @classmethod
    def _codes(cls, v: list[str]) -> list[str]:
        out = []
        for code in v:
            code = code.strip().upper()
            if not _COUNTRY.match(code):
                from crawler.suggest import country_code

                meant = country_code(code)
                hint = f": did you mean {meant!r}?" if meant else " (e.g. AZ, XK)"
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code{hint}")
            out.append(code)
        return out

    @field_validator("digest_at")
    @classmethod
    def _times(cls, v: list[str]) -> list[str]:
        for t in v:
            if not _HHMM.match(t):
                raise ValueError(f"{t!r} is not a time of day as HH:MM")
        return v

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, v: str | None) -> str | None:
        if v is not None:
            parts = v.split("-")
            if len(parts) != 2 or not all(_HHMM.match(p.strip()) for p in parts):
                raise ValueError(f"{v!r} is not a range of times such as 22:00-07:00")
        return v

    @model_validator(mode="after")
    def _something_to_match(self) -> Watch:
        if not self.countries and not self.query:
            raise ValueError("a watch needs 'countries', a 'query', or both")
        return self


class DeliverySettings(StrictModel):
    """How the outbox retries, when digests go out, and how many sends run at once."""

    timezone: str = "UTC"
    max_attempts: int = Field(default=8, ge=1, le=100)
    backoff: Duration = timedelta(minutes=1)
    max_backoff: Duration = timedelta(hours=6)
    excerpt_chars: int = Field(default=300, ge=50, le=5000)
    templates: str | None = None
    #: Messages in flight at once per target. 1 keeps the guarantee that a crash repeats at
    #: most one message per target; n repeats at most n.
    concurrency_per_target: int = Field(default=1, ge=1, le=32)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {v!r} (use an IANA name such as Europe/Berlin)"
            ) from None
        return v


class HealthSettings(StrictModel):
    """Tell someone when a source keeps failing, and when it recovers."""

    targets: list[str] = []
    after_failures: int = Field(default=3, ge=1)


class GazetteerSettings(StrictModel):
    """How the matcher reads places and tiers: extra aliases per ISO code, the opt-in city
    gazetteer for every watch, and the opt-in tiers read from a formula alone."""

    aliases: dict[str, list[str]] = {}
    cities: bool = False
    #: Tier statements read from the TIP report's minimum-standards formula alone ("does not
    #: fully comply ... and is not making significant efforts": Tier 3). Off by default: a
    #: later text may carry an earlier report's formula under another tier, and nothing in
    #: the text tells (a wrong tier is worse than none). Statements in words are the same.
    tier_formulas: bool = False

    @field_validator("aliases")
    @classmethod
    def _codes(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        for code in v:
            if not _COUNTRY.match(code):
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 country code")
        return v


class ServeSettings(StrictModel):
    """`newswatch serve`: where Datasette listens, and the address people reach it at."""

    host: str = "127.0.0.1"
    port: int = Field(default=8001, ge=0, le=65535)
    #: The public address of `newswatch serve` (behind a proxy, with its path): alert
    #: messages link to a story's page there. None: no link.
    base_url: str | None = None

    @field_validator("base_url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None and not re.match(r"^https?://[^/\s]+(/\S*)?$", v):
            raise ValueError(f"{v!r} is not an http(s) URL such as http://localhost:8001/")
        return v
