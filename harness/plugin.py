"""The pytest plugin: options, the target's life cycle, evidence per check,
verdicts per requirement, and the reports.

Registered through the `pytest11` entry point `bsk_conformance`. It stays out
of the way of ordinary tests: nothing starts, and no report is written,
unless conformance checks (tests marked `requirement`) run.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bsk_conformance import CONTRACT_VERSION, __version__
from bsk_conformance import suites as suites_package
from bsk_conformance.harness.clock import MODES
from bsk_conformance.harness.evidence import EvidenceLog, Redactor
from bsk_conformance.harness.limits import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_RUN_TIMEOUT,
    DEFAULT_UNRESPONSIVE_AFTER,
    Limits,
)
from bsk_conformance.harness.profile import ProfileError, load_profile
from bsk_conformance.harness.requirements import Catalogue, CatalogueError, load_catalogue
from bsk_conformance.harness.results import build_result, fold_phase, phase_outcome
from bsk_conformance.harness.transport import (
    KEY_PASSWORD_ENV,
    ConnectionOptions,
    ConnectionSetupError,
    check_proxy_url,
    merge_headers,
    parse_header_line,
    ssl_context,
)
from bsk_conformance.harness.verdicts import EXIT_INCOMPLETE, EXIT_USAGE, NotVerified, exit_code

pytest_plugins = ["bsk_conformance.harness.fixtures", "bsk_conformance.harness.phases"]

RUN_KEY = "bsk_run_key"
CHECK_PROPERTY = "bsk_check"


@dataclass
class RunState:
    """Everything one pytest process knows about the conformance run."""

    catalogue: Catalogue
    options: Any
    redactor: Redactor
    evidence: EvidenceLog
    is_controller: bool
    started: float = field(default_factory=time.time)
    checks: list[dict] = field(default_factory=list)
    clock_mode: str | None = None
    target_label: str = "in-process reference server"
    environment: str = "test"
    profile_digest: str | None = None
    preflight_notes: list[str] = field(default_factory=list)
    result: dict | None = None
    report_paths: dict[str, Path] = field(default_factory=dict)
    report_error: str | None = None
    service: Any = None  # harness.fixtures.TargetService, once a check asks for the target
    connection: ConnectionOptions | None = None  # how a remote target is reached
    target_fingerprint: dict | None = None  # TLS version and certificate of a remote target
    limits: Limits = field(default_factory=Limits)  # deadlines and caps (harness/limits.py)


state_key = pytest.StashKey[RunState]()
phases_key = pytest.StashKey[list[dict]]()
bucket_key = pytest.StashKey[list]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bsk-conformance", "BSK conformance harness")
    group.addoption(
        "--target",
        metavar="URL",
        help="base URL of the BSK API under test (default: the bundled reference server, in-process)",
    )
    group.addoption(
        "--target-profile", metavar="PATH", help="the target's profile (contract §7 TOML): environment and accounts"
    )
    group.addoption(
        "--report-dir",
        metavar="DIR",
        default="conformance-report",
        help="where the reports go (default: conformance-report/)",
    )
    group.addoption(
        "--clock",
        choices=MODES,
        default="auto",
        help="how time is moved: auto (default), control (/_test/clock), real (sleep within --real-time-budget), off",
    )
    group.addoption(
        "--real-time-budget",
        metavar="SECONDS",
        type=float,
        default=0.0,
        help="the longest real waiting allowed in the whole run (default 0)",
    )
    group.addoption(
        "--requirement",
        metavar="ID",
        action="append",
        default=[],
        help="run only the checks of this requirement; repeatable",
    )
    group.addoption(
        "--list-requirements", action="store_true", help="print the requirement catalogue with coverage, then exit"
    )
    group.addoption(
        "--request-timeout",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_REQUEST_TIMEOUT,
        help="the longest one exchange may take, connect to the last byte of the answer (default 10)",
    )
    group.addoption(
        "--run-timeout",
        metavar="SECONDS",
        type=float,
        default=DEFAULT_RUN_TIMEOUT,
        help="the longest the whole run may take; checks not run by then are not verified (default 900)",
    )
    group.addoption(
        "--max-response-bytes",
        metavar="N",
        type=int,
        default=DEFAULT_MAX_RESPONSE_BYTES,
        help="the largest body read from the target, on the wire or decoded (default 10485760, 10 MB)",
    )
    group.addoption(
        "--unresponsive-after",
        metavar="N",
        type=int,
        default=DEFAULT_UNRESPONSIVE_AFTER,
        help="after N timeouts in a row the target is judged unresponsive and the remaining checks "
        "are not run (default 3; 0: never)",
    )
    group.addoption(
        "--fuzz-examples", metavar="N", type=int, default=25, help="schema-fuzzing examples per operation (default 25)"
    )
    group.addoption(
        "--reference-factory",
        metavar="MODULE:CALLABLE",
        help="build the in-process server with this app factory (settings, clock) -> ASGI app",
    )
    # reaching a real target (harness/transport.py); all need --target
    group.addoption(
        "--proxy",
        metavar="URL",
        help="reach the target through this proxy (http://, https:// or socks5://; user:password@ if it asks); "
        "default: HTTPS_PROXY, HTTP_PROXY, ALL_PROXY and NO_PROXY, as httpx and curl read them",
    )
    group.addoption(
        "--ca-bundle",
        metavar="PATH",
        help="trust only these CA certificates (PEM file or hashed directory) for the target's certificate: they "
        "replace the default trust, as curl --cacert does (default: SSL_CERT_FILE, SSL_CERT_DIR, else certifi's "
        "bundle). Verification is never turned off",
    )
    group.addoption(
        "--client-cert", metavar="CERT", help="present this client certificate (PEM, with its key unless --client-key)"
    )
    group.addoption(
        "--client-key",
        metavar="KEY",
        help=f"the client certificate's private key (PEM; if encrypted, its password in {KEY_PASSWORD_ENV})",
    )
    group.addoption(
        "--target-header",
        metavar="'NAME: VALUE'",
        action="append",
        default=[],
        help="a header a gateway in front of the API wants, sent on every request to the target and to no other "
        "origin; repeatable; its value is redacted everywhere (Authorization, X-API-Key and Cookie are refused)",
    )
    # SHOULD failures fail the run with pytest's own --strict (pytest 9 owns the flag).


def _usage_error(message: str) -> None:
    pytest.exit(f"bsk-conformance: {message}", returncode=EXIT_USAGE)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "requirement(id): ties a conformance check to a requirement of the catalogue")
    for level in ("must", "should", "may"):
        config.addinivalue_line("markers", f"{level}: checks of {level.upper()} requirements")
    try:
        catalogue = load_catalogue()
    except CatalogueError as exc:
        _usage_error(f"the requirement catalogue is invalid:\n{exc}")
    for area in catalogue.areas():
        config.addinivalue_line("markers", f"{area}: checks of the {area} area of the contract")

    options = config.option
    if options.real_time_budget < 0:
        _usage_error("--real-time-budget must be zero or more seconds")
    if options.request_timeout <= 0:
        _usage_error("--request-timeout must be more than zero seconds")
    if options.run_timeout <= 0:
        _usage_error("--run-timeout must be more than zero seconds")
    if options.max_response_bytes < 1024:
        _usage_error("--max-response-bytes must be at least 1024")
    if options.unresponsive_after < 0:
        _usage_error("--unresponsive-after must be zero (never) or more")
    if options.fuzz_examples < 1:
        _usage_error("--fuzz-examples must be at least 1")
    if options.target_profile and not options.target:
        _usage_error(
            "--target-profile needs --target (without --target the bundled server and its own profile are used)"
        )
    if options.target and not options.target_profile:
        _usage_error("--target needs --target-profile PATH (contract §7: environment and at least two accounts)")
    if options.target and not options.target.startswith(("http://", "https://")):
        _usage_error(f"--target must be an http:// or https:// URL, got {options.target!r}")
    remote_only = [
        flag
        for flag, given in (
            ("--proxy", options.proxy),
            ("--ca-bundle", options.ca_bundle),
            ("--client-cert", options.client_cert),
            ("--client-key", options.client_key),
            ("--target-header", options.target_header),
        )
        if given
    ]
    if remote_only and not options.target:
        _usage_error(f"{', '.join(remote_only)}: only with --target (the in-process server is reached directly)")
    if options.target and options.reference_factory:
        _usage_error("--reference-factory builds the in-process server; it cannot be used with --target")
    unknown = [rid for rid in options.requirement if rid not in catalogue]
    if unknown:
        _usage_error(f"--requirement: unknown requirement ID(s) {', '.join(unknown)} (see --list-requirements)")

    workerinput = getattr(config, "workerinput", None)
    run_key = bytes.fromhex(workerinput[RUN_KEY]) if workerinput and RUN_KEY in workerinput else secrets.token_bytes(32)
    redactor = Redactor(run_key)
    limits = Limits(
        request_timeout=options.request_timeout,
        max_response_bytes=options.max_response_bytes,
        unresponsive_after=options.unresponsive_after,
        run_timeout=options.run_timeout,
    )
    state = RunState(
        catalogue, options, redactor, EvidenceLog(redactor), is_controller=workerinput is None, limits=limits
    )
    config.stash[state_key] = state
    if state.is_controller:
        config.pluginmanager.register(_CheckCollector(state), "bsk-conformance-collector")
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(state), "bsk-conformance-xdist")
    intended = _intended_args(config)
    if intended is not None:
        config.args = intended
        config.args_source = pytest.Config.ArgsSource.ARGS

    if options.reference_factory:
        # a report must never pass a variant off as the reference server
        state.target_label = f"in-process server built by {options.reference_factory}"
    if options.target:
        try:
            profile = load_profile(Path(options.target_profile))
        except ProfileError as exc:
            _usage_error(str(exc))
        state.target_label = options.target
        state.environment = profile.environment
        state.profile_digest = profile.digest
        state.connection = _connection_options(options, profile.headers)


def _connection_options(options: Any, profile_headers: tuple[tuple[str, str], ...]) -> ConnectionOptions:
    """--proxy, --ca-bundle, --client-cert/-key and --target-header, checked
    now (files loaded, headers parsed) so a mistake is one usage line."""
    if options.client_key and not options.client_cert:
        _usage_error("--client-key needs --client-cert")
    tls_only = [
        flag for flag, given in (("--ca-bundle", options.ca_bundle), ("--client-cert", options.client_cert)) if given
    ]
    if tls_only and options.target.startswith("http://"):
        _usage_error(f"{', '.join(tls_only)}: the target is http://, so there is no TLS connection to apply it to")
    if options.proxy:
        problem = check_proxy_url(options.proxy)
        if problem:
            _usage_error(problem)
    try:
        headers = tuple(parse_header_line(line) for line in options.target_header)
        connection = ConnectionOptions(
            proxy=options.proxy,
            ca_bundle=options.ca_bundle,
            client_cert=options.client_cert,
            client_key=options.client_key,
            headers=merge_headers(profile_headers, headers),
        )
        ssl_context(connection)
    except ConnectionSetupError as exc:
        _usage_error(str(exc))
    return connection


class _XdistHooks:
    """Hooks of pytest-xdist, registered only where xdist is installed: pluggy
    refuses a plugin that implements a hook nobody declared, so defining them
    on the module would crash every install without the optional xdist."""

    def __init__(self, state: RunState) -> None:
        self._state = state

    def pytest_configure_node(self, node: Any) -> None:
        """Every worker redacts with the controller's run key, so a secret has
        one fingerprint across the whole report."""
        node.workerinput[RUN_KEY] = self._state.redactor.run_key.hex()


def suites_dir() -> Path:
    """Where the installed conformance suites live (in a checkout installed
    with `pip install -e .`, the checkout's own `suites/`)."""
    return Path(suites_package.__file__).resolve().parent


def _intended_args(config: pytest.Config) -> list[str] | None:
    """What to collect when the user named nothing, or None to keep pytest's choice.

    pytest decides its rootdir and ini file before any plugin's options are
    known, so a separate value (`--report-dir DIR`, `--target-profile /abs/p.toml`)
    is taken for a test path there: the rootdir moves, the ini's `testpaths` is
    lost and pytest falls back to collecting the whole invocation directory.
    The full parse that follows knows the options, so `file_or_dir` is right
    by now: when it is empty, a conformance run means the suites."""
    if config.getoption("file_or_dir"):
        return None  # explicit test paths: exactly those
    suites = suites_dir()
    if config.getoption("target") or Path(config.invocation_params.dir).resolve() == suites.parent:
        return [str(suites)]
    return None  # another project's own tests: stay out of the way


def pytest_sessionstart(session: pytest.Session) -> None:
    """Preflight a remote target once, on the controller, before any check."""
    config = session.config
    state = config.stash.get(state_key, None)
    if state is None or not state.is_controller or not config.option.target or config.option.list_requirements:
        return
    if config.option.collectonly:
        return  # a listing of the checks: nothing is sent to the target
    from bsk_conformance.harness.fixtures import TargetService
    from bsk_conformance.harness.preflight import PreflightError

    service = TargetService(config, state)
    try:
        service.open()
    except PreflightError as exc:
        pytest.exit(f"bsk-conformance: preflight failed: {exc}", returncode=exc.exit_code)
    state.service = service
    state.clock_mode = service.clock.name
    state.preflight_notes = service.preflight_notes
    tls = service.target.tls if service.target is not None else None
    state.target_fingerprint = tls.as_dict() if tls is not None else None
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"bsk-conformance: target {state.target_label} ({state.environment}), clock: {state.clock_mode}"
        )
        if tls is not None:
            reporter.write_line(f"bsk-conformance: {tls.version}, server certificate SHA-256 {tls.certificate_sha256}")
        for note in service.preflight_notes:
            reporter.write_line(f"bsk-conformance: note: {note}")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash[state_key]
    catalogue = state.catalogue
    coverage: dict[str, list[str]] = {rid: [] for rid in catalogue.requirements}
    selected, deselected = [], []
    wanted = set(config.option.requirement)
    for item in items:
        markers = list(item.iter_markers("requirement"))
        if not markers:
            if _is_suite_item(item):
                _usage_error(
                    f"{item.nodeid}: a conformance check must name its requirement with @pytest.mark.requirement(ID)"
                )
            selected.append(item)
            continue
        ids = [arg for marker in markers for arg in marker.args]
        if len(ids) != 1 or not isinstance(ids[0], str):
            _usage_error(f"{item.nodeid}: a check names exactly one requirement, got {ids!r}")
        rid = ids[0]
        if rid not in catalogue:
            _usage_error(f"{item.nodeid}: unknown requirement ID {rid!r} (not in the catalogue)")
        requirement = catalogue[rid]
        if requirement.withdrawn:
            _usage_error(f"{item.nodeid}: requirement {rid} is withdrawn")
        item.add_marker(requirement.level.lower())
        item.add_marker(requirement.area)
        coverage[rid].append(check_name(item))
        if wanted and rid not in wanted:
            deselected.append(item)
        else:
            selected.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected
    if config.option.list_requirements:
        _print_catalogue(config, catalogue, coverage)
        # a listing runs nothing: every item is deselected, and the session
        # ends with exit 0 (not pytest's 5 for "no tests ran")
        config.hook.pytest_deselected(items=list(items))
        items[:] = []


