"""The user's path, proved on every CI run: a built wheel, installed with no
extras into a fresh virtual environment outside the checkout, run the way
QA types it (`pytest --target URL --target-profile PATH`, separate values).

One environment serves every test of this module (building and installing
costs about a minute); each test states the one thing it proves.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bsk_conformance.harness.requirements import load_catalogue
from tests.docs.requirements_doc import collect_checks
from tests.install.building import Built

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "fixtures" / "reference-profile.toml"
# PyPI's own `fixtures` (testing-cabal) shares a name the wheel once installed
# at top level; both must work side by side (issue 17)
NEIGHBOUR = "fixtures"


@dataclass
class Installed:
    venv: Path
    wheel: Path
    home: Path  # an empty directory outside the checkout, where the user works

    def bin(self, name: str) -> str:
        return str(self.venv / "bin" / name)

    def run(self, *command: str, cwd: Path | None = None, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VIRTUAL_ENV", "PYTHONPATH"))}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return subprocess.run(
            list(command), cwd=cwd or self.home, env=env, capture_output=True, text=True, timeout=timeout
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, built_wheel: Built) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("installed-path")
    wheel = built_wheel.path  # built from a clean copy of the checkout (tests/install/building.py)
    venv.EnvBuilder(with_pip=True, clear=True).create(base / "venv")
    home = base / "home"
    home.mkdir()
    env = Installed(base / "venv", wheel, home)
    pip = env.run(env.bin("python"), "-m", "pip", "install", "--quiet", str(wheel), NEIGHBOUR, timeout=900)
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-2000:]
    yield env


@pytest.fixture(scope="module")
def reference_server(installed: Installed) -> Iterator[str]:
    """`bsk-reference-server --port 0`, from the fresh environment."""
    with _serving(installed) as url:
        yield url


@contextmanager
def _serving(installed: Installed) -> Iterator[str]:
    process = subprocess.Popen(
        [installed.bin("bsk-reference-server"), "--port", "0"],
        cwd=installed.home, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        banner = process.stdout.readline() if process.stdout else ""
        assert banner.startswith("BSK reference server listening on "), banner + (process.stderr.read() if process.poll() is not None and process.stderr else "")
        yield banner.rsplit(" ", 1)[1].strip()
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_the_wheel_installs_one_top_level_name(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = wheel.namelist()
        top_level = [n for n in names if n.endswith(".dist-info/top_level.txt")]
    roots = {name.split("/", 1)[0] for name in names if not name.split("/", 1)[0].endswith(".dist-info")}
    assert roots == {"bsk_conformance"}
    if top_level:  # setuptools writes it; other backends need not
        with zipfile.ZipFile(installed.wheel) as wheel:
            assert wheel.read(top_level[0]).decode().split() == ["bsk_conformance"]


def test_a_neighbouring_fixtures_package_is_not_shadowed(installed: Installed) -> None:
    done = installed.run(installed.bin("python"), "-c", "import fixtures, bsk_conformance.fixtures; fixtures.Fixture")
    assert done.returncode == 0, done.stderr


def test_no_test_extra_is_installed(installed: Installed) -> None:
    """The plain install is what users get: no xdist (whose hooks once crashed
    the plugin), no time-machine, no freezegun."""
    done = installed.run(installed.bin("python"), "-m", "pip", "list", "--format=json")
    present = {p["name"].lower() for p in json.loads(done.stdout)}
    assert not present & {"pytest-xdist", "time-machine", "freezegun"}


def _expected_checks() -> int:
    return sum(len(names) for names in collect_checks().values())


@pytest.mark.parametrize("form", ["separate", "equals"])
def test_a_remote_run_from_an_empty_directory_is_conformant(
    installed: Installed, reference_server: str, form: str, tmp_path: Path
) -> None:
    workdir = tmp_path / "qa-repo"
    workdir.mkdir()
    shutil.copy(PROFILE, workdir / "profile.toml")
    report_dir = workdir / "out"
    report_dir.mkdir()  # an existing directory: pytest's early parse took it for a test path
    options = {"--target": reference_server, "--target-profile": "profile.toml", "--report-dir": str(report_dir)}
    args = [part for name, value in options.items() for part in ((name, value) if form == "separate" else (f"{name}={value}",))]
    done = installed.run(installed.bin("pytest"), *args, "-p", "no:cacheprovider", cwd=workdir)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert {p.name for p in report_dir.iterdir()} >= {"conformance.json", "conformance.html", "junit.xml"}
    result = json.loads((report_dir / "conformance.json").read_text())
    assert result["verdict"] == "conformant"
    checks = [check for requirement in result["requirements"] for check in requirement.get("checks", [])]
    assert len(checks) == _expected_checks()
    assert len(result["requirements"]) == len(load_catalogue().active())
    assert not (workdir / "conformance-report").exists()


def test_diff_of_two_installed_runs(installed: Installed, reference_server: str, tmp_path: Path) -> None:
    reports = []
    for name in ("old", "new"):
        out = tmp_path / name
        done = installed.run(
            installed.bin("pytest"), "--target", reference_server, "--target-profile", str(PROFILE),
            "--report-dir", str(out), "-p", "no:cacheprovider", "-m", "tokens",
        )
        assert done.returncode == 0, done.stdout[-3000:]
        reports.append(str(out / "conformance.json"))
    diff = installed.run(installed.bin("bsk-conformance"), "diff", *reports)
    assert diff.returncode == 0, diff.stdout + diff.stderr


def test_without_a_target_the_plugin_stays_out_of_a_projects_tests(installed: Installed, tmp_path: Path) -> None:
    project = tmp_path / "their-project"
    project.mkdir()
    (project / "test_theirs.py").write_text("def test_theirs():\n    assert 1 + 1 == 2\n")
    done = installed.run(installed.bin("pytest"), "-q", "-p", "no:cacheprovider", cwd=project)
    assert done.returncode == 0, done.stdout
    assert "1 passed" in done.stdout and "bsk-conformance" not in done.stdout
    assert not (project / "conformance-report").exists()


def test_pyargs_runs_the_in_process_default_anywhere(installed: Installed, tmp_path: Path) -> None:
    done = installed.run(
        installed.bin("pytest"), "--pyargs", "bsk_conformance.suites", "--requirement", "BSK-TOK-001",
        "-p", "no:cacheprovider", cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    result = json.loads((tmp_path / "conformance-report" / "conformance.json").read_text())
    assert result["target"] == "in-process reference server"
    assert [r["status"] for r in result["requirements"] if r["id"] == "BSK-TOK-001"] == ["passed"]


# The Pythons the package claims (requires-python >= 3.11) and CI has: the one running
# the tests is proved above; each other gets the same wheel, a fresh venv, its own server, one remote run.
PYTHONS = ("3.11", "3.12", "3.13")


def _python(version: str) -> str | None:
    """An interpreter of ``version`` on PATH or in pyenv, if one really runs (a
    pyenv shim for a version that is not selected exists but fails)."""
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    candidates = [shutil.which(f"python{version}"), *sorted(pyenv.glob(f"{version}.*/bin/python{version}"), reverse=True)]
    for candidate in filter(None, candidates):
        done = subprocess.run(
            [str(candidate), "-c", "import sys, venv, ensurepip; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True, text=True, timeout=60,
        )
        if done.returncode == 0 and done.stdout.strip() == version:
            return str(candidate)
    return None


@pytest.mark.parametrize("version", PYTHONS)
def test_a_remote_run_on_another_python(installed: Installed, version: str, tmp_path: Path) -> None:
    if version == "%d.%d" % sys.version_info[:2]:
        pytest.skip(f"Python {version} runs these tests: the tests above are its installed path")
    python = _python(version)
    if python is None:
        pytest.skip(f"no Python {version} on this machine (looked on PATH and in pyenv)")
    created = subprocess.run([python, "-m", "venv", str(tmp_path / "venv")], capture_output=True, text=True, timeout=300)
    assert created.returncode == 0, created.stderr[-2000:]
    home = tmp_path / "home"
    home.mkdir()
    other = Installed(tmp_path / "venv", installed.wheel, home)
    pip = other.run(other.bin("python"), "-m", "pip", "install", "--quiet", str(installed.wheel), timeout=900)
    assert pip.returncode == 0, pip.stdout[-2000:] + pip.stderr[-2000:]
    shown = other.run(other.bin("python"), "-c", "import sys; print('%d.%d' % sys.version_info[:2])")
    assert shown.stdout.strip() == version
    report_dir = home / "out"
    with _serving(other) as url:
        done = other.run(
            other.bin("pytest"), "--target", url, "--target-profile", str(PROFILE),
            "--report-dir", str(report_dir), "-p", "no:cacheprovider",
        )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    result = json.loads((report_dir / "conformance.json").read_text())
    assert result["verdict"] == "conformant"
    assert sum(len(r.get("checks", [])) for r in result["requirements"]) == _expected_checks()
