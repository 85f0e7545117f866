"""The HTTP routes, one module per area of the contract."""

from __future__ import annotations

from fastapi import APIRouter

from . import api_keys, auth, clock_control, discovery, me, projects, two_factor

#: Routers of every deployment, in the order of contract §3.
CONTRACT_ROUTERS: tuple[APIRouter, ...] = (
    auth.router,
    two_factor.router,
    me.router,
    api_keys.router,
    projects.router,
    discovery.router,
)

#: Mounted only when ``Settings.mounts_clock_routes`` and the clock can move.
TEST_CLOCK_ROUTER: APIRouter = clock_control.router
