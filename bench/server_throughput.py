"""The reference server's throughput, authenticated against unauthenticated, side by side:
`GET /me` with a bearer token and `GET /organization` with an API key, each as a ratio
of `GET /.well-known/jwks.json` (public, no credentials) measured in the same run.

    python bench/server_throughput.py [--connections 16] [--seconds 2] [--rounds 5] [--json]

The server is `python -m bsk_conformance.reference_server --port 0` (uvicorn, as
shipped), in a process of its own. The load comes from this process: N keep-alive
connections on asyncio streams sending one prepared request after another, for a
fixed time (no wrk on these machines; this generator costs a small fraction of
what the server spends per request). Rounds interleave the three endpoints so that
a noisy neighbour slows all of them alike; each figure is the median over rounds.
Besides requests per second, the server's own CPU time per request (from
/proc/<pid>/stat) is given: it is steadier than req/s on a shared machine, and
`jwks/this` is the throughput ratio the server would reach with a core to itself.
The generator's CPU per request is printed too, to show it is the cheaper side.

Each connection has its own access token (a login of its own) and its own API key
(rate limit 10000/min), so no key is throttled; any answer but 200 stops the run.

To measure another checkout, run this script with that checkout's interpreter, or
with PYTHONPATH naming a folder where `bsk_conformance` is that checkout: the
server process inherits it, and this script imports nothing of the package.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx

ACCOUNTS = (
    {"email": "alice@acme.test", "password": "correct horse battery staple"},
    {"email": "bob@globex.test", "password": "another long passphrase"},
)
ENDPOINTS = ("jwks", "bearer /me", "api key /organization")
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Window:
    requests: int
    seconds: float
    server_cpu: float  # seconds of the server process's CPU time
    client_cpu: float  # seconds of this process's (the load generator's) CPU time

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu / self.requests * 1e6

    @property
    def client_us_per_request(self) -> float:
        return self.client_cpu / self.requests * 1e6


def request_bytes(port: int, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("ascii")


async def _connection(port: int, request: bytes, deadline: float) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.perf_counter() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = _CONTENT_LENGTH.search(head)
            body = await reader.readexactly(int(length.group(1)) if length else 0)
            if head[9:12] != b"200":
                path, status = request.split(b" ")[1].decode(), head[9:12].decode()
                raise SystemExit(f"server_throughput: {path} answered {status}: {body[:200]!r}")
            done += 1
    finally:
        writer.close()
    return done


def server_cpu(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as file:
        fields = file.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(port: int, pid: int, requests: list[bytes], seconds: float) -> Window:
    cpu_before, client_before = server_cpu(pid), time.process_time()
    started = time.perf_counter()
    counts = await asyncio.gather(*(_connection(port, r, started + seconds) for r in requests))
    elapsed = time.perf_counter() - started
    return Window(sum(counts), elapsed, server_cpu(pid) - cpu_before, time.process_time() - client_before)


def start_server() -> tuple[subprocess.Popen[str], int]:
    server = subprocess.Popen(
        [sys.executable, "-m", "bsk_conformance.reference_server", "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE, text=True,
    )
    assert server.stdout is not None
    first = server.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", first)
    if not found:
        server.kill()
        raise SystemExit(f"server_throughput: the server did not start: {first.strip()!r}")
    return server, int(found.group(1))


def credentials(port: int, connections: int) -> tuple[list[str], list[str]]:
    """One access token and one API key (organization:read, 10000/min) per connection."""
    tokens, keys = [], []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for n in range(connections):
            login = client.post("/auth/login", json=ACCOUNTS[n % len(ACCOUNTS)])
            login.raise_for_status()
            token = login.json()["accessToken"]
            created = client.post(
                "/api-keys", headers={"Authorization": f"Bearer {token}"},
                json={"name": f"bench {n}", "scopes": ["organization:read"], "rateLimit": 10000},
            )
            created.raise_for_status()
            tokens.append(token)
            keys.append(created.json()["key"])
    return tokens, keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=2.0, help="per endpoint and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="also print the figures as one JSON line")
    args = parser.parse_args()

    server, port = start_server()
    try:
        tokens, keys = credentials(port, args.connections)
        requests = {
            "jwks": [request_bytes(port, "/.well-known/jwks.json", {})] * args.connections,
            "bearer /me": [request_bytes(port, "/me", {"Authorization": f"Bearer {t}"}) for t in tokens],
            "api key /organization": [request_bytes(port, "/organization", {"X-API-Key": k}) for k in keys],
        }
        for name in ENDPOINTS:  # warm-up: first connections, first verifications, imports
            asyncio.run(measure(port, server.pid, requests[name], 0.5))
        windows: dict[str, list[Window]] = {name: [] for name in ENDPOINTS}
        for _ in range(args.rounds):
            for name in ENDPOINTS:
                windows[name].append(asyncio.run(measure(port, server.pid, requests[name], args.seconds)))
    finally:
        server.terminate()
        server.wait(timeout=30)

    rate = {name: statistics.median(w.per_second for w in windows[name]) for name in ENDPOINTS}
    cpu = {name: statistics.median(w.cpu_us_per_request for w in windows[name]) for name in ENDPOINTS}
    client = {name: statistics.median(w.client_us_per_request for w in windows[name]) for name in ENDPOINTS}
    print(f"{args.connections} connections, {args.rounds} rounds x {args.seconds:g} s per endpoint (medians)")
    print(f"{'endpoint':<24}{'req/s':>8}{'vs jwks':>9}{'server CPU us/req':>19}{'jwks/this':>11}"
          f"{'load generator CPU us/req':>27}")
    for name in ENDPOINTS:
        print(f"{name:<24}{rate[name]:>8.0f}{rate[name] / rate['jwks']:>9.2f}"
              f"{cpu[name]:>19.0f}{cpu['jwks'] / cpu[name]:>11.2f}{client[name]:>27.0f}")
    if args.json:
        print(json.dumps({"req_per_s": rate, "server_cpu_us_per_request": cpu,
                          "ratio_req_per_s": {n: rate[n] / rate["jwks"] for n in ENDPOINTS}}))


if __name__ == "__main__":
    main()
