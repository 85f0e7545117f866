"""Key metadata judged by value (suites/_keys.py): a field holding a piece of
its own key's secret, however short, is a leak once it does so for two keys;
what the contract lets metadata show, and what the client sent, is not."""

from __future__ import annotations

import json

import httpx

from bsk_conformance.harness.evidence import RawExchange, Redactor
from bsk_conformance.harness.profile import Account, Profile
from bsk_conformance.suites._keys import (
    KeyLeakScanner,
    alnum_runs,
    confirmed_pieces,
    metadata_pieces,
)

PROFILE = Profile(
    environment="test",
    accounts=(Account("a@x.test", "pw-a-long-enough"), Account("b@y.test", "pw-b-long-enough")),
    source="test",
)
SECRET_A = "AbCdEfGh" + "k3Lm9NpQ2rStUvWx5yZ0aBcDeFgHiJkL" + "wXyZ"
SECRET_B = "QrStUvWx" + "7mNbVcXzLkJhGfDsA1s2D3f4G5h6J7k8" + "pQrS"
KEY_A, KEY_B = f"bsk_test_{SECRET_A}", f"bsk_test_{SECRET_B}"


def _item(key_id: str, key: str, **extra) -> dict:
    base = {"id": key_id, "name": "key-0a1b2c3d", "prefix": key[:17], "scopes": ["organization:read"],
            "rateLimit": 60, "organizationId": "org_acme", "createdAt": "2026-11-29T13:27:55Z"}
    return {**base, **extra}


def test_a_last_four_hint_is_a_piece_bare_or_masked_or_nested():
    assert metadata_pieces(_item("k1", KEY_A, lastFour="wXyZ"), KEY_A, PROFILE) == {"lastFour": 4}
    assert metadata_pieces(_item("k1", KEY_A, hint="bsk_test_…wXyZ"), KEY_A, PROFILE) == {"hint": 4}
    assert metadata_pieces(_item("k1", KEY_A, display={"masked": "****wXyZ"}), KEY_A, PROFILE) == {"display.masked": 4}


def test_ordinary_metadata_holds_no_piece():
    assert metadata_pieces(_item("key_9f8e7d6c5b4a39281706f5e4d3c2b1a0", KEY_A), KEY_A, PROFILE) == {}


def test_what_the_prefix_may_show_is_not_a_piece_beyond_it():
    # the prefix shows the first 8 secret characters: repeating 4 of them elsewhere shows nothing more
    assert metadata_pieces(_item("k1", KEY_A, label="AbCd…"), KEY_A, PROFILE) == {}
    assert metadata_pieces(_item("k1", KEY_A, prefix="bsk_test_wXyZ"), KEY_A, PROFILE) == {}


def test_runs_shorter_than_four_and_what_the_client_sent_are_not_counted():
    assert metadata_pieces(_item("k1", KEY_A, lastThree="XyZ"), KEY_A, PROFILE) == {}
    sent = alnum_runs("a name with wXyZ in it")
    assert metadata_pieces(_item("k1", KEY_A, name="wXyZ"), KEY_A, PROFILE, sent) == {}


def test_a_field_is_a_leak_only_when_it_shows_a_piece_for_two_keys():
    one = {KEY_A: {"lastFour": 4}, KEY_B: {}}
    assert confirmed_pieces(one) == {}
    both = {KEY_A: {"lastFour": 4}, KEY_B: {"lastFour": 4}}
    assert confirmed_pieces(both) == {"lastFour": [4, 4]}


def _raw(method: str, path: str, status: int, body: dict, sent: dict | None = None) -> RawExchange:
    return RawExchange(method, f"http://127.0.0.1:1{path}", httpx.Headers(), json.dumps(sent or {}).encode(), status,
                       httpx.Headers({"content-type": "application/json"}), json.dumps(body).encode())


def _scanner_after(hints: dict[str, str]) -> KeyLeakScanner:
    scanner = KeyLeakScanner(PROFILE, Redactor(b"k" * 32))
    for key_id, key in (("k1", KEY_A), ("k2", KEY_B)):
        created = {**_item(key_id, key), "key": key}
        scanner.observe(_raw("POST", "/api-keys", 201, created, {"name": "key-0a1b2c3d", "scopes": []}))
    items = [_item("k1", KEY_A, **({"lastFour": hints["k1"]} if "k1" in hints else {})),
             _item("k2", KEY_B, **({"lastFour": hints["k2"]} if "k2" in hints else {}))]
    scanner.observe(_raw("GET", "/api-keys", 200, {"data": items}))
    return scanner


def test_the_scanner_flags_a_hint_shown_for_two_keys_and_never_quotes_it():
    scanner = _scanner_after({"k1": SECRET_A[-4:], "k2": SECRET_B[-4:]})
    assert not scanner.problems
    assert {leak.where for leak in scanner.leaks} == {'metadata field "lastFour"'} and len(scanner.leaks) == 2
    assert SECRET_A[-4:] not in scanner.describe() and SECRET_B[-4:] not in scanner.describe()


def test_the_scanner_holds_back_a_single_coincidence():
    scanner = _scanner_after({"k1": SECRET_A[-4:], "k2": "zzzz"})
    assert not scanner.problems and scanner.leaks == []
