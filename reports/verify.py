"""``bsk-conformance verify``: check a certification bundle without trusting its maker.

What holds when it passes:

* every member's SHA-256 and size is the one ``manifest.json`` sealed, and the
  archive carries nothing the manifest does not list;
* with ``--public-key``, ``manifest.sig`` is that key's Ed25519 signature over
  ``manifest.json``'s exact bytes, so the manifest, and through its hashes
  every member, is what the key's holder bundled. A signed bundle checked
  without a key is reported as such (a note), never as signature-verified; a
  key given for an unsigned bundle is a problem;
* ``conformance.json`` follows the shipped schema v1;
* its statuses, summary and verdict are what its checks' outcomes fold to by
  the run's own rules (:mod:`.verdict_rules`), and the manifest's verdict and
  run fields agree with it;
* it is the record of a whole run: a ``partial`` or ``interrupted`` verdict
  (recomputed, whatever the report claims) is a problem, since a
  certification is a whole run. ``bundle`` refuses such a run; a bundle of
  one was built by hand or by an older tool.

A problem is one line; :class:`Unverifiable` (exit 3) is for input that
cannot be checked at all: not a zip, a zip bomb, a path-traversal name, no
manifest, a missing file, or a public key that is not the signer's.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from . import signing
from .archive import DEFAULT_LIMITS, Limits, Member, read_archive
from .bundle import MANIFEST, REPORT, SIGNATURE
from .consistency import recomputed_problems
from .json_report import problems as schema_problems
from .model import interruption_of, not_whole_reason
from .verdict_rules import overall_verdict

MANIFEST_SCHEMA_FILE = "manifest-v1.schema.json"
#: Schema problems beyond this many are counted, not listed.
MAX_SCHEMA_LINES = 10


class Unverifiable(Exception):
    """The bundle cannot be checked at all; the message is one line."""


@dataclass
class Verification:
    """What ``verify`` found: problems (each one line), notes, and what was shown."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: "verified", "not checked" (signed, no key given), "unsigned" or "invalid"
    signature: str = "invalid"
    key_id: str | None = None
    verdict: str | None = None
    target: str | None = None
    members: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


