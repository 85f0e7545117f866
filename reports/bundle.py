"""``bsk-conformance bundle``: one archive a buyer can check, from one run's report directory.

The archive (a plain zip) holds:

* ``conformance.json``: the record of the run, with the redacted evidence
  (every exchange the harness recorded, secrets already replaced by
  ``«kind:fingerprint»`` where it recorded them, harness/evidence.py);
* ``conformance.html`` and ``junit.xml``: renderings of that record, when the
  directory has them;
* ``manifest.json``: what was tested and how (versions, catalogue and profile
  digests, the target and its fingerprint, start and end, verdict) and the
  SHA-256 and size of every member above;
* ``manifest.sig``, with a key: an Ed25519 signature over ``manifest.json``'s
  exact bytes.

Only those named files are taken from the directory, never whatever else lies
there, and only a report that is schema-valid, of a whole run (never a
``partial`` or ``interrupted`` one: a certification is a whole run) and agrees
with itself (:mod:`.consistency`) is sealed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bsk_conformance import __version__

from . import model, signing
from .consistency import recomputed_problems
from .verdict_rules import overall_verdict
from .vocabulary import NOT_WHOLE_VERDICTS
from .files import write_atomic
from .json_report import InvalidResult, load

FORMAT = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
REPORT = "conformance.json"

#: The files a bundle may carry from a report directory, with what each is.
MEMBER_ROLES: dict[str, str] = {
    REPORT: "the record of the run: verdict, statuses, checks and redacted evidence (schema v1)",
    "conformance.html": "the human-readable report, rendered from conformance.json",
    "junit.xml": "the JUnit rendering of conformance.json, for CI dashboards",
}

REDACTION = (
    "secrets (passwords, TOTP secrets and codes, tokens, API keys) were replaced by «kind:fingerprint» "
    "when the harness recorded each exchange; the fingerprint is an HMAC under a per-run key"
)


class BundleError(Exception):
    """The report directory cannot be bundled; the message is one line."""


@dataclass(frozen=True)
class Bundle:
    path: Path
    manifest: dict[str, Any]
    key_id: str | None


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The exact bytes that are written, hashed and signed."""
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def signature_bytes(private_key: Ed25519PrivateKey, manifest_data: bytes) -> bytes:
    """manifest.sig: the algorithm, the signer's key ID and the signature of ``manifest_data``."""
    document = {
        "algorithm": signing.ALGORITHM,
        "keyId": signing.key_id(private_key.public_key()),
        "signed": MANIFEST,
        "signature": base64.b64encode(signing.sign(private_key, manifest_data)).decode("ascii"),
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def _finished_at(started: str, duration: Any) -> str | None:
    try:
        start = datetime.fromisoformat(started)
        end = start + timedelta(seconds=float(duration))
    except (TypeError, ValueError, OverflowError):
        return None
    return end.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _exchanges(result: Mapping[str, Any]) -> int:
    return sum(len(check.get("evidence") or []) for r in result["requirements"] for check in r.get("checks") or [])


def build_manifest(
    result: Mapping[str, Any],
    members: Mapping[str, bytes],
    *,
    key_id: str | None,
    created_at: datetime,
) -> dict[str, Any]:
    """manifest.json's content for ``result`` sealed with ``members`` (name -> bytes)."""
    return {
        "bundleFormat": FORMAT,
        "createdAt": created_at.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "createdBy": f"bsk-conformance {__version__}",
        "harnessVersion": result["harnessVersion"],
        "contractVersion": result["contractVersion"],
        "harnessGitCommit": result.get("gitCommit"),
        "catalogueDigest": result.get("catalogueDigest"),
        # the run records only a hash of the profile; its contents never reach a report
        "profileDigest": result.get("profileDigest"),
        "target": {
            "url": result["target"],
            "environment": result["environment"],
            "fingerprint": result.get("targetFingerprint"),
        },
        "run": {
            "startedAt": result["startedAt"],
            "finishedAt": _finished_at(result["startedAt"], result["durationSeconds"]),
            "durationSeconds": result["durationSeconds"],
            "clock": result["clock"],
        },
        "verdict": result["verdict"],
        "summary": dict(result["summary"]),
        "evidence": {"member": REPORT, "exchanges": _exchanges(result), "redaction": REDACTION},
        "members": [
            {
                "name": name,
                "sha256": hashlib.sha256(data).hexdigest(),
                "size": len(data),
                "role": MEMBER_ROLES.get(name, ""),
            }
            for name, data in members.items()
        ],
        "signing": None if key_id is None else {"algorithm": signing.ALGORITHM, "keyId": key_id},
    }


def _zip_time(started: str) -> tuple[int, int, int, int, int, int]:
    """Members are dated at the run's start, so the archive says nothing about the packing machine."""
    try:
        moment = datetime.fromisoformat(started).astimezone(UTC)
    except ValueError:
        return (1980, 1, 1, 0, 0, 0)
    if moment.year < 1980:
        return (1980, 1, 1, 0, 0, 0)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def pack(files: Mapping[str, bytes], date_time: tuple[int, int, int, int, int, int]) -> bytes:
    """A zip archive of ``files`` in the given order, deflated, with plain 0644 entries."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=date_time)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _read_report_dir(report_dir: Path) -> tuple[dict[str, Any], dict[str, bytes]]:
    if not report_dir.exists():
        raise BundleError(f"{report_dir}: no such directory")
    if not report_dir.is_dir():
        raise BundleError(f"{report_dir}: not a directory; give the run's report directory")
    report = report_dir / REPORT
    try:
        result = load(report)
    except FileNotFoundError:
        raise BundleError(f"{report_dir}: no {REPORT} in it, so no run to bundle") from None
    except UnicodeDecodeError:
        raise BundleError(f"{report}: not UTF-8 text") from None
    except OSError as exc:
        raise BundleError(f"{report}: cannot read it ({exc.strerror or exc})") from None
    except (InvalidResult, ValueError) as exc:
        raise BundleError(f"{report}: {exc}") from None
    refusal = not_whole_refusal(result)
    if refusal:
        raise BundleError(f"{report}: {refusal}")
    inconsistent = recomputed_problems(result)
    if inconsistent:
        more = f" (and {len(inconsistent) - 1} more)" if len(inconsistent) > 1 else ""
        raise BundleError(f"{report}: does not agree with itself, refusing to seal it: {inconsistent[0]}{more}")
    members: dict[str, bytes] = {}
    for name in MEMBER_ROLES:
        path = report_dir / name
        if path.is_file():
            try:
                members[name] = path.read_bytes()
            except OSError as exc:
                raise BundleError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    return result, members


def not_whole_refusal(result: Mapping[str, Any]) -> str | None:
    """Why a run that is not whole cannot be bundled, in one line; None for a whole run.

    Judged on the recorded verdict and on the one its statuses give, so that a
    report from before the two verdicts existed (a ``-k`` run that says
    conformant) is refused for what it is, not only as a report that
    disagrees with itself.
    """
    verdict = str(result.get("verdict"))
    if verdict not in NOT_WHOLE_VERDICTS:
        verdict = overall_verdict(result.get("requirements") or [], model.interruption_of(result))
    reason = model.not_whole_reason(result, verdict)
    if reason is None:
        return None
    if verdict == "partial":
        return f"{reason}: a certification is a whole run; run every requirement, without -k, -m or --requirement"
    cleanup = (model.interruption_of(result) or {}).get("cleanup")
    after = "" if cleanup == "complete" else " (first undo what the interrupted run left: bsk-conformance cleanup)"
    return f"{reason}: a certification is a whole run; run again to the end{after}"


def make_bundle(
    report_dir: Path,
    output: Path,
    *,
    sign_key: Ed25519PrivateKey | None = None,
    now: datetime | None = None,
) -> Bundle:
    """Bundle the run in ``report_dir`` into the zip ``output`` (written atomically)."""
    result, members = _read_report_dir(report_dir)
    key_id = signing.key_id(sign_key.public_key()) if sign_key is not None else None
    manifest = build_manifest(result, members, key_id=key_id, created_at=now or datetime.now(UTC))
    manifest_data = manifest_bytes(manifest)
    files = {MANIFEST: manifest_data}
    if sign_key is not None:
        files[SIGNATURE] = signature_bytes(sign_key, manifest_data)
    files.update(members)
    if output.resolve().parent == report_dir.resolve() and output.name in MEMBER_ROLES:
        raise BundleError(f"{output}: would overwrite a report of the run; choose another output path")
    try:
        write_atomic(output, pack(files, _zip_time(result["startedAt"])))
    except OSError as exc:
        raise BundleError(f"{output}: cannot write it ({exc.strerror or exc})") from None
    return Bundle(output, manifest, key_id)