def _is_suite_item(item: pytest.Item) -> bool:
    return suites_dir() in Path(item.path).resolve().parents


def check_name(item: pytest.Item) -> str:
    """The check's name in reports: `suites/<module>::<test>`, the same
    whether the suites ran from a checkout or from site-packages (pytest's
    nodeid is relative to a rootdir that differs between the two)."""
    path = Path(item.path).resolve()
    suites = suites_dir()
    if suites not in path.parents:
        return item.nodeid
    _, _, rest = item.nodeid.partition("::")
    return f"suites/{path.relative_to(suites).as_posix()}::{rest}"


def _print_catalogue(config: pytest.Config, catalogue: Catalogue, coverage: dict[str, list[str]]) -> None:
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    write = reporter.write_line if reporter is not None else print
    if reporter is not None:
        reporter.ensure_newline()
    active = catalogue.active()
    write(f"{'ID':<13} {'LEVEL':<6} {'§':<3} {'CHECKS':>6}  TITLE")
    for requirement in sorted(active, key=lambda r: (r.section, r.id)):
        checks = len(coverage.get(requirement.id, []))
        where = "" if requirement.verifiable == "any" else "  [in-process only]"
        columns = f"{requirement.id:<13} {requirement.level:<6} {requirement.section:<3} {checks:>6}"
        write(f"{columns}  {requirement.title}{where}")
    uncovered = [r.id for r in active if not coverage.get(r.id)]
    by_level = {level: sum(1 for r in active if r.level == level) for level in ("MUST", "SHOULD", "MAY")}
    write(
        f"{len(active)} requirements ({', '.join(f'{n} {lvl}' for lvl, n in by_level.items())}); "
        f"{sum(len(v) for v in coverage.values())} checks; "
        f"{'every requirement has a check' if not uncovered else 'without a check: ' + ', '.join(uncovered)}"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    state = item.config.stash[state_key]
    if item.get_closest_marker("requirement") is None:
        return (yield)
    item.stash[phases_key] = []
    with state.evidence.collecting() as bucket:
        item.stash[bucket_key] = bucket
        return (yield)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Past the run deadline, or once the target is judged unresponsive, a
    check still gets its record, not verified with the reason, and ends
    before its fixtures reach the target."""
    if phases_key not in item.stash:
        return
    reason = item.config.stash[state_key].limits.run_expired()
    if reason is not None:
        raise NotVerified(reason)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if phases_key not in item.stash:
        return report
    state = item.config.stash[state_key]
    phase = phase_outcome(call, state.redactor)
    item.stash[phases_key].append(phase)
    _redact_report(report, state.redactor)
    if call.when == "teardown":
        rid = item.get_closest_marker("requirement").args[0]
        record = fold_phase(check_name(item), rid, item.stash[phases_key], list(item.stash[bucket_key]))
        report.user_properties.append((CHECK_PROPERTY, record))
    return report


def _redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    """Nothing secret reaches the terminal or JUnit: pytest's assertion
    rewriting would otherwise print the locals (tokens and all)."""
    if report.longrepr is None:
        return
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        path, lineno, message = report.longrepr
        report.longrepr = (path, lineno, redactor.text(str(message)))
    else:
        report.longrepr = redactor.text(str(report.longrepr))
    report.sections = [(title, redactor.text(content)) for title, content in report.sections]


class _CheckCollector:
    """Gathers check records on the controller; xdist replays every worker's
    reports here, so one report holds the whole run."""

    def __init__(self, state: RunState) -> None:
        self._state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when != "teardown":
            return
        for name, value in report.user_properties:
            if name == CHECK_PROPERTY:
                self._state.checks.append(value)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash.get(state_key, None)
    if state is None:
        return
    if config.option.list_requirements:
        session.exitstatus = 0
        return
    if state.service is not None:
        state.service.close()
    if not state.is_controller or not state.checks:
        return
    if state.clock_mode is None:
        state.clock_mode = _in_process_clock_name(config.option.clock)
    result = build_result(
        state.catalogue,
        state.checks,
        harness_version=__version__,
        contract_version=CONTRACT_VERSION,
        target=state.target_label,
        environment=state.environment,
        clock=state.clock_mode,
        started=state.started,
        duration=time.time() - state.started,
        profile_digest=state.profile_digest,
        git_commit=_git_commit(),
        preflight_notes=state.preflight_notes,
        in_process=not config.option.target,
        target_fingerprint=_fingerprint(state),
    )
    state.result = result
    report_dir = Path(config.option.report_dir)
    if not report_dir.is_absolute():
        report_dir = Path(config.invocation_params.dir) / report_dir
    try:
        state.report_paths = _write_reports(result, report_dir)
    except Exception as exc:  # a verdict nobody can read is no verdict: say so and fail the run
        state.report_error = f"could not write the reports to {report_dir}: {type(exc).__name__}: {exc}"
        session.exitstatus = EXIT_INCOMPLETE
        return
    session.exitstatus = exit_code(
        result["verdict"], warnings=result["summary"]["warning"], strict=bool(getattr(config.option, "strict", False))
    )


def _fingerprint(state: RunState) -> dict | None:
    """The preflight's JWKS digest and Server header, with the TLS facts of the connection."""
    fingerprint = dict(state.service.fingerprint or {}) if state.service is not None else {}
    fingerprint.update(state.target_fingerprint or {})
    return fingerprint or None


def _write_reports(result: dict, report_dir: Path) -> dict[str, Path]:
    try:
        from bsk_conformance.reports import write_reports
    except ImportError:  # the report writers are optional for the plugin's own tests
        from bsk_conformance.harness.results import write_json_report

        return write_json_report(result, report_dir)
    return write_reports(result, report_dir)


def _in_process_clock_name(mode: str) -> str:
    return {"auto": "frozen", "control": "control", "real": "real", "off": "off"}[mode]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(state_key, None)
    if state is None or state.result is None:
        return
    try:
        from bsk_conformance.reports import terminal_summary
    except ImportError:
        from bsk_conformance.harness.results import terminal_lines as terminal_summary
    terminalreporter.section("bsk-conformance")
    if state.report_error:
        terminalreporter.write_line(f"bsk-conformance: {state.report_error}", red=True)
    for line in terminal_summary(state.result, state.report_paths):
        terminalreporter.write_line(line)


def _git_commit() -> str | None:
    head = Path(__file__).resolve().parent.parent / ".git" / "HEAD"
    try:
        ref = head.read_text().strip()
        if ref.startswith("ref: "):
            return (head.parent / ref[5:]).read_text().strip()[:12]
        return ref[:12]
    except OSError:
        return None
