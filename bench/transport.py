"""Time per request to a loopback HTTPS target, side by side: the transport
the harness built before issue 15 (one HTTPTransport, TCP_NODELAY), the
routed stack of harness/transport.py direct, with a gateway header, and
through a CONNECT proxy.

    python bench/transport.py [--requests N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bsk_conformance.harness.evidence import EvidenceLog, Redactor  # noqa: E402
from bsk_conformance.harness.profile import load_profile  # noqa: E402
from bsk_conformance.harness.target import Target  # noqa: E402
from bsk_conformance.harness.transport import SOCKET_OPTIONS, ConnectionOptions, ssl_context  # noqa: E402
from bsk_conformance.reference_server import Settings, create_app  # noqa: E402
from bsk_conformance.reference_server.background import BackgroundServer  # noqa: E402
from tests.harness.staging import ForwardProxy, Gateway, make_pki, server_tls  # noqa: E402

PROFILE = load_profile(ROOT / "fixtures" / "reference-profile.toml")


def per_request(target: Target, count: int) -> float:
    target.get("/.well-known/jwks.json")  # connect and handshake outside the timing
    started = time.perf_counter()
    for _ in range(count):
        target.get("/.well-known/jwks.json")
    return (time.perf_counter() - started) / count * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        pki = make_pki(Path(directory))
        app = Gateway(create_app(Settings(environment="test")), None)
        with BackgroundServer(app, tls=server_tls(pki, client_certificate=False)) as server, ForwardProxy() as proxy:
            options = ConnectionOptions(ca_bundle=str(pki.ca), use_environment_proxies=False)
            before = httpx.HTTPTransport(verify=ssl_context(options), retries=0, socket_options=SOCKET_OPTIONS)
            ways = {
                "before (one HTTPTransport)": dict(transport=before),
                "routed, direct": dict(connection=options),
                "routed, gateway header": dict(
                    connection=ConnectionOptions(
                        ca_bundle=str(pki.ca), use_environment_proxies=False, headers=(("X-Gateway-Token", "gw-x" * 8),)
                    )
                ),
                "routed, CONNECT proxy": dict(connection=ConnectionOptions(ca_bundle=str(pki.ca), proxy=proxy.url)),
            }
            results = {}
            for name, kwargs in ways.items():
                samples = []
                for _ in range(3):
                    target = Target(server.url, PROFILE, EvidenceLog(Redactor()), **kwargs)
                    samples.append(per_request(target, args.requests))
                    target.close()
                results[name] = statistics.median(samples)
    baseline = results["before (one HTTPTransport)"]
    print(f"{'way':<28} {'ms/request':>10} {'ratio':>6}   (median of 3 x {args.requests} GET over TLS, loopback)")
    for name, value in results.items():
        print(f"{name:<28} {value:>10.2f} {value / baseline:>6.2f}")


if __name__ == "__main__":
    main()