@functools.cache
def manifest_schema() -> dict[str, Any]:
    path = resources.files("bsk_conformance.reports") / "schema" / MANIFEST_SCHEMA_FILE
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def _parse_json(member: Member, what: str, out: Verification) -> Any:
    """The member's JSON, or None after recording why it has none."""
    if member.damaged:
        out.problems.append(f"{member.name}: {member.damaged}")
        return None
    try:
        return json.loads((member.data or b"").decode("utf-8"))
    except UnicodeDecodeError:
        out.problems.append(f"{member.name}: not UTF-8 text, so not {what}")
    except json.JSONDecodeError as exc:
        out.problems.append(f"{member.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    return None


def _manifest(member: Member, out: Verification) -> dict[str, Any] | None:
    import jsonschema

    data = _parse_json(member, "a manifest", out)
    if data is None:
        return None
    validator = jsonschema.Draft202012Validator(manifest_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    for error in errors[:MAX_SCHEMA_LINES]:
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        out.problems.append(f"{MANIFEST}: not a bundle manifest (format 1): {where}: {error.message}")
    if len(errors) > MAX_SCHEMA_LINES:
        out.problems.append(f"{MANIFEST}: {len(errors) - MAX_SCHEMA_LINES} more schema problems")
    return None if errors else data


@dataclass(frozen=True)
class _Signature:
    key_id: str
    value: bytes


def _signature(member: Member, out: Verification) -> _Signature | None:
    data = _parse_json(member, "a signature file", out)
    if data is None:
        return None
    try:
        if data["algorithm"] != signing.ALGORITHM:
            out.problems.append(f"{SIGNATURE}: algorithm {data['algorithm']!r}; this tool checks only Ed25519")
            return None
        value = base64.b64decode(str(data["signature"]), validate=True)
        return _Signature(str(data["keyId"]), value)
    except (KeyError, TypeError, binascii.Error):
        out.problems.append(f"{SIGNATURE}: not a signature file (needs algorithm, keyId and a base64 signature)")
        return None


def _check_signature(
    members: dict[str, Member],
    manifest: dict[str, Any] | None,
    public_key: Ed25519PublicKey | None,
    key_name: str,
    out: Verification,
) -> None:
    declared = manifest.get("signing") if manifest else None
    member = members.get(SIGNATURE)
    if member is None:
        out.signature = "unsigned"
        if declared:
            out.problems.append(
                f"{SIGNATURE}: missing, but {MANIFEST} says the bundle was signed by key {declared['keyId']}"
            )
        elif public_key is not None:
            out.problems.append(
                f"unsigned bundle: it has no {SIGNATURE}, so nothing shows that the holder of {key_name} made it"
            )
        else:
            out.notes.append("unsigned: sealed by hashes only; anyone can rebuild an unsigned bundle")
        return
    signature = _signature(member, out)
    if signature is None:
        return
    out.key_id = signature.key_id
    if manifest is not None and declared is None:
        out.problems.append(f"{SIGNATURE}: present, but {MANIFEST} says the bundle is unsigned")
    elif declared and declared["keyId"] != signature.key_id:
        out.problems.append(f"{SIGNATURE}: made with key {signature.key_id}, but {MANIFEST} names {declared['keyId']}")
    if public_key is None:
        out.signature = "not checked"
        out.notes.append(
            f"signed by key {signature.key_id}, but the signature was not checked: give the signer's public key "
            "with --public-key"
        )
        return
    given = signing.key_id(public_key)
    if given != signature.key_id:
        raise Unverifiable(f"wrong key: the bundle was signed by key {signature.key_id}; {key_name} is key {given}")
    manifest_data = members[MANIFEST].data or b""
    if signing.signature_holds(public_key, signature.value, manifest_data):
        out.signature = "verified"
    else:
        out.problems.append(
            f"{SIGNATURE}: the signature does not verify with {key_name}: {MANIFEST} was changed after it was signed"
        )


def _check_members(members: dict[str, Member], manifest: dict[str, Any], out: Verification) -> None:
    listed = {entry["name"]: entry for entry in manifest["members"]}
    out.members = len(listed)
    for name, entry in listed.items():
        member = members.get(name)
        if member is None:
            out.problems.append(f"{name}: listed in {MANIFEST} but missing from the archive")
        elif member.damaged:
            out.problems.append(f"{name}: {member.damaged}")
        elif member.sha256 != entry["sha256"] or member.size != entry["size"]:
            out.problems.append(f"{name}: SHA-256 does not match {MANIFEST}: the file was changed after bundling")
    for name in members:
        if name not in listed and name not in (MANIFEST, SIGNATURE):
            out.problems.append(f"{name}: in the archive but not sealed by {MANIFEST}")
    if REPORT not in listed:
        out.problems.append(f"{REPORT}: not listed in {MANIFEST}; a bundle must carry the run's record")


#: manifest fields copied from conformance.json: (label, path in the manifest, key in the report)
_COPIED: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("harnessVersion", ("harnessVersion",), "harnessVersion"),
    ("contractVersion", ("contractVersion",), "contractVersion"),
    ("catalogueDigest", ("catalogueDigest",), "catalogueDigest"),
    ("profileDigest", ("profileDigest",), "profileDigest"),
    ("target.url", ("target", "url"), "target"),
    ("target.environment", ("target", "environment"), "environment"),
    ("target.fingerprint", ("target", "fingerprint"), "targetFingerprint"),
    ("run.startedAt", ("run", "startedAt"), "startedAt"),
    ("run.durationSeconds", ("run", "durationSeconds"), "durationSeconds"),
    ("run.clock", ("run", "clock"), "clock"),
    ("summary", ("summary",), "summary"),
)


def _dig(data: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _check_report(member: Member, manifest: dict[str, Any] | None, out: Verification) -> None:
    result = _parse_json(member, "a conformance.json", out)
    if result is None:
        return
    found = schema_problems(result)
    for problem in found[:MAX_SCHEMA_LINES]:
        out.problems.append(f"{REPORT}: not valid against the shipped schema v1: {problem}")
    if len(found) > MAX_SCHEMA_LINES:
        out.problems.append(f"{REPORT}: {len(found) - MAX_SCHEMA_LINES} more schema problems")
    if found:
        return
    out.target = str(result["target"])
    out.problems.extend(f"{REPORT}: {problem}" for problem in recomputed_problems(result))
    recomputed = overall_verdict(result["requirements"], interruption_of(result))
    out.verdict = recomputed
    reason = not_whole_reason(result, recomputed)
    if reason is not None:
        out.problems.append(f"{REPORT}: verdict {recomputed}: {reason}; a certification is a whole run")
    if manifest is None:
        return
    if manifest["verdict"] != recomputed:
        out.problems.append(
            f"{MANIFEST}: verdict is {manifest['verdict']}, "
            f"but the requirement statuses in {REPORT} make it {recomputed}"
        )
    for label, path, key in _COPIED:
        sealed, recorded = _dig(manifest, path), result.get(key)
        if sealed != recorded:
            out.problems.append(f"{MANIFEST}: {label} is {_short(sealed)}, but {REPORT} records {_short(recorded)}")


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def verify_bundle(
    path: Path,
    *,
    public_key: Ed25519PublicKey | None = None,
    key_name: str = "the given key",
    limits: Limits = DEFAULT_LIMITS,
) -> Verification:
    """Check the bundle at ``path``; raises :class:`Unverifiable` (or :class:`archive.UnusableArchive`)."""
    members = read_archive(path, keep=(MANIFEST, SIGNATURE, REPORT), limits=limits)
    if MANIFEST not in members:
        raise Unverifiable(f"{path}: not a bsk-conformance bundle (it has no {MANIFEST})")
    out = Verification()
    manifest = _manifest(members[MANIFEST], out)
    _check_signature(members, manifest, public_key, key_name, out)
    if manifest is not None:
        _check_members(members, manifest, out)
    report = members.get(REPORT)
    if report is not None and not (report.damaged and manifest is not None):  # else already said, by member
        _check_report(report, manifest, out)
    elif report is None and manifest is None:
        out.problems.append(f"{REPORT}: missing from the archive")
    return out


def format_lines(name: str, verification: Verification) -> list[str]:
    """One line per problem and note, then the outcome."""
    lines = [f"{name}: {problem}" for problem in verification.problems]
    lines += [f"{name}: note: {note}" for note in verification.notes]
    if not verification.ok:
        count = len(verification.problems)
        lines.append(f"{name}: DOES NOT VERIFY ({count} problem{'s' if count != 1 else ''})")
        return lines
    who = {
        "verified": f"signature verified (key {verification.key_id})",
        "not checked": "signature NOT checked",
        "unsigned": "unsigned",
    }.get(verification.signature, verification.signature)
    lines.append(
        f"{name}: verified: {verification.members} members match the manifest, {who}, {REPORT} is schema v1 "
        f"and its statuses give the recorded verdict: {verification.verdict} (target: {verification.target})"
    )
    return lines
