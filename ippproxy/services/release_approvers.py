"""Who approves jobs on an approval queue (issue 17 §6): the users and ``@groups`` the
queue's ``approvers`` names, and users granted the release-approver role (PaperCut's
"release approver", accounting/roles.py, resolved per user, group and built-in group).
Read from the user store; blocking (run it in a thread)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from ippproxy.accounting.roles import Role
from ippproxy.accounting.roles_store import user_role
from ippproxy.accounting.users import find_user, user_groups
from ippproxy.services.release_rules import is_approver


class Approvers:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, name: str, approvers: tuple[str, ...]) -> bool:
        with self.engine.connect() as conn:
            row = find_user(conn, name)
            if row is None or row._mapping.get("disabled"):
                return False
            user_id = uuid.UUID(str(row._mapping["id"]))
            return is_approver(name, user_groups(conn, user_id), approvers,
                               user_role(conn, user_id, Role.RELEASE_APPROVER).granted)
