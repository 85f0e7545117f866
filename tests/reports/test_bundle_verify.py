"""Certification bundles: a real run bundled and signed verifies; every kind of tampering has its own message;
bad input is one line and exit 3, never a traceback, and nothing is written.

The run is real (real_runs.py: the harness against a faulty variant of the
bundled server, so the report holds failed MUST requirements to forge), and
whole: every requirement run, since bundle refuses a partial run. A partial or
interrupted run is made from it by editing its report, as a tamperer would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from real_runs import VARIANTS, run

from bsk_conformance import CONTRACT_VERSION, __version__
from bsk_conformance.reports import cli, signing
from bsk_conformance.reports.archive import Limits, UnusableArchive
from bsk_conformance.reports.bundle import make_bundle
from bsk_conformance.reports.verdict_rules import completeness_of, overall_verdict, requirement_status, summary_of
from bsk_conformance.reports.verify import verify_bundle

FAULTY = VARIANTS[0]  # wire_401_without_www_authenticate: MUST requirements of §2 fail
MEMBERS = ("manifest.json", "manifest.sig", "conformance.json", "conformance.html", "junit.xml")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # whole (full=True): the shared real_runs of the variants select their areas with -m, which is partial
    return run(tmp_path_factory.mktemp("whole-run") / FAULTY, FAULTY, full=True)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("keys")
    signing.write_key_pair(base / "vendor.key", base / "vendor.pub")
    return base / "vendor.key", base / "vendor.pub"


@pytest.fixture(scope="module")
def signed(run_dir: Path, keys: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "cert.zip"
    assert cli.main(["bundle", str(run_dir), "-o", str(out), "--sign-key", str(keys[0])]) == 0
    return out


@pytest.fixture(scope="module")
def unsigned(run_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bundle(run_dir, tmp_path_factory.mktemp("bundle") / "unsigned.zip").path


def run_cli(capsys: pytest.CaptureFixture[str], *argv: Any) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def read_members(bundle: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(bundle) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def rewrite(bundle: Path, out: Path, change: Callable[[dict[str, bytes]], None]) -> Path:
    """The bundle with ``change`` applied to its members, re-zipped as a tamperer would."""
    files = read_members(bundle)
    change(files)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out


def reseal(files: dict[str, bytes]) -> None:
    """What a forger without the key can do: recompute every hash and drop the signature."""
    manifest = json.loads(files["manifest.json"])
    for entry in manifest["members"]:
        entry["sha256"] = hashlib.sha256(files[entry["name"]]).hexdigest()
        entry["size"] = len(files[entry["name"]])
    manifest["signing"] = None
    files["manifest.json"] = json.dumps(manifest, indent=2).encode()
    files.pop("manifest.sig", None)


def edit_json(files: dict[str, bytes], name: str, edit: Callable[[dict[str, Any]], None]) -> None:
    data = json.loads(files[name])
    edit(data)
    files[name] = json.dumps(data, indent=2, ensure_ascii=False).encode()


def refold(result: dict[str, Any]) -> None:
    """Summary, completeness (when the report has it) and verdict recomputed from the statuses, as a
    forger who knows the rules would."""
    result["summary"] = summary_of(result["requirements"])
    if "completeness" in result:
        result["completeness"] = completeness_of(result["requirements"])
    result["verdict"] = overall_verdict(result["requirements"], result.get("interruption"))


def leave_out(result: dict[str, Any], count: int, message: str = "not run: left out by selection") -> list[str]:
    """Turn the last ``count`` requirements' checks into checks that did not run, as the harness records them
    for a partial run; returns their IDs."""
    left = result["requirements"][-count:]
    for requirement in left:
        for check in requirement["checks"]:
            check.update(outcome="skipped", message=message, evidence=[])
        requirement["status"] = requirement_status(requirement["level"], [c["outcome"] for c in requirement["checks"]])
        assert requirement["status"] == "skipped"
    refold(result)
    result["completeness"] = completeness_of(result["requirements"])
    return [r["id"] for r in left]


SIGTERM = {
    "cause": "SIGTERM",
    "message": "interrupted by SIGTERM during suites/test_two_factor.py::test_enable",
    "check": "suites/test_two_factor.py::test_enable",
    "cleanup": "complete",
}


def first_failed_must(result: dict[str, Any]) -> dict[str, Any]:
    return next(r for r in result["requirements"] if r["status"] == "failed" and r["level"] == "MUST")


# -- a real run, bundled and signed, verifies ------------------------------------------------------------


def test_a_real_run_bundled_and_signed_verifies(
    signed: Path, keys: tuple[Path, Path], run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(capsys, "verify", signed, "--public-key", keys[1])
    key_id = signing.key_id(signing.load_public_key(keys[1]))
    assert code == 0, out + err
    assert f"signature verified (key {key_id})" in out
    assert "its statuses give the recorded verdict: non-conformant" in out
    assert out.count("\n") == 1 and err == ""


def test_the_manifest_names_what_was_tested_and_seals_every_report(signed: Path, run_dir: Path) -> None:
    manifest = json.loads(read_members(signed)["manifest.json"])
    result = json.loads((run_dir / "conformance.json").read_text(encoding="utf-8"))
    assert manifest["harnessVersion"] == result["harnessVersion"] == __version__
    assert manifest["contractVersion"] == result["contractVersion"] == CONTRACT_VERSION == "1.1"
    assert manifest["catalogueDigest"] == result["catalogueDigest"] and manifest["catalogueDigest"].startswith(
        "sha256:"
    )
    assert manifest["profileDigest"] == result["profileDigest"]
    assert manifest["target"]["url"] == result["target"]
    fingerprint = manifest["target"]["fingerprint"]
    assert fingerprint == result["targetFingerprint"]
    assert len(fingerprint["jwksSha256"]) == 64 and fingerprint["tlsCertificateSha256"] is None
    assert manifest["run"]["startedAt"] == result["startedAt"] <= manifest["run"]["finishedAt"]
    assert manifest["verdict"] == result["verdict"] == "non-conformant"
    on_disk = {
        name: hashlib.sha256((run_dir / name).read_bytes()).hexdigest()
        for name in ("conformance.json", "conformance.html", "junit.xml")
    }
    assert {m["name"]: m["sha256"] for m in manifest["members"]} == on_disk
    assert manifest["signing"]["keyId"].startswith("sha256:")
    exchanges = sum(len(c["evidence"]) for r in result["requirements"] for c in r["checks"])
    assert manifest["evidence"]["member"] == "conformance.json" and manifest["evidence"]["exchanges"] == exchanges
    assert exchanges > 0 and "«" in (run_dir / "conformance.json").read_text(encoding="utf-8")


def test_a_signed_bundle_checked_without_a_key_says_the_signature_was_not_checked(
    signed: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "verify", signed)
    assert code == 0
    assert "signature NOT checked" in out and "the signature was not checked: give the signer's public key" in out


def test_an_unsigned_bundle_says_so_and_fails_when_a_key_is_expected(
    unsigned: Path, keys: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "verify", unsigned)
    assert code == 0 and "note: unsigned: sealed by hashes only" in out
    code, out, _ = run_cli(capsys, "verify", unsigned, "--public-key", keys[1])
    assert code == 1 and "unsigned bundle: it has no manifest.sig" in out


# -- tampering: each kind fails with its own message -------------------------------------------------------


def _flip_middle(data: bytes, start: int = 0, end: int | None = None) -> bytes:
    """One byte changed, halfway between ``start`` and ``end``, to another printable character."""
    end = len(data) if end is None else end
    at = (start + end) // 2
    new = b"A" if data[at : at + 1] != b"A" else b"B"
    return data[:at] + new + data[at + 1 :]


def _flip_signature(data: bytes) -> bytes:
    value = json.loads(data)["signature"]
    start = data.index(value.encode())
    return _flip_middle(data, start, start + len(value))


SIGNATURE_BROKEN = (
    "manifest.sig: the signature does not verify with {pub}: manifest.json was changed after it was signed"
)
HASH_BROKEN = "{member}: SHA-256 does not match manifest.json: the file was changed after bundling"
EXPECTED = {
    "manifest.json": SIGNATURE_BROKEN,
    "manifest.sig": SIGNATURE_BROKEN,
    "conformance.json": HASH_BROKEN,
    "conformance.html": HASH_BROKEN,
    "junit.xml": HASH_BROKEN,
}


@pytest.mark.parametrize("member", MEMBERS)
def test_one_changed_byte_in_any_member_does_not_verify(
    member: str, signed: Path, keys: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def change(files: dict[str, bytes]) -> None:
        flip = _flip_signature if member == "manifest.sig" else _flip_middle
        files[member] = flip(files[member])

    tampered = rewrite(signed, tmp_path / "tampered.zip", change)
    code, out, err = run_cli(capsys, "verify", tampered, "--public-key", keys[1])
    assert code == 1, out + err
    assert f"{tampered}: {EXPECTED[member].format(pub=keys[1], member=member)}\n" in out
    assert out.rstrip().splitlines()[-1].startswith(f"{tampered}: DOES NOT VERIFY")


def test_a_status_edited_from_failed_to_passed_does_not_verify(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edited: dict[str, Any] = {}

    def pass_one(result: dict[str, Any]) -> None:
        requirement = first_failed_must(result)
        requirement["status"] = "passed"
        edited.update(requirement)

    tampered = rewrite(signed, tmp_path / "status.zip", lambda f: edit_json(f, "conformance.json", pass_one))
    message = f"conformance.json: requirement {edited['id']} is passed, but its checks (failed) make it failed"
    code, out, _ = run_cli(capsys, "verify", tampered, "--public-key", keys[1])
    assert code == 1 and message in out
    assert "conformance.json: SHA-256 does not match" in out

    # a forger without the key re-seals every hash: the statuses still give the edit away
    def forge(files: dict[str, bytes]) -> None:
        edit_json(files, "conformance.json", pass_one)
        reseal(files)

    forged = rewrite(signed, tmp_path / "forged.zip", forge)
    code, out, _ = run_cli(capsys, "verify", forged)
    assert code == 1 and message in out and "SHA-256 does not match" not in out


def test_the_manifest_verdict_edited_does_not_verify(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tampered = rewrite(
        signed,
        tmp_path / "verdict.zip",
        lambda f: edit_json(f, "manifest.json", lambda m: m.update(verdict="conformant")),
    )
    message = (
        "manifest.json: verdict is conformant, but the requirement statuses in conformance.json make it non-conformant"
    )
    code, out, _ = run_cli(capsys, "verify", tampered, "--public-key", keys[1])
    assert code == 1 and message in out
    assert "the signature does not verify" in out
    # checked without the key, the recomputed verdict still catches it
    code, out, _ = run_cli(capsys, "verify", tampered)
    assert code == 1 and message in out


def _forged_bundle(signed: Path, out: Path, edit: Callable[[dict[str, Any]], Any]) -> Path:
    """The signed bundle with its report edited, the manifest made to agree, every hash re-sealed:
    a bundle of a run that is not whole, built by hand (bundle refuses to make one)."""

    def change(files: dict[str, bytes]) -> None:
        edit_json(files, "conformance.json", edit)
        result = json.loads(files["conformance.json"])
        edit_json(files, "manifest.json", lambda m: m.update(verdict=result["verdict"], summary=result["summary"]))
        reseal(files)

    return rewrite(signed, out, change)


def test_verify_reports_a_partial_bundle_as_partial_and_fails(
    signed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = _forged_bundle(signed, tmp_path / "partial.zip", lambda r: leave_out(r, 120))
    code, out, err = run_cli(capsys, "verify", forged)
    assert code == 1, out + err
    problems = [line for line in out.splitlines() if "note:" not in line]
    assert problems[0].startswith(f"{forged}: conformance.json: verdict partial: the run is partial (")
    assert problems[0].endswith("requirements run); a certification is a whole run")
    assert problems[-1] == f"{forged}: DOES NOT VERIFY (1 problem)"
    assert len(problems) == 2 and err == ""


def test_verify_reports_an_interrupted_bundle_as_interrupted_and_fails(
    signed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(result: dict[str, Any]) -> None:
        leave_out(result, 10, "not run: the run was interrupted by SIGTERM")
        result["interruption"] = dict(SIGTERM)
        refold(result)

    forged = _forged_bundle(signed, tmp_path / "interrupted.zip", interrupted)
    code, out, _ = run_cli(capsys, "verify", forged)
    assert code == 1
    assert (
        f"{forged}: conformance.json: verdict interrupted: the run was interrupted by SIGTERM "
        "(during suites/test_two_factor.py::test_enable; " in out
    )
    assert "DOES NOT VERIFY (1 problem)" in out


def test_verify_fails_a_report_claiming_conformant_while_a_requirement_was_left_out(
    signed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A whole conformant run relabelled after one requirement was dropped, completeness deleted: the
    verdict recomputed from the statuses is partial, not what the report and the manifest say."""

    def conformant_but_partial(result: dict[str, Any]) -> None:
        for requirement in result["requirements"]:
            if requirement["status"] in ("failed", "warning"):
                requirement["status"] = "passed"
                for check in requirement["checks"]:
                    check["outcome"] = "passed" if check["outcome"] == "failed" else check["outcome"]
        leave_out(result, 1)
        result.pop("completeness", None)
        result["verdict"] = "conformant"

    forged = _forged_bundle(signed, tmp_path / "relabelled.zip", conformant_but_partial)
    code, out, _ = run_cli(capsys, "verify", forged)
    assert code == 1
    assert "conformance.json: verdict is conformant, but the requirement statuses make it partial" in out
    manifest_line = "manifest.json: verdict is conformant, but the requirement statuses in conformance.json make it partial"
    assert manifest_line in out
    assert "conformance.json: verdict partial: the run is partial (" in out


