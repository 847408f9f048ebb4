"""What the running application holds: settings, the registry key and the claim store."""

from __future__ import annotations

from dataclasses import dataclass

from tortoise import connections

import keys
from api.settings import Settings
from registry.accountability.store import AccountabilityStore
from registry.authority.service import AuthorityService
from registry.log import TransparencyLog
from registry.notices.notify import NotifierNotifications
from registry.notices.store import NoticeStore
from registry.notices.webhooks import WebhookDeliverer
from registry.snapshot_store import SnapshotStore
from registry.store import ClaimStore
from registry.witnessing import Witnessing


@dataclass
class RegistryState:
    settings: Settings
    key: keys.SigningKey
    claims: ClaimStore
    log: TransparencyLog
    snapshots: SnapshotStore
    notices: NoticeStore | None = None
    webhooks: WebhookDeliverer | None = None
    notifications: NotifierNotifications | None = None
    authority: AuthorityService | None = None
    witnessing: Witnessing | None = None
    accountability: AccountabilityStore | None = None

    async def ping(self) -> None:
        """Touch the database so /healthz fails when it is unreachable."""
        await connections.get("default").execute_query("SELECT 1")
