"""The composition root: the only module that imports every package and wires them together.

``build_app(config)`` returns the aiohttp application; its cleanup context opens, on
startup, the database (Alembic upgrade, ``db.upgrade_locked``), the spool, the job store,
runs crash recovery, provisions the file's queues, cost models, groups and rules into the
catalog (``services.provisioning``) and serves the catalog's objects from then on (the file
keeps the node settings), starts the built-in virtual printer when a queue uses
``destination = "builtin"`` (``virtualprinter.builtin``), loads the queues' stored state,
and starts the Forwarder and the destinations' capabilities
(``forwarding.capabilities``), and a ``CatalogWatcher`` that hands every new catalog
snapshot to the server, the forwarder and the pipeline (``reconfigure``); on cleanup it
stops them in reverse order. It builds and connects; the behaviour lives in the modules it
wires. One ``Metrics`` per app goes to the intake, the Forwarder and the server's
``/metrics``. ``serve(config)`` runs the app on one port for IPP, IPPS and HTTPS
(``server.listener``, with ``server.tls``'s certificate) until
SIGTERM or SIGINT and then shuts down gracefully (in-flight requests finish first).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import socket
from collections.abc import AsyncIterator, Callable, Iterable
from pathlib import Path

import aiohttp
from aiohttp import web

from ippproxy.catalog import AuditQuery, Catalog, CatalogWatcher, Snapshot
from ippproxy.config import BUILTIN_DESTINATION, Config
from ippproxy.db import Checkpointer, make_engine, upgrade_locked
from ippproxy.directory.bind import password_checker
from ippproxy.directory.settings import from_config as ldap_settings
from ippproxy.directory.sync import DirectorySync
from ippproxy.dnssd import Advertiser
from ippproxy.forwarding.capabilities import DestinationCapabilities, destination_uri
from ippproxy.forwarding.client import DestinationClient
from ippproxy.forwarding.worker import Forwarder
from ippproxy.jobs.spool import Spool
from ippproxy.jobs.store import JobStore
from ippproxy.metrics import Metrics
from ippproxy.pipeline import Intake, Pipeline, open_pipeline
from ippproxy.pipeline.findme import keeps_held
from ippproxy.pipeline.findme_release import FindMeRelease
from ippproxy.pipeline.identity import identify
from ippproxy.pipeline.requote import Requoter
from ippproxy.pipeline.settle import FanOut
from ippproxy.policies import Policy, PolicyChain
from ippproxy.server import heap, housekeeping
from ippproxy.server.advertised import queue_attributes
from ippproxy.server.authn import peer_uid
from ippproxy.server.background import stop_tasks
from ippproxy.server.basic_auth import BasicAuthenticator, plain_urls, requiring, url_queues
from ippproxy.server.caps import Caps, connection_limit, raise_fd_limit
from ippproxy.server.context import ServerContext, load_queues
from ippproxy.server.deadlines import Deadlines
from ippproxy.server.http import CTX, ServerState, add_routes
from ippproxy.server.instance import InstanceLock, StartupError, explain, lock_paths
from ippproxy.server.listener import Listener, bind
from ippproxy.server.metrics_share import MetricsShare
from ippproxy.server.pages import add_pages
from ippproxy.server.receiving import Receiving
from ippproxy.server.redirect import https_redirect
from ippproxy.server.scrape import add_metrics_route
from ippproxy.server.subscriptions import Subscriptions
from ippproxy.server.tls import ensure_certificate, server_context
from ippproxy.services import user_sweep
from ippproxy.services.admins import Admins, first_start_banner
from ippproxy.services.audit import AuditService
from ippproxy.services.auditsink import CatalogAudit
from ippproxy.services.cashier import Cashier
from ippproxy.services.cost_models import CostModelService
from ippproxy.services.denials import Denials
from ippproxy.services.desktop_login import DesktopLogins
from ippproxy.services.destination_probe import DestinationProbe
from ippproxy.services.events import EventHub, JobFeed
from ippproxy.services.findme import FindMe
from ippproxy.services.groups import GroupService
from ippproxy.services.ipp_logins import IppLogins
from ippproxy.services.job_prices import JobPrices
from ippproxy.services.joblog import JobLog
from ippproxy.services.jobs import Jobs
from ippproxy.services.mydenials import MyDenials
from ippproxy.services.myledger import MyLedger
from ippproxy.services.options import OptionService
from ippproxy.services.printas import PrintAsOther
from ippproxy.services.printer_status import PrinterStatus
from ippproxy.services.printer_urls import PrinterUrls
from ippproxy.services.printer_watch import PrinterWatch
from ippproxy.services.provisioning import provision
from ippproxy.services.queues import IppStateAudit, QueueService
from ippproxy.services.release import Release
from ippproxy.services.release_approvers import Approvers
from ippproxy.services.reports import Reports
from ippproxy.services.rules import RuleService
from ippproxy.services.sessions import Sessions
from ippproxy.services.throttle import LoginThrottle
from ippproxy.services.tokens import Tokens
from ippproxy.services.totp import Totp
from ippproxy.services.user_list import UserList
from ippproxy.services.user_roles import UserRoles
from ippproxy.services.user_sync import UserSync, run_scheduled
from ippproxy.services.user_wiring import user_services
from ippproxy.services.usernotices import UserNotices, low_credit
from ippproxy.services.users import Users
from ippproxy.services.userside import UserSide
from ippproxy.virtualprinter.builtin import start_builtin
from ippproxy.web.auth import may_scrape
from ippproxy.web.pages.routes import add_admin_pages
from ippproxy.web.pages.state import ADMIN, AdminServices
from ippproxy.web.pages.user.state import USER_APP, UserAppServices
from ippproxy.web.routes import add_web
from ippproxy.web.state import WEB, CatalogServices, WebServices

__all__ = ["StartupError", "build_app", "serve", "start_unix_socket"]

log = logging.getLogger(__name__)

UNLIMITED = 1 << 62
# With several nodes on one spool, a node's start-up removes temp and unreferenced spool
# files only when untouched this long (another node may be receiving or deciding on them).
SHARED_SPOOL_MIN_AGE = 3600.0


def _lifecycle(file: Config, policies: tuple[Policy, ...], metrics: Metrics, primary: bool
               ) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        config = file
        async with contextlib.AsyncExitStack() as stack:
            pauses = heap.Pauses()   # the garbage collector's, for /metrics
            pauses.start()
            stack.callback(pauses.stop)
            metrics.watch_gc(pauses.snapshot, heap.PAUSE_BUCKETS)
            engine = make_engine(config.storage.database, pg_pool=config.storage.pool_size)
            stack.callback(engine.dispose)
            await asyncio.to_thread(upgrade_locked, engine)
            checkpointer = Checkpointer(engine).start()  # SQLite's log, off the writers
            stack.push_async_callback(asyncio.to_thread, checkpointer.close)
            spool = Spool(config.storage.spool, config.server.max_document_bytes or UNLIMITED,
                          copy_max=config.storage.copy_max_bytes)
            # Several nodes share the database and the spool: each names itself, recovers
            # only its own claims, and leaves the spool files of the others alone.
            node = config.storage.node or None
            store = JobStore(engine, node=node)
            stack.push_async_callback(store.close)
            spool.copies = store  # small documents live in the store (spool.py)
            recovered = await store.recover(spool, min_age=SHARED_SPOOL_MIN_AGE if node else 0)
            log.info("recovery: %d job(s) brought to a defined state", len(recovered))
            # The file's queues, cost models, groups and rules into the catalog (marked
            # provisioned), then the catalog's objects in place of the file's: `file` keeps
            # the node settings, `config` is what this node serves from now on.
            catalog = Catalog(engine)
            await provision(catalog, file)
            snapshot = await asyncio.to_thread(catalog.snapshot)
            config = snapshot.apply(file)
            builtin = _Builtin(file, stack, enabled=primary)
            await builtin.ensure(config)
            # Paused and accepting as stored (Pause-Printer survives a restart).
            queues = await load_queues(config.queues, store)
            metrics.declare(queues)
            metrics.watch_store(store.stats)
            # Counting, rules and charging (issues 4, 5): opened before the Forwarder so
            # that it stops after it.
            pipeline: Pipeline | None = None
            if config.accounting.enabled:
                pipeline = await stack.enter_async_context(
                    open_pipeline(config, engine, store, spool, policies, metrics))
                await pipeline.reconfigure(config)   # the groups as the user store has them
                metrics.watch_analysis_queue(lambda: pipeline.pool.waiting if pipeline else 0)
            # Conversion for destinations that do not take a job's format shares the
            # pipeline's analysis pool; without one the Forwarder makes its own when needed.
            # Submissions in flight: the Forwarder spaces its sends while there are any.
            receiving = Receiving()
            # The admin's live activity: job changes from the store (every node's),
            # denials from intake, destination states (services/events.py).
            hub = EventHub(node or "local")
            feed = JobFeed(hub, store.reports)
            # IPP subscriptions (RFC 3995) in the store, their job events from every node's
            # job changes (server/subscriptions.py).
            subscriptions = Subscriptions(store)
            # One log line per job event of this node (services/joblog.py).
            joblog = JobLog(store.reports, node, JobPrices(pipeline.accounting).logged
                            if pipeline else None)
            forwarder = Forwarder(store, spool, config,
                                  on_finished=FanOut(pipeline.settler, feed, joblog,
                                                     subscriptions).job_changed
                                  if pipeline else FanOut(feed, joblog, subscriptions).job_changed,
                                  pool=pipeline.pool if pipeline else None,
                                  receiving=receiving, metrics=metrics)
            await forwarder.start()
            stack.push_async_callback(forwarder.stop)
            session = aiohttp.ClientSession()
            stack.push_async_callback(session.close)
            capabilities = DestinationCapabilities(config.forwarding, config.virtual_printer,
                                                   forwarder.client, session)
            stack.push_async_callback(capabilities.close)
            intake = pipeline.intake if pipeline else Intake(
                store, spool, PolicyChain(policies), metrics=metrics)
            notifier = (FanOut(forwarder, pipeline.settler, feed, joblog, subscriptions)
                        if pipeline else FanOut(forwarder, feed, joblog, subscriptions))
            # The admin side (issue 13): the master password is printed at first start only.
            audit = CatalogAudit(catalog)
            denials = Denials(hub, audit, catalog.audit_count)
            intake.on_denied = denials.job_denied
            stack.push_async_callback(denials.drain)
            ldap = ldap_settings(config.ldap)
            admins = Admins(engine, audit, users=config.accounting.enabled,
                            external=password_checker(ldap) if ldap and config.ldap.login
                            else None)
            password = await asyncio.to_thread(admins.ensure_master)
            if password is not None:
                print(first_start_banner(password), flush=True)
            tokens, throttle = Tokens(engine, audit), LoginThrottle(engine)
            # IPP clients prove who they are with the same accounts, tokens and throttle.
            printer_urls = PrinterUrls(engine, audit, lambda: (
                q.name for q in app[CTX].get().config.queues if q.authentication == "token"),
                uuid_tokens=lambda: app[CTX].get().config.users.uuid_printer_urls)
            authenticator = BasicAuthenticator(
                requiring(config.queues), IppLogins(admins, tokens, throttle, printer_urls),
                urls=url_queues(config.queues), plain=plain_urls(config.queues))
            # Hold/release queues and PIN jobs (issue 17 §6).
            release = Release(store, notifier, audit, lambda: app[CTX].get().config,
                              capabilities, intake.pay_held,
                              Approvers(engine) if config.accounting.enabled else None)
            app[CTX].ctx = ServerContext(
                release=release, config=config, store=store, spool=spool,
                capabilities=capabilities, intake=intake, notifier=notifier,
                authenticator=authenticator,
                subscriptions=subscriptions, queues=queues, receiving=receiving,
                metrics=metrics, state_recorder=IppStateAudit(catalog))
            server = app[CTX].get()
            # The user's side (issue 17): their jobs and accounts, and their live events,
            # which hear of every job change of this node.
            userside = notices = print_as = None
            if config.accounting.enabled:
                userside = UserSide(store, engine, notifier, audit, intake.pay_held,
                                    lambda j: keeps_held(server.config, j.queue),
                                    check_password=admins.authenticate,
                                    identify=functools.partial(identify, intake))
                userside.release_queue = lambda job: release.mode(job) != "none"
                userside.throttle = throttle   # wrong account PINs (issue 17 §5)
                notices = UserNotices(userside, lambda: server.config.accounting.popup_timeout,
                                      hub, low_credit=lambda: low_credit(server.config),
                                      alert=lambda: server.config.accounting.client_alert)
                notifier.listeners = (*notifier.listeners, notices)
                print_as = PrintAsOther(userside, notices.told)
                stack.callback(notices.close)
            jobs = Jobs(store, notifier, audit, lambda: server.queues.keys(),
                        Requoter(pipeline.accounting) if pipeline else None,
                        intake.pay_held)
            # Find-Me (issue 17 point 7): a held job released at a printer of its group.
            findme = None
            if pipeline is not None and pipeline.intake.metering is not None:
                findme = FindMe(store, FindMeRelease(
                    store, pipeline.intake.metering.converter, Requoter(pipeline.accounting),
                    capabilities.printer_attributes), lambda: server.config, notifier, audit)
            jobs.held = release
            queue_service = QueueService(catalog, store, file, notify=notifier.job_changed)
            reports = Reports(store.reports, denials.since)
            printers = PrinterStatus(queue_service, capabilities, store,
                                     lambda q: destination_uri(q, server.config.virtual_printer))
            cost_models = CostModelService(catalog)
            # The LDAP user source (issue 18): sync on demand and scheduled, one status.
            user_sync = (UserSync(DirectorySync(engine, ldap,
                                                pipeline.accounting.new_user_defaults()), audit,
                                  lambda: catalog.audit_log(AuditQuery(kind="directory",
                                                                       limit=5)))
                         if ldap and pipeline is not None else None)
            app[WEB].services = WebServices(
                admins=admins, sessions=Sessions(engine), tokens=tokens,
                throttle=throttle, jobs=jobs,
                users=Users(engine, audit) if config.accounting.enabled else None,
                catalog=CatalogServices(
                    queues=queue_service, printers=printers, cost_models=cost_models,
                    rules=RuleService(catalog), groups=GroupService(catalog, file),
                    options=OptionService(catalog, file), audit=AuditService(catalog),
                    reports=reports, refresh=lambda: watcher.poll()),
                printer_urls=printer_urls, userside=userside, notices=notices, findme=findme,
                print_as=print_as,
                totp=Totp(engine, audit), user_sync=user_sync,
                user_roles=UserRoles(engine, audit) if config.accounting.enabled else None,
                cashier=Cashier(engine, audit, config.accounting.minor_unit_digits)
                if config.accounting.enabled else None,
                release=release,
                user_list=UserList(engine, audit, store.reports,
                                   config.accounting.minor_unit_digits)
                if config.accounting.enabled else None,
                desktop=DesktopLogins(admins, config.server.unix_socket)
                if config.users.trust_desktop_user else None,
                peer_uid=peer_uid,
                **user_services(engine, audit, catalog, lambda: server.config))
            watch = PrinterWatch(hub, capabilities, lambda: server.config.queues)
            advertiser = Advertiser(config, lambda q, host: queue_attributes(server, q, host))
            tasks = [asyncio.create_task(housekeeping.run_forever(server), name="housekeeping"),
                     asyncio.create_task(feed.run(), name="job-feed"),
                     asyncio.create_task(watch.run(), name="printer-watch"),
                     asyncio.create_task(joblog.run(), name="job-log"),
                     asyncio.create_task(subscriptions.run(), name="ipp-subscriptions")]
            if primary:   # one announcement per server, not per worker (supervisor.py)
                tasks.append(asyncio.create_task(advertiser.run(), name="dnssd"))
            if notices is not None:
                tasks.append(asyncio.create_task(notices.run(), name="user-notices"))
            if user_sync is not None and config.ldap.sync_interval > 0:
                tasks.append(asyncio.create_task(run_scheduled(
                    user_sync, config.ldap.sync_interval), name="directory-sync"))
            life = app[WEB].get().user_life
            if life is not None:  # issue 18: deleted users whose history aged out
                tasks.append(asyncio.create_task(user_sweep.run_forever(life),
                                                 name="user-sweep"))

            async def changed(new: Snapshot) -> None:
                live = new.apply(file)
                await builtin.ensure(live)
                server.reconfigure(live, await store.queue_states())
                forwarder.reconfigure(live)
                advertiser.reconfigure(live)
                if pipeline is not None:
                    await pipeline.reconfigure(live)
                log.info("catalog version %d: %d queue(s)", new.version, len(live.queues))

            watcher = CatalogWatcher(catalog, snapshot, file.storage.catalog_poll_interval,
                                     changed)
            watcher.start()
            stack.push_async_callback(watcher.stop)
            app[ADMIN].services = AdminServices(
                hub=hub, reports=reports, printers=printers,
                queues=queue_service, cost_models=cost_models,
                probe=DestinationProbe(lambda uri: DestinationClient(
                    uri, session, attributes_ttl=0.0,
                    connect_timeout=config.forwarding.connect_timeout)),
                jobs=jobs, prices=JobPrices(pipeline.accounting) if pipeline else None,
                refresh=watcher.poll, findme=findme)
            if config.accounting.enabled:   # the user web app (issue 17 §8)
                app[USER_APP].services = UserAppServices(ledger=MyLedger(
                    engine, config.accounting.currency, config.accounting.minor_unit_digits),
                    denials=MyDenials(catalog.audit_log))
            yield
            app[USER_APP].services = None
            await stop_tasks(tasks)    # bounded: one that lost its cancel cannot hang stop
            app[ADMIN].services = None
            app[CTX].ctx = None
            app[WEB].services = None
    return ctx


class _Builtin:
    """The built-in virtual printer, started when the first queue uses it (at start, or
    when a queue with ``destination = "builtin"`` is added later) and stopped at exit."""

    def __init__(self, file: Config, stack: contextlib.AsyncExitStack, *,
                 enabled: bool = True) -> None:
        self.file, self.stack, self.started = file, stack, not enabled

    async def ensure(self, config: Config) -> None:
        if self.started or not any(q.destination == BUILTIN_DESTINATION
                                   for q in config.queues):
            return
        printer = await start_builtin(self.file.virtual_printer, Path(self.file.storage.spool))
        self.stack.push_async_callback(printer.close)
        self.started = True


def build_app(config: Config, *, policies: Iterable[Policy] = (),
              primary: bool = True, metrics_dir: Path | None = None) -> web.Application:
    """The IPP server as an aiohttp application (resources open when it starts).
    ``policies``: an embedding application's own rules, after the configured ones.
    ``primary``: this process runs what a server runs once (the built-in virtual printer,
    DNS-SD); false in the other workers of ``server.workers`` (supervisor.py).
    ``metrics_dir``: where the workers of ``server.workers`` share their metrics
    (server/metrics_share.py); None for a server of one process."""
    app = web.Application(client_max_size=config.server.max_attributes_bytes,
                          middlewares=[https_redirect(config.server)])
    app[CTX] = ServerState()
    metrics = Metrics()
    share = None if metrics_dir is None else MetricsShare(metrics_dir, config.storage.node)
    add_routes(app)
    add_pages(app)
    add_web(app)
    add_admin_pages(app)
    add_metrics_route(app, config.server.metrics_token, admin_check=may_scrape, share=share)
    if share is not None:
        app.cleanup_ctx.append(lambda _app: share.publishing(metrics.render))
    app.cleanup_ctx.append(_lifecycle(config, tuple(policies), metrics, primary))
    return app


async def start_unix_socket(runner: web.AppRunner, path: str) -> web.UnixSite:
    """The local socket (``server.unix_socket``), open to every local user as cupsd's
    ``/run/cups/cups.sock``: who connects is proven by SO_PEERCRED (server/authn.py)."""
    with contextlib.suppress(FileNotFoundError):
        if Path(path).is_socket():
            Path(path).unlink()  # left by a server that was killed
    site = web.UnixSite(runner, path)
    await site.start()
    Path(path).chmod(0o666)
    log.info("ippproxy listening on %s (IPP, local; peer credentials)", path)
    return site


def listen(config: Config, *, workers: bool = False) -> list[socket.socket]:
    """The listening sockets of ``server.listen`` and ``server.port``; ``workers``: bound
    with SO_REUSEPORT and not listening, held by the supervisor while each worker listens
    on its own (``server.listener.rebind``)."""
    host, port = config.server.listen, config.server.port
    try:
        return bind(host, port, reuse_port=workers, listen=not workers)
    except OSError as e:
        raise StartupError(f"cannot listen on {host}:{port}: "
                           f"{e.strerror or e}") from None


async def serve(config: Config, *, policies: Iterable[Policy] = (),
                ready: Callable[[list[tuple[str, int]]], None] | None = None) -> None:
    """Serve until SIGTERM/SIGINT, then stop gracefully. In this order: the instance
    lock (server/instance.py), the port, then the database, recovery and the rest (the
    app's start-up), then accepting; ``ready`` is called with the addresses once the
    server accepts. Anything that stops the start is a ``StartupError`` of one line."""
    lock = InstanceLock.acquire(
        lock_paths(config.storage.database, config.storage.spool, config.storage.node),
        f"{config.server.listen}:{config.server.port}")
    try:
        await serve_on(config, listen(config), policies, ready)
    finally:
        lock.release()


async def serve_on(config: Config, sockets: list[socket.socket], policies: Iterable[Policy],
                   ready: Callable[[list[tuple[str, int]]], None] | None, *,
                   primary: bool = True, metrics_dir: Path | None = None) -> None:
    """Serve on ``sockets`` (already listening) until SIGTERM/SIGINT; the caller holds the
    instance lock. ``primary``, ``metrics_dir``: see ``build_app``."""
    app = build_app(config, policies=policies, primary=primary, metrics_dir=metrics_dir)
    runner = web.AppRunner(app, handle_signals=False, access_log=None,
                           keepalive_timeout=config.server.keepalive_timeout)
    try:
        await runner.setup()
        cert = await asyncio.to_thread(ensure_certificate, config)
    except Exception as e:  # noqa: BLE001 - any start-up failure is one line (traceback at DEBUG)
        for sock in sockets:
            sock.close()
        with contextlib.suppress(Exception):
            await runner.cleanup()
        raise StartupError(explain(e)) from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    listener: Listener | None = None
    try:
        if runner.server is None:  # pragma: no cover - setup() made it
            raise RuntimeError("aiohttp runner not set up")
        caps = Caps(connection_limit(config.server.max_connections, raise_fd_limit(),
                                     config.server.fd_reserve),
                    config.server.max_connections_per_address)
        listener = Listener(sockets, runner.server, server_context(cert),
                            config.server.header_timeout, caps,
                            Deadlines(config.server.head_timeout,
                                      config.server.body_idle_timeout))
        listener.start()
        for host, port in listener.addresses:
            log.info("ippproxy listening on %s:%d (IPP, IPPS and HTTPS; certificate %s)",
                     host, port, cert.cert)
        if config.server.unix_socket:
            await start_unix_socket(runner, config.server.unix_socket)
        log.debug("%d objects of the start-up frozen out of the garbage collector",
                  heap.freeze())
        if ready is not None:
            ready(listener.addresses)
        await stop.wait()
        log.info("shutting down")
    finally:
        heap.thaw()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        if listener is not None:
            await listener.close()
        else:
            for sock in sockets:
                sock.close()
        await runner.cleanup()
