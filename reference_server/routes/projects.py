"""Projects, scoped to the caller's organization (contract §3)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import errors
from ..models import CreateProjectBody
from ..principals import Principal
from ..projects import Project
from .common import Caller, no_content, parts_of

router = APIRouter()


@router.get("/projects")
async def list_projects(request: Request, principal: Caller) -> dict[str, Any]:
    parts = parts_of(request)
    parts.policy.require_scope(principal, "projects:read")
    return {"data": [p.body() for p in parts.projects.list(principal.organization_id)]}


@router.post("/projects")
async def create_project(request: Request, principal: Caller) -> Response:
    parts = parts_of(request)
    parts.policy.require_scope(principal, "projects:write")
    body = await parts.bodies.parse(request, CreateProjectBody)
    project = parts.projects.create(principal.organization_id, body.name)
    return JSONResponse(project.body(), status_code=201)


@router.get("/projects/{project_id}")
async def get_project(project_id: str, request: Request, principal: Caller) -> dict[str, Any]:
    parts = parts_of(request)
    parts.policy.require_scope(principal, "projects:read")
    return _visible_project(request, principal, project_id).body()


@router.delete("/projects/{project_id}")
async def delete_project(project_id: str, request: Request, principal: Caller) -> Response:
    parts = parts_of(request)
    parts.policy.require_scope(principal, "projects:write")
    parts.projects.delete(_visible_project(request, principal, project_id).id)
    return no_content()


def _visible_project(request: Request, principal: Principal, project_id: str) -> Project:
    parts = parts_of(request)
    project = parts.projects.get(project_id)
    if project is None:
        raise errors.not_found("project")
    parts.policy.ensure_project_visible(principal, project)
    return project
