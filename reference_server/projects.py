"""Projects: the organization-scoped resource that scopes and isolation protect."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from .clock import Clock, format_timestamp
from .store import Store


@dataclass(frozen=True)
class Project:
    id: str
    organization_id: str
    name: str
    created_at: float

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "organizationId": self.organization_id,
            "createdAt": format_timestamp(self.created_at),
        }


class Projects:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def list(self, organization_id: str) -> list[Project]:
        rows = self.store.query(
            "SELECT * FROM projects WHERE organization_id = ? ORDER BY created_at, id", (organization_id,)
        )
        return [self._project(row) for row in rows]

    def create(self, organization_id: str, name: str) -> Project:
        project = Project("prj_" + uuid.uuid4().hex, organization_id, name, self.clock.now())
        self.store.execute(
            "INSERT INTO projects (id, organization_id, name, created_at) VALUES (?, ?, ?, ?)",
            (project.id, project.organization_id, project.name, project.created_at),
        )
        return project

    def get(self, project_id: str) -> Project | None:
        """A project of any organization (the policy decides who may see it)."""
        row = self.store.query_one("SELECT * FROM projects WHERE id = ?", (project_id,))
        return self._project(row) if row else None

    def delete(self, project_id: str) -> None:
        self.store.execute("DELETE FROM projects WHERE id = ?", (project_id,))

    @staticmethod
    def _project(row: Any) -> Project:
        return Project(row["id"], row["organization_id"], row["name"], row["created_at"])
