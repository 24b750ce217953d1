"""The one typed configuration, loaded from TOML and passed down.

Every key is declared here, with its type and default; an unknown key or a
value of the wrong type is a ``ConfigError`` that names the key by its dotted
path (``queue[1].destination``), so ``ippproxy check-config`` can point at it.
README.md documents each key; keep the two in step.
"""

from __future__ import annotations

import dataclasses
import pwd
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ippproxy import configvalues

BUILTIN_DESTINATION = "builtin"
QUEUE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,126}$")


class ConfigError(ValueError):
    """A configuration problem; ``key`` is the dotted path of the offending key."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(f"{key}: {message}" if key else message)
        self.key = key


@dataclass(frozen=True)
class ServerConfig:
    listen: str = "127.0.0.1"
    port: int = 8631
    # Public host name used in printer-uri-supported / job-uri; empty: the request's Host.
    hostname: str = ""
    keepalive_timeout: float = 75.0
    # Deadline for reading the IPP attribute section of one request (slowloris guard).
    header_timeout: float = 30.0
    max_attributes_bytes: int = 1 << 20
    # Largest document accepted, after decompression (0 = unlimited).
    max_document_bytes: int = 1 << 30
    # Seconds completed/canceled/aborted jobs stay visible in Get-Jobs (which-jobs=completed).
    job_history_seconds: int = 86400
    # A local Unix socket the server also listens on (IPP over HTTP); a peer with uid 0 or
    # the server's own uid is an admin there (SO_PEERCRED, as cupsd's PeerCred). Empty: none.
    unix_socket: str = ""
    # PEM certificate chain and private key for TLS on the one port (IPPS and HTTPS); both
    # empty: a self-signed certificate is generated on first start beside the database.
    tls_cert: str = ""
    tls_key: str = ""
    # Bearer token a Prometheus scraper presents for /metrics; empty: no token is accepted.
    metrics_token: str = ""
    # Open client connections at most, in all and from one address (cupsd: MaxClients,
    # MaxClientsPerHost). The total is also kept below the descriptor limit minus
    # ``fd_reserve`` (descriptors kept for the database, spool files, workers, printers).
    max_connections: int = 1000
    max_connections_per_address: int = 100
    fd_reserve: int = 128
    # Jobs not yet completed and subscriptions one user may hold (cupsd: MaxJobsPerUser,
    # MaxSubscriptions); 0: no limit.
    max_jobs_per_user: int = 200
    max_subscriptions_per_user: int = 100
    # Seconds a Create-Job job may wait for its last document before it is aborted
    # (multiple-operation-time-out, RFC 8011 §5.4.31).
    multiple_operation_timeout: int = 60
    # Seconds a client has for a whole HTTP request head, from its first byte (slowloris
    # guard; answered 408), and seconds a request body may stay silent (cupsd's Timeout).
    # 0: no limit.
    head_timeout: float = 10.0
    body_idle_timeout: float = 300.0
    # Jobs not yet completed this server holds at most, whoever owns them (cupsd's
    # MaxActiveJobs; counted in the database, so nodes sharing one count theirs together);
    # more are answered server-error-busy. 0: no limit.
    max_active_jobs: int = 10000
    # Server processes on the one port (ippproxy/supervisor.py): each is a node of its own
    # on the shared database and spool, and the kernel hands each connection to one of
    # them. 0: one per CPU core.
    workers: int = 1


# More workers than this is a typo, not a machine.
MAX_WORKERS = 64


@dataclass(frozen=True)
class StorageConfig:
    database: str = "sqlite:///var/ippproxy.db"
    spool: str = "var/spool"
    # Name of this node when several share one PostgreSQL and one spool ("": single node).
    node: str = ""
    # Documents up to this size are made durable by a copy committed with the job row
    # instead of an fsync of the spool file (one sync per job instead of three; see
    # jobs/spool.py). 0: every document is fsync'd in the spool.
    copy_max_bytes: int = 65536
    # How often (seconds) this node looks whether the catalog (queues, cost models, rules,
    # options kept in the database) changed; a change made on any node is seen this late.
    catalog_poll_interval: float = 1.0
    # PostgreSQL connections each server process keeps open (as many again are opened for
    # a burst and closed after); the database's max_connections must cover every node's
    # twice this, plus the command tool's. SQLite ignores it.
    pool_size: int = 16


# Above this, a document is better fsync'd in the spool than copied into the database.
COPY_MAX_LIMIT = 1024 * 1024


@dataclass(frozen=True)
class ForwardingConfig:
    # Retry back-off for unreachable or busy destinations, in seconds.
    retry_initial: float = 2.0
    retry_max: float = 60.0
    # How often a forwarded job is polled with Get-Job-Attributes.
    poll_interval: float = 1.0
    # How long cached Get-Printer-Attributes of a destination are trusted.
    attributes_ttl: float = 300.0
    connect_timeout: float = 10.0
    # How long (s) a destination may stay silent while it should answer a Print-Job,
    # Send-Document or other request of the forwarder; then the job goes back to pending
    # with the cause in job-state-message and is retried after the back-off.
    send_timeout: float = 120.0
    # While job submissions are being received, a queue sends its next job at most this
    # often (seconds): answering waiting clients comes first. 0: no spacing.
    send_interval_while_receiving: float = 0.5


@dataclass(frozen=True)
class VirtualPrinterConfig:
    """The built-in virtual printer that ``destination = "builtin"`` queues use."""

    listen: str = "127.0.0.1"
    port: int = 8632
    # Keep received documents under spool/virtual (false: discard after counting).
    keep_documents: bool = False
    color: bool = True
    duplex: bool = True


@dataclass(frozen=True)
class QueueConfig:
    name: str
    destination: str = BUILTIN_DESTINATION
    info: str = ""
    location: str = ""
    # Send Print-Job even when the destination supports Create-Job/Send-Document.
    force_print_job: bool = False
    # Name of a [[cost_model]]; empty: accounting.default_cost_model (else free).
    cost_model: str = ""
    # "none": trust requesting-user-name; "basic": HTTP Basic against the user store;
    # "token": a personal printer URL (/printers/NAME/u/SECRET) or HTTP Basic;
    # "popup": a job sent without credentials is held until its user's ippproxy-client
    # confirms who printed it with a user name and password (pipeline/identity.py).
    authentication: str = "none"
    # Shorthands for a force-grayscale / force-duplex [[rule]] scoped to this queue.
    force_grayscale: bool = False
    force_duplex: bool = False
    # Job names and owners shown only to the job's owner and admins (cupsd's
    # JobPrivateValues); false: every client sees them.
    private_jobs: bool = True
    # The default queue (CUPS-Get-Default, ``ipp://host/``, ``/ipp/print``); at most one
    # queue is marked; none marked: the first queue.
    default: bool = False
    # Advertised by DNS-SD (when ``[dnssd] enabled``; ippproxy/dnssd/).
    dnssd: bool = True
    # authentication = "token": personal printer URLs also over plain ipp:// (the secret
    # then travels in clear); false: ipps:// only.
    token_over_ipp: bool = False
    # Every job must name an account (job-account-id, or CUPS's job-billing): listed in
    # printer-mandatory-job-attributes; a job without one is held account-info-needed.
    account_required: bool = False
    # Find-Me (issue 17 point 7): this is a virtual queue; every job is held and its owner
    # releases it at one of these queues (its printer group), converted and priced there
    # (pipeline/findme.py). Empty: an ordinary queue.
    findme_printers: tuple[str, ...] = ()
    # Hold/release (issue 17 §6): every job is held at intake until released: "secure" by
    # its owner or an admin, "release-any" by any authenticated user, "approval" by an
    # approver (``approvers``: user names, "@group" for a group, or a release-approver).
    release: str = "none"
    approvers: tuple[str, ...] = ()
    # job-password (PWG 5100.11 §5.2) is mandatory: listed in
    # printer-mandatory-job-attributes (iOS then makes up and shows a PIN).
    pin_required: bool = False


AUTHENTICATION = ("none", "basic", "token", "popup")
RELEASE = ("none", "secure", "release-any", "approval")
UNKNOWN_USERS = ("create", "refuse")
TRUST = ("ours", "printer", "lower")
UNKNOWN_MODES = ("allow", "hold", "deny")
RULE_TYPES = ("max-pages", "max-copies", "max-cost", "max-spool-size", "paper-sizes",
              "allowed-formats", "allowed-users", "duplicate-jobs", "force-grayscale",
              "force-duplex", "ask-account", "charge-account", "confirm-job")
# Amounts: ASCII digits only (re.ASCII: \d would take fullwidth "１０"), at most 13 digits
# before the point (accounting/money.py bounds every amount in minor units, MAX_AMOUNT;
# pipeline/settings.py converts through it), at most 12 after.
_DECIMAL = re.compile(r"\d{1,13}(\.\d{1,12})?", re.ASCII)


@dataclass(frozen=True)
class AccountingConfig:
    """Counting, pricing and charging at intake (issues 4 and 5). Amounts are decimal
    strings in the major unit ("0.10"), turned into exact minor units."""

    enabled: bool = False
    currency: str = "EUR"
    minor_unit_digits: int = 2
    # Users not in the user store: "create" on first print, or "refuse" the job.
    unknown_users: str = "create"
    # Group whose initial_* defaults apply to users created on print (config [[group]]).
    new_user_group: str = ""
    initial_balance: str = "0"
    restricted: bool = True
    credit_limit: str = "0"
    # Whose impression count prices a printed job: "ours", "printer", "lower".
    trust_printer_counts: str = "ours"
    default_cost_model: str = ""
    # Seconds between sweeps that settle finished jobs whose settlement was missed.
    settle_interval: float = 30.0
    # Seconds after which another node's reservation whose job never appeared (that node
    # stopped during intake) is refunded; a node's own are refunded when it starts.
    orphan_lease: float = 60.0
    # Seconds a job held for an account choice (account-info-needed) waits for its
    # answer; then it is canceled, nothing charged (pipeline/unanswered.py).
    popup_timeout: float = 600.0
    # A user's client is warned when their personal balance falls below this amount
    # (decimal, e.g. "2.00"); empty: no warning (services/usernotices.py).
    low_credit_threshold: str = ""
    # The admin dashboard's "client unavailable" alert: a job waits for an account choice
    # and its owner has no client connected to answer it.
    client_alert: bool = False
    # Seconds a job held for release (a hold/release queue, or a PIN job) waits; then it
    # is canceled and its reservation refunded (services/release.py, housekeeping).
    release_expiry: float = 14400.0


@dataclass(frozen=True)
class AnalysisConfig:
    """The worker pool that counts and converts documents (ippproxy.filters.pool)."""

    workers: int = 2
    queue_size: int = 32
    cpu_seconds: int = 60
    memory_mb: int = 2048
    wall_seconds: float = 120.0
    # A document whose pages cannot be counted (PCL 5): "allow" (charged the job fee
    # only), "hold" for an operator, or "deny".
    unknown_pages: str = "hold"
    # The unprivileged user the workers (and their Ghostscript) drop to when the server runs
    # as root (filters/sandbox.py); it must exist and must not be root.
    user: str = "nobody"


@dataclass(frozen=True)
class MediaPriceConfig:
    name: str                     # PWG 5101.1 media name, e.g. "iso_a3_297x420mm"
    mono: str = "0"
    color: str = "0"


@dataclass(frozen=True)
class CostModelConfig:
    name: str
    mono: str = "0"               # per monochrome impression
    color: str = "0"              # per colour impression
    duplex_discount: str = "0"    # fraction in [0, 1] off impressions on two-sided sheets
    job_fee: str = "0"
    media: tuple[MediaPriceConfig, ...] = ()


@dataclass(frozen=True)
class GroupConfig:
    name: str
    multiplier: str = "1"         # price multiplier ("0": free, "0.5": half price)
    # Defaults for users created on print in this group (written to the group at start).
    initial_balance: str = "0"
    restricted: bool = True
    credit_limit: str = "0"


@dataclass(frozen=True)
class RuleConfig:
    type: str
    # How the catalog (and the admin) names the rule; empty in a file: "rule-<n>", its
    # place among the file's rules (ippproxy/catalog/provision.py).
    name: str = ""
    printers: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    exempt_groups: tuple[str, ...] = ()
    limit: int = 0                # max-pages, max-copies, max-spool-size (bytes)
    amount: str = "0"             # max-cost
    values: tuple[str, ...] = ()  # paper-sizes, allowed-formats, allowed-users (users)
    allowed_groups: tuple[str, ...] = ()   # allowed-users
    window_minutes: int = 10      # duplicate-jobs
    min_pages: int = 2            # force-duplex
    unknown: str = "allow"        # max-pages / max-cost when the figure is unknown
    # ask-account: the question also offers "print as another user" (that user's name and
    # password; the job is charged to and logged as them: services/userside.py).
    allow_print_as_other: bool = False


@dataclass(frozen=True)
class DnssdConfig:
    """DNS-SD (RFC 6763) announcements of the queues through avahi-daemon (ippproxy/dnssd/)."""

    enabled: bool = False


@dataclass(frozen=True)
class LdapConfig:
    """An LDAP directory as the user source and the password check of external users
    (issue 18; ippproxy.directory). ``url`` "" = no directory."""

    url: str = ""  # ldap://host[:port] or ldaps://host[:port]
    base_dn: str = ""
    bind_dn: str = ""  # "" = anonymous search
    bind_password: str = ""
    user_filter: str = "(objectClass=inetOrgPerson)"
    group_base_dn: str = ""  # "" = base_dn
    id_attribute: str = "uid"
    name_attribute: str = "cn"
    email_attribute: str = "mail"
    card_attribute: str = ""  # "" = card numbers not synced
    id_number_attribute: str = ""
    nested_groups: bool = True
    tls: str = "none"  # "none", "starttls" or "ldaps"; the certificate is always checked
    ca_file: str = ""  # "" = the system's CAs
    timeout: float = 10.0  # seconds, to connect and for each answer
    sync_interval: float = 0.0  # seconds between scheduled syncs; 0 = on demand only
    # The fields a sync may overwrite on users it already has.
    overwrite: tuple[str, ...] = ("full-name", "email", "card-number", "id-number")
    login: bool = True  # external users log in by an LDAP bind


@dataclass(frozen=True)
class UsersConfig:
    """The edit-user fields' bounds (SavaPage's user.* and internal-users.* keys; issue 18;
    ippproxy/accounting/userfields.py). Lengths in characters; 0 = no bound."""

    pin_length_min: int = 4  # user.pin-length-min
    pin_length_max: int = 0  # user.pin-length-max; 0 = no maximum
    id_number_length_min: int = 0  # user.id-number-length-min
    username_prefix: str = ""  # internal-users.username-prefix
    password_length_min: int = 6  # internal-users.password-length-min
    # A user's UUID token (created at the first login) may be the secret of a personal
    # printer URL (/printers/QUEUE/u/UUID) besides the URLs users make (issue 17).
    uuid_printer_urls: bool = False
    # ippproxy-client may log in as the desktop user over server.unix_socket: the peer's
    # uid (SO_PEERCRED) names the user, no password (services/desktop_login.py). File only,
    # not an option of the database: it is a decision about this machine's local accounts.
    trust_desktop_user: bool = False


@dataclass(frozen=True)
class ReleaseConfig:
    """The release station (issue 17 §6; ippproxy/web/pages/station.py)."""

    # A card alone identifies a person at the station, or only with its owner's PIN
    # (PaperCut's "Card only" and "Card + PIN"). The user's PIN, never a job's PIN.
    station_card_needs_pin: bool = False
    # Seconds without a request that end a station session (PaperCut's release stations
    # log out after inactivity); at most STATION_IDLE_MAX.
    station_idle: float = 60.0


# A station session is for the person standing at the printer: no idle time, however
# configured, keeps one longer than this (services/station.py's absolute lifetime).
STATION_IDLE_MAX = 900.0


@dataclass(frozen=True)
class Config:
    server: ServerConfig = field(default_factory=ServerConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    forwarding: ForwardingConfig = field(default_factory=ForwardingConfig)
    virtual_printer: VirtualPrinterConfig = field(default_factory=VirtualPrinterConfig)
    queues: tuple[QueueConfig, ...] = (QueueConfig(name="default"),)
    accounting: AccountingConfig = field(default_factory=AccountingConfig)
    analysis: AnalysisConfig = field(default_factory=AnalysisConfig)
    cost_models: tuple[CostModelConfig, ...] = ()
    groups: tuple[GroupConfig, ...] = ()
    rules: tuple[RuleConfig, ...] = ()
    dnssd: DnssdConfig = field(default_factory=DnssdConfig)
    ldap: LdapConfig = field(default_factory=LdapConfig)
    users: UsersConfig = field(default_factory=UsersConfig)
    release: ReleaseConfig = field(default_factory=ReleaseConfig)

    def queue(self, name: str) -> QueueConfig | None:
        for q in self.queues:
            if q.name == name:
                return q
        return None


def embedded_default() -> Config:
    """What ``ippproxy serve`` and ``ippproxy cmd`` run on without ``--config`` (``make
    run``): the defaults above with counting and pricing on, users created on their first
    job and not held to a credit limit (unrestricted, as PaperCut's new users are by
    default), so a cost model set in the admin pages prices the next job at once."""
    return Config(accounting=AccountingConfig(enabled=True, restricted=False))


def _coerce(key: str, typ: Any, value: Any) -> Any:
    if typ is bool:
        if not isinstance(value, bool):
            raise ConfigError(key, f"expected true or false, got {value!r}")
        return value
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(key, f"expected an integer, got {value!r}")
        if value < 0:
            raise ConfigError(key, "must not be negative")
        return value
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(key, f"expected a number, got {value!r}")
        if value < 0:
            raise ConfigError(key, "must not be negative")
        return float(value)
    if typ is str:
        if not isinstance(value, str):
            raise ConfigError(key, f"expected a string, got {value!r}")
        return value
    if typ == tuple[str, ...]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(key, "expected a list of strings")
        return tuple(value)
    raise ConfigError(key, f"unsupported type {typ}")  # pragma: no cover


# Keys that once existed: check-config names what replaced them.
OBSOLETE = {
    "server.admins": "obsolete: requesting-user-name makes nobody an admin; admin operations "
                     "need an authenticated admin (a user with the admin role or a group "
                     "with write access to printers, over ipps:// or with an API token, or "
                     "root on server.unix_socket); see README \"Administrators\"",
}


def _section(cls: type, key: str, raw: Any, **fixed: Any) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(key, "expected a table")
    for name in raw:
        sub = f"{key}.{name}" if key else name
        if sub in OBSOLETE:
            raise ConfigError(sub, OBSOLETE[sub])
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = {f.name: f.type for f in dataclasses.fields(cls)}
    types = {name: eval(t, globals()) if isinstance(t, str) else t for name, t in hints.items()}
    kwargs: dict[str, Any] = dict(fixed)
    for name, value in raw.items():
        sub = f"{key}.{name}" if key else name
        if name not in fields or name in fixed:
            raise ConfigError(sub, "unknown key")
        kwargs[name] = _coerce(sub, types[name], value)
    missing = [n for n, f in fields.items() if n not in kwargs
               and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{key}.{missing[0]}" if key else missing[0], "required key missing")
    return cls(**kwargs)


def _check_destination(key: str, dest: str) -> None:
    if dest == BUILTIN_DESTINATION:
        return
    parts = urlsplit(dest)
    if parts.scheme not in ("ipp", "ipps", "http", "https") or not parts.hostname:
        raise ConfigError(key, f"expected \"builtin\" or an ipp:// or ipps:// URI, got {dest!r}")
    try:
        parts.port  # noqa: B018 - parsing it is the check (1..65535)
    except ValueError:
        raise ConfigError(key, f"the port of {dest!r} is not a port number") from None


def _choice(key: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(key, f"expected one of {', '.join(allowed)}, got {value!r}")


def _decimal(key: str, value: str, *, at_most_one: bool = False) -> None:
    if not _DECIMAL.fullmatch(value):
        raise ConfigError(key, "expected a non-negative decimal in ASCII digits such as "
                          f"\"0.10\" (at most 13 digits before the point), got {value!r}")
    if at_most_one and float(value) > 1:
        raise ConfigError(key, "must be between 0 and 1")


def _tables(key: str, raw: Any) -> list[Any]:
    if not isinstance(raw, list):
        raise ConfigError(key, f"expected an array of tables ([[{key}]])")
    return raw


def cost_model_from_dict(key: str, m: Any) -> CostModelConfig:
    """One ``[[cost_model]]`` table (or the same from the catalog's services), checked."""
    if not isinstance(m, dict):
        raise ConfigError(key, "expected a table")
    media = tuple(_section(MediaPriceConfig, f"{key}.media[{j}]", x)
                  for j, x in enumerate(_tables(f"{key}.media", m.get("media", []))))
    model: CostModelConfig = _section(CostModelConfig, key,
                                      {k: v for k, v in m.items() if k != "media"},
                                      media=media)
    _label(f"{key}.name", model.name)
    for f in ("mono", "color", "job_fee"):
        _decimal(f"{key}.{f}", getattr(model, f))
    _decimal(f"{key}.duplex_discount", model.duplex_discount, at_most_one=True)
    for j, mp in enumerate(media):
        _decimal(f"{key}.media[{j}].mono", mp.mono)
        _decimal(f"{key}.media[{j}].color", mp.color)
    return model


def _cost_models(raw: Any) -> tuple[CostModelConfig, ...]:
    out: list[CostModelConfig] = []
    for i, m in enumerate(_tables("cost_model", raw)):
        key = f"cost_model[{i}]"
        model = cost_model_from_dict(key, m)
        if any(o.name == model.name for o in out):
            raise ConfigError(f"{key}.name", f"duplicate cost model {model.name!r}")
        out.append(model)
    return tuple(out)


def group_from_dict(key: str, raw: Any) -> GroupConfig:
    group: GroupConfig = _section(GroupConfig, key, raw)
    if not group.name.strip():
        raise ConfigError(f"{key}.name", "must not be empty")
    for f in ("multiplier", "initial_balance", "credit_limit"):
        _decimal(f"{key}.{f}", getattr(group, f))
    return group


def _groups(raw: Any) -> tuple[GroupConfig, ...]:
    return tuple(group_from_dict(f"group[{i}]", g) for i, g in enumerate(_tables("group", raw)))


def rule_from_dict(key: str, r: Any) -> RuleConfig:
    rule: RuleConfig = _section(RuleConfig, key, r)
    if rule.name:
        _label(f"{key}.name", rule.name)
    _choice(f"{key}.type", rule.type, RULE_TYPES)
    _choice(f"{key}.unknown", rule.unknown, UNKNOWN_MODES)
    _decimal(f"{key}.amount", rule.amount)
    if rule.type in ("max-pages", "max-copies", "max-spool-size") and "limit" not in r:
        raise ConfigError(f"{key}.limit", f"required for {rule.type}")
    if rule.type == "max-cost" and "amount" not in r:
        raise ConfigError(f"{key}.amount", "required for max-cost")
    if rule.type == "charge-account" and (
            len(rule.values) != 1 or not 0 < len(rule.values[0]) <= 64):
        raise ConfigError(f"{key}.values", "charge-account names one shared account code")
    if rule.allow_print_as_other and rule.type != "ask-account":
        raise ConfigError(f"{key}.allow_print_as_other", "only an ask-account rule asks")
    return rule


def _rules(raw: Any) -> tuple[RuleConfig, ...]:
    out: list[RuleConfig] = []
    for i, r in enumerate(_tables("rule", raw)):
        rule = rule_from_dict(f"rule[{i}]", r)
        if rule.name and any(o.name == rule.name for o in out):
            raise ConfigError(f"rule[{i}].name", f"duplicate rule {rule.name!r}")
        out.append(rule)
    return tuple(out)


# A scrape token is compared in constant time and must not be guessable.
METRICS_TOKEN_MIN = 16


def _check_worker_user(name: str) -> None:
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        raise ConfigError("analysis.user", f"no such user {name!r} on this host") from None
    if pw.pw_uid == 0 or pw.pw_gid == 0:
        raise ConfigError("analysis.user", f"{name!r} is root: workers must not be")


def _check_server(s: ServerConfig) -> None:
    if bool(s.tls_cert) != bool(s.tls_key):
        missing = "server.tls_key" if s.tls_cert else "server.tls_cert"
        raise ConfigError(missing, "tls_cert and tls_key are set together (or neither)")
    for key, path in (("server.tls_cert", s.tls_cert), ("server.tls_key", s.tls_key)):
        if path and not Path(path).is_file():
            raise ConfigError(key, f"no such file: {path}")
    for key in ("max_connections", "max_connections_per_address", "multiple_operation_timeout"):
        if getattr(s, key) < 1:
            raise ConfigError(f"server.{key}", "at least 1")
    for key in ("fd_reserve", "max_jobs_per_user", "max_subscriptions_per_user",
                "max_active_jobs"):
        if getattr(s, key) < 0:
            raise ConfigError(f"server.{key}", "0 or more")
    if not 0 <= s.workers <= MAX_WORKERS:
        raise ConfigError("server.workers", f"0 (one per CPU core) to {MAX_WORKERS}")
    token = s.metrics_token
    if token and (len(token) < METRICS_TOKEN_MIN or not token.isprintable() or " " in token):
        raise ConfigError("server.metrics_token",
                          f"at least {METRICS_TOKEN_MIN} printable characters, no spaces")


def queue_from_dict(key: str, raw: Any) -> QueueConfig:
    """One ``[[queue]]`` table (or the same from the catalog's services), checked alone
    (references to cost models are checked against the whole configuration)."""
    queue: QueueConfig = _section(QueueConfig, key, raw)
    _name(f"{key}.name", queue.name)
    _check_destination(f"{key}.destination", queue.destination)
    _choice(f"{key}.authentication", queue.authentication, AUTHENTICATION)
    _choice(f"{key}.release", queue.release, RELEASE)
    for i, who in enumerate(queue.approvers):
        if not 0 < len(who) <= 255 or not who.isprintable():
            raise ConfigError(f"{key}.approvers[{i}]", "a user name or @group, printable")
    if queue.approvers and queue.release != "approval":
        raise ConfigError(f"{key}.approvers", "only for release = \"approval\"")
    return queue


def _label(key: str, name: str) -> None:
    """A cost model's or rule's name: 1 to 127 printable characters, no outer spaces."""
    if not name or len(name) > 127 or not name.isprintable() or name != name.strip():
        raise ConfigError(key, "1 to 127 printable characters, no leading or trailing space")


def _name(key: str, name: str) -> None:
    if not QUEUE_NAME.match(name):
        raise ConfigError(key, "1 to 127 letters, digits, '_', '.', '-' (a letter or "
                          "digit first)")


def _check_accounting(cfg: Config) -> None:
    a = cfg.accounting
    _choice("accounting.unknown_users", a.unknown_users, UNKNOWN_USERS)
    _choice("accounting.trust_printer_counts", a.trust_printer_counts, TRUST)
    _choice("analysis.unknown_pages", cfg.analysis.unknown_pages, UNKNOWN_MODES)
    _decimal("accounting.initial_balance", a.initial_balance)
    _decimal("accounting.credit_limit", a.credit_limit)
    if a.low_credit_threshold:
        _decimal("accounting.low_credit_threshold", a.low_credit_threshold)
    if not re.match(r"^[A-Z]{3}$", a.currency):
        raise ConfigError("accounting.currency", "expected an ISO 4217 code such as \"EUR\"")
    if a.minor_unit_digits > 4:
        raise ConfigError("accounting.minor_unit_digits", "at most 4")
    if cfg.analysis.workers < 1:
        raise ConfigError("analysis.workers", "at least 1")
    _check_worker_user(cfg.analysis.user)
    if not a.popup_timeout > 0:
        raise ConfigError("accounting.popup_timeout", "more than 0 seconds")
    if not a.release_expiry > 0:
        raise ConfigError("accounting.release_expiry", "more than 0 seconds")
    if not cfg.forwarding.send_timeout > 0:
        raise ConfigError("forwarding.send_timeout", "more than 0 seconds")
    models = {m.name for m in cfg.cost_models}
    if a.default_cost_model and a.default_cost_model not in models:
        raise ConfigError("accounting.default_cost_model",
                          f"no [[cost_model]] named {a.default_cost_model!r}")
    for i, q in enumerate(cfg.queues):
        if q.authentication in ("basic", "token", "popup") and not a.enabled:
            raise ConfigError(f"queue[{i}].authentication",
                              f"\"{q.authentication}\" checks the user store: "
                              "set accounting.enabled = true")
        if q.cost_model and q.cost_model not in models:
            raise ConfigError(f"queue[{i}].cost_model", f"no [[cost_model]] named {q.cost_model!r}")
    names = {q.name for q in cfg.queues}
    for i, r in enumerate(cfg.rules):
        for p in r.printers:
            if p not in names:
                raise ConfigError(f"rule[{i}].printers", f"no queue named {p!r}")


# Numbers and their ranges: (dotted key, low, low excluded, high); high None: 2**63 - 1.
_RANGES: tuple[tuple[str, float, bool, float | None], ...] = (
    ("server.keepalive_timeout", 0, True, None), ("server.header_timeout", 0, False, None),
    ("server.max_attributes_bytes", 1024, False, None),
    ("server.max_document_bytes", 0, False, None),
    ("server.job_history_seconds", 0, False, None),
    ("storage.catalog_poll_interval", 0, True, 3600), ("storage.pool_size", 1, False, 1000),
    ("forwarding.retry_initial", 0, True, None), ("forwarding.retry_max", 0, True, None),
    ("forwarding.poll_interval", 0, True, None), ("forwarding.attributes_ttl", 0, False, None),
    ("forwarding.connect_timeout", 0, True, None), ("forwarding.send_timeout", 0, True, None),
    ("forwarding.send_interval_while_receiving", 0, False, None),
    ("accounting.settle_interval", 0, True, None), ("accounting.orphan_lease", 0, True, None),
    ("analysis.workers", 1, False, 1024), ("analysis.queue_size", 1, False, None),
    ("analysis.cpu_seconds", 1, False, None), ("analysis.memory_mb", 64, False, None),
    ("analysis.wall_seconds", 0, True, None),
    ("users.pin_length_min", 1, False, 64), ("users.pin_length_max", 0, False, 64),
    ("users.id_number_length_min", 0, False, 64),
    ("users.password_length_min", 1, False, 1024),
    ("release.station_idle", 0, True, STATION_IDLE_MAX),
)


def _value(cfg: Config, dotted: str) -> Any:
    section, name = dotted.split(".")
    return getattr(getattr(cfg, section), name)


def _check_ranges(cfg: Config) -> None:
    """Ports, addresses, the database and every number within its range
    (ippproxy/configvalues.py), named by key."""
    problems: list[tuple[str, str | None]] = [
        ("server.port", configvalues.port(cfg.server.port)),
        ("virtual_printer.port", configvalues.port(cfg.virtual_printer.port)),
        ("server.listen", configvalues.host(cfg.server.listen, empty=True)),
        ("virtual_printer.listen", configvalues.host(cfg.virtual_printer.listen)),
        ("server.hostname", configvalues.host(cfg.server.hostname, empty=True)),
        ("storage.database", configvalues.database(cfg.storage.database)),
        ("storage.spool", None if cfg.storage.spool.strip() else "must not be empty"),
    ]
    problems += [(key, configvalues.number(_value(cfg, key), low=low, low_open=open_,
                                           high=high))
                 for key, low, open_, high in _RANGES]
    if cfg.forwarding.retry_max < cfg.forwarding.retry_initial:
        problems.append(("forwarding.retry_max", "must be at least forwarding.retry_initial"))
    for key, problem in problems:
        if problem:
            raise ConfigError(key, problem)


def _check_groups(cfg: Config) -> None:
    """A rule names groups the file defines ([[group]]): a typo would silently never
    match (and ``ippproxy cmd add-internal-user --group`` finds no such group)."""
    defined = {g.name for g in cfg.groups}
    for i, r in enumerate(cfg.rules):
        for field_name in ("groups", "exempt_groups", "allowed_groups"):
            for name in getattr(r, field_name):
                if name not in defined:
                    raise ConfigError(f"rule[{i}].{field_name}",
                                      f"no [[group]] named {name!r} in this file")


def _check_findme(cfg: Config) -> None:
    """A Find-Me queue's printers are other queues of the file, none a Find-Me queue."""
    by_name = {q.name: q for q in cfg.queues}
    for i, q in enumerate(cfg.queues):
        if q.findme_printers and not cfg.accounting.enabled:
            raise ConfigError(f"queue[{i}].findme_printers", "Find-Me holds and prices "
                              "jobs: it needs accounting.enabled = true")
        for name in q.findme_printers:
            target = by_name.get(name)
            if target is None or target is q or target.findme_printers:
                raise ConfigError(f"queue[{i}].findme_printers",
                                  f"{name!r} is not another queue of this file (nor a "
                                  "Find-Me queue)")


def from_dict(raw: dict[str, Any]) -> Config:
    """Build a Config from parsed TOML, naming the first bad key."""
    sections = {"server": ServerConfig, "storage": StorageConfig,
                "forwarding": ForwardingConfig, "virtual_printer": VirtualPrinterConfig,
                "accounting": AccountingConfig, "analysis": AnalysisConfig,
                "dnssd": DnssdConfig,
                "ldap": LdapConfig, "users": UsersConfig, "release": ReleaseConfig}
    arrays = {"cost_model": ("cost_models", _cost_models), "group": ("groups", _groups),
              "rule": ("rules", _rules)}
    kwargs: dict[str, Any] = {}
    for name, value in raw.items():
        if name in sections:
            kwargs[name] = _section(sections[name], name, value)
        elif name == "queue":
            if not isinstance(value, list):
                raise ConfigError("queue", "expected an array of tables ([[queue]])")
            queues: list[QueueConfig] = []
            for i, q in enumerate(value):
                key = f"queue[{i}]"
                queue = queue_from_dict(key, q)
                if any(other.name == queue.name for other in queues):
                    raise ConfigError(f"{key}.name", f"duplicate queue {queue.name!r}")
                queues.append(queue)
            if not queues:
                raise ConfigError("queue", "at least one queue is needed")
            marked = [i for i, q in enumerate(queues) if q.default]
            if len(marked) > 1:
                raise ConfigError(f"queue[{marked[1]}].default",
                                  f"queue {queues[marked[0]].name!r} is the default already")
            kwargs["queues"] = tuple(queues)
        elif name in arrays:
            field_name, parse = arrays[name]
            kwargs[field_name] = parse(value)
        else:
            raise ConfigError(name, "unknown key")
    cfg = Config(**kwargs)
    _check_server(cfg.server)
    _check_ranges(cfg)
    _check_groups(cfg)
    _check_findme(cfg)
    if cfg.storage.copy_max_bytes > COPY_MAX_LIMIT:
        raise ConfigError("storage.copy_max_bytes", f"must be at most {COPY_MAX_LIMIT}")
    _check_accounting(cfg)
    _check_ldap(cfg.ldap)
    _check_desktop(cfg)
    return cfg


def _check_desktop(cfg: Config) -> None:
    """The desktop user is proven by the local socket only, and is a user of accounting."""
    if not cfg.users.trust_desktop_user:
        return
    if not cfg.server.unix_socket:
        raise ConfigError("users.trust_desktop_user", "needs server.unix_socket (the desktop "
                          "user is proven by the local socket's peer credentials)")
    if not cfg.accounting.enabled:
        raise ConfigError("users.trust_desktop_user", "needs accounting.enabled = true (the "
                          "desktop user logs in as a user of the user store)")


LDAP_FIELDS = ("full-name", "email", "card-number", "id-number")


def _check_ldap(c: LdapConfig) -> None:
    if not c.url:
        return
    scheme = urlsplit(c.url).scheme
    if scheme not in ("ldap", "ldaps") or not urlsplit(c.url).hostname:
        raise ConfigError("ldap.url", f"expected an ldap:// or ldaps:// URL, got {c.url!r}")
    _choice("ldap.tls", c.tls, ("none", "starttls", "ldaps"))
    if (c.tls == "ldaps") != (scheme == "ldaps"):
        raise ConfigError("ldap.tls", "tls = \"ldaps\" goes with an ldaps:// URL, and only")
    if not c.base_dn:
        raise ConfigError("ldap.base_dn", "required with ldap.url")
    for f in c.overwrite:
        _choice("ldap.overwrite", f, LDAP_FIELDS)
    if c.timeout <= 0:
        raise ConfigError("ldap.timeout", "must be positive")


def load(path: str | Path) -> Config:
    try:
        with open(path, "rb") as f:
            raw = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError("", f"{path}: not valid TOML: {e}") from e
    except OSError as e:
        raise ConfigError("", f"cannot read {path}: {e.strerror or e}") from e
    return from_dict(raw)