def test_a_forgery_consistent_in_every_layer_is_caught_only_by_the_signature(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What hashes cannot do: a forger who rewrites outcomes, statuses, summary and verdict alike
    and re-seals the hashes makes a bundle that agrees with itself. Only the key tells."""

    def launder(files: dict[str, bytes]) -> None:
        def all_passed(result: dict[str, Any]) -> None:
            for requirement in result["requirements"]:
                if requirement["status"] in ("failed", "warning"):
                    for check in requirement["checks"]:
                        check["outcome"] = "passed" if check["outcome"] == "failed" else check["outcome"]
                    # as the harness would fold them (a check of the model run may be not verified)
                    requirement["status"] = requirement_status(
                        requirement["level"], [c["outcome"] for c in requirement["checks"]]
                    )
            refold(result)

        edit_json(files, "conformance.json", all_passed)
        laundered = json.loads(files["conformance.json"])
        edit_json(
            files, "manifest.json", lambda m: m.update(verdict=laundered["verdict"], summary=laundered["summary"])
        )
        reseal(files)

    forged = rewrite(signed, tmp_path / "laundered.zip", launder)
    code, out, _ = run_cli(capsys, "verify", forged)
    assert code == 0 and "note: unsigned" in out  # self-consistent: hashes alone cannot tell
    code, out, _ = run_cli(capsys, "verify", forged, "--public-key", keys[1])
    assert code == 1 and "unsigned bundle: it has no manifest.sig" in out

    def launder_keep_signature(files: dict[str, bytes]) -> None:
        signature = files["manifest.sig"]
        launder(files)
        manifest = json.loads(files["manifest.json"])
        manifest["signing"] = json.loads(read_members(signed)["manifest.json"])["signing"]
        files["manifest.json"] = json.dumps(manifest, indent=2).encode()
        files["manifest.sig"] = signature

    forged = rewrite(signed, tmp_path / "laundered-signed.zip", launder_keep_signature)
    code, out, _ = run_cli(capsys, "verify", forged, "--public-key", keys[1])
    assert code == 1 and "the signature does not verify" in out


def test_a_member_damaged_inside_the_archive_is_a_problem_of_that_member(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(signed.read_bytes())
    with zipfile.ZipFile(signed) as archive:
        info = archive.getinfo("junit.xml")
    name_len, extra_len = struct.unpack("<HH", data[info.header_offset + 26 : info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    data[start + info.compress_size // 2] ^= 0xFF
    damaged = tmp_path / "damaged.zip"
    damaged.write_bytes(bytes(data))
    code, out, _ = run_cli(capsys, "verify", damaged, "--public-key", keys[1])
    assert code == 1 and f"{damaged}: junit.xml: damaged in the archive" in out


def test_a_member_added_to_the_archive_is_a_problem(
    signed: Path, keys: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tampered = rewrite(signed, tmp_path / "extra.zip", lambda f: f.update({"readme.txt": b"trust me"}))
    code, out, _ = run_cli(capsys, "verify", tampered, "--public-key", keys[1])
    assert code == 1 and "readme.txt: in the archive but not sealed by manifest.json" in out


# -- bad input: one line, exit 3, nothing written ----------------------------------------------------------


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _declared_huge(path: Path) -> Path:
    """A zip whose directory says its one member expands to 2 GiB (a zip bomb's header)."""
    _zip(path, {"conformance.json": b"{}"})
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    data[central + 24 : central + 28] = struct.pack("<I", 0x7FFF_FFFF)
    path.write_bytes(bytes(data))
    return path


BAD_BUNDLES: dict[str, tuple[Callable[[Path, Path], Path], str]] = {
    "not a zip": (lambda d, s: _write(d / "cert.zip", b"this is not a zip archive\n"), "not a zip archive"),
    "missing file": (lambda d, s: d / "absent.zip", "no such file"),
    "a directory": (lambda d, s: _mkdir(d / "cert.zip"), "not a file"),
    "zip bomb": (lambda d, s: _declared_huge(d / "cert.zip"), "refused as a zip bomb"),
    "too many members": (
        lambda d, s: _zip(d / "cert.zip", {f"m{i}.txt": b"x" for i in range(100)}),
        "100 members, more than a bundle has",
    ),
    "path traversal": (
        lambda d, s: _zip(d / "cert.zip", {"manifest.json": b"{}", "../../escaped.txt": b"x"}),
        "path-traversal member name",
    ),
    "absolute path": (lambda d, s: _zip(d / "cert.zip", {"/tmp/escaped.txt": b"x"}), "absolute member path"),
    "backslash path": (lambda d, s: _zip(d / "cert.zip", {"..\\escaped.txt": b"x"}), "backslash"),
    "no manifest": (
        lambda d, s: _zip(d / "cert.zip", {"conformance.json": b"{}"}),
        "not a bsk-conformance bundle (it has no manifest.json)",
    ),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def _listing(*roots: Path) -> set[str]:
    return {str(p) for root in roots for p in root.rglob("*")}


def _assert_one_line_exit_3(code: int, out: str, err: str, expected: str) -> None:
    assert code == 3, out + err
    assert out == ""
    assert err.count("\n") == 1 and err.startswith("bsk-conformance: error: "), err
    assert expected in err and "Traceback" not in err


@pytest.mark.parametrize("case", sorted(BAD_BUNDLES))
def test_bad_bundles_are_one_line_and_exit_3(
    case: str,
    tmp_path: Path,
    signed: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    make, expected = BAD_BUNDLES[case]
    bundle = make(work, signed)
    monkeypatch.chdir(work)
    before = _listing(tmp_path)
    code, out, err = run_cli(capsys, "verify", bundle)
    _assert_one_line_exit_3(code, out, err, expected)
    assert _listing(tmp_path) == before  # nothing extracted, nothing escaped


def test_a_public_key_that_is_not_the_signers_is_one_line_and_exit_3(
    signed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = signing.write_key_pair(tmp_path / "other.key", tmp_path / "other.pub")
    code, out, err = run_cli(capsys, "verify", signed, "--public-key", tmp_path / "other.pub")
    _assert_one_line_exit_3(code, out, err, "wrong key: the bundle was signed by key sha256:")
    assert other in err


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        (b"not a key\n", "not a PEM public key"),
        ("private", "this is a private key; verify with the public key (.pub)"),
    ],
)
def test_unusable_public_key_files_are_one_line_and_exit_3(
    content: Any,
    expected: str,
    signed: Path,
    keys: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pub = tmp_path / "key.pub"
    if content == "private":
        pub.write_bytes(keys[0].read_bytes())
    elif content is not None:
        pub.write_bytes(content)
    code, out, err = run_cli(capsys, "verify", signed, "--public-key", pub)
    _assert_one_line_exit_3(code, out, err, expected)


def test_the_size_limits_hold_while_reading_too(signed: Path, tmp_path: Path) -> None:
    bomb = _zip(tmp_path / "zeros.zip", {"manifest.json": b"\0" * (2 << 20)})
    assert bomb.stat().st_size < 10_000  # two MiB of zeros deflate to a few KiB
    with pytest.raises(UnusableArchive, match="refused as a zip bomb"):
        verify_bundle(bomb, limits=Limits(member_bytes=1 << 20))
    # half of what the real bundle expands to, whatever that is (a fixed
    # figure broke when redaction shortened the evidence under it)
    with zipfile.ZipFile(signed) as archive:
        expanded = sum(member.file_size for member in archive.infolist())
    with pytest.raises(UnusableArchive, match="refused as a zip bomb"):
        verify_bundle(signed, limits=Limits(total_bytes=expanded // 2))


# -- bundle and keygen: bad input ------------------------------------------------------------------------


def test_bundle_refuses_a_report_that_does_not_agree_with_itself(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forged = tmp_path / "forged"
    forged.mkdir()
    result = json.loads((run_dir / "conformance.json").read_text(encoding="utf-8"))
    first_failed_must(result)["status"] = "passed"
    (forged / "conformance.json").write_text(json.dumps(result), encoding="utf-8")
    code, out, err = run_cli(capsys, "bundle", forged, "-o", tmp_path / "cert.zip")
    _assert_one_line_exit_3(code, out, err, "does not agree with itself, refusing to seal it")
    assert not (tmp_path / "cert.zip").exists()


def _report_dir(tmp_path: Path, run_dir: Path, edit: Callable[[dict[str, Any]], Any]) -> Path:
    """A copy of the real run's report directory with its conformance.json edited."""
    out = tmp_path / "run"
    out.mkdir()
    result = json.loads((run_dir / "conformance.json").read_text(encoding="utf-8"))
    edit(result)
    (out / "conformance.json").write_text(json.dumps(result), encoding="utf-8")
    for name in ("conformance.html", "junit.xml"):
        (out / name).write_bytes((run_dir / name).read_bytes())
    return out


def test_bundle_refuses_a_partial_run_in_one_line_and_writes_nothing(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partial = _report_dir(tmp_path, run_dir, lambda r: leave_out(r, 125))
    result = json.loads((partial / "conformance.json").read_text(encoding="utf-8"))
    assert result["verdict"] == "partial"
    code, out, err = run_cli(capsys, "bundle", partial, "-o", tmp_path / "cert.zip")
    _assert_one_line_exit_3(
        code,
        out,
        err,
        f"conformance.json: the run is partial ({len(result['requirements']) - 125} of {len(result['requirements'])} "
        "requirements run): a certification is a whole run; run every requirement, without -k, -m or --requirement",
    )
    assert not (tmp_path / "cert.zip").exists()


def test_bundle_refuses_an_old_partial_report_that_claims_conformant(
    run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a -k run wrote before the new verdicts: statuses skipped, verdict conformant, no completeness."""

    def old_partial(result: dict[str, Any]) -> None:
        leave_out(result, 3)
        del result["completeness"]
        result["verdict"] = "conformant"

    code, out, err = run_cli(capsys, "bundle", _report_dir(tmp_path, run_dir, old_partial), "-o", tmp_path / "c.zip")
    _assert_one_line_exit_3(code, out, err, "the run is partial (")
    assert not (tmp_path / "c.zip").exists()


@pytest.mark.parametrize("cleanup", ["complete", "incomplete"])
def test_bundle_refuses_an_interrupted_run_naming_the_signal_and_the_check(
    cleanup: str, run_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted(result: dict[str, Any]) -> None:
        leave_out(result, 10, "not run: the run was interrupted by SIGTERM")
        result["interruption"] = {**SIGTERM, "cleanup": cleanup}
        refold(result)

    code, out, err = run_cli(capsys, "bundle", _report_dir(tmp_path, run_dir, interrupted), "-o", tmp_path / "c.zip")
    _assert_one_line_exit_3(
        code, out, err, "the run was interrupted by SIGTERM (during suites/test_two_factor.py::test_enable; "
    )
    assert f"requirements run; cleanup {cleanup}): a certification is a whole run; run again to the end" in err
    assert ("bsk-conformance cleanup" in err) is (cleanup != "complete")
    assert not (tmp_path / "c.zip").exists()


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("missing dir", "no such directory"),
        ("empty dir", "no conformance.json in it"),
        ("public key to sign", "this is a public key; signing needs the private key"),
    ],
)
def test_bundle_bad_input_is_one_line_and_exit_3(
    setup: str,
    expected: str,
    run_dir: Path,
    keys: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args: list[Any] = [tmp_path / "nowhere", "-o", tmp_path / "cert.zip"]
    if setup == "empty dir":
        (tmp_path / "empty").mkdir()
        args[0] = tmp_path / "empty"
    elif setup == "public key to sign":
        args = [run_dir, "-o", tmp_path / "cert.zip", "--sign-key", keys[1]]
    code, out, err = run_cli(capsys, "bundle", *args)
    _assert_one_line_exit_3(code, out, err, expected)
    assert not (tmp_path / "cert.zip").exists()


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli(capsys, "keygen", "-o", tmp_path / "vendor")
    assert code == 0 and "key ID:      sha256:" in out
    assert stat.S_IMODE(os.stat(tmp_path / "vendor.key").st_mode) == 0o600
    signing.load_private_key(tmp_path / "vendor.key")
    before = (tmp_path / "vendor.key").read_bytes()
    code, out, err = run_cli(capsys, "keygen", "-o", tmp_path / "vendor")
    _assert_one_line_exit_3(code, out, err, "already exists; not overwriting a key")
    assert (tmp_path / "vendor.key").read_bytes() == before


def test_a_signature_file_is_base64_of_64_bytes(signed: Path) -> None:
    document = json.loads(read_members(signed)["manifest.sig"])
    assert document["algorithm"] == "Ed25519" and len(base64.b64decode(document["signature"])) == 64
