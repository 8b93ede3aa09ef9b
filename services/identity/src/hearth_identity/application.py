"""Identity's commands and queries."""

from __future__ import annotations

from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from hearth_runtime.application import HearthApplication

from .domain import Account, Role


class RequestConflict(Exception):
    """A request id was reused for a different request."""


class AccountNotFound(Exception):
    pass


class Identity(HearthApplication):
    name = "identity"

    def register_account(self, role: Role, device_public_key: bytes, request_id: str) -> UUID:
        """Register, idempotently: a retry with the same request id finds the same account."""
        account_id = Account.create_id(request_id)
        try:
            existing: Account = self.repository.get(account_id)
        except AggregateNotFoundError:
            account = Account(role, device_public_key, request_id)
            self.save(account)
            return account.id
        if existing.role != role or existing.device_keys[0] != device_public_key:
            raise RequestConflict(f"request_id {request_id!r} was used for another registration")
        return account_id

    def get_account(self, account_id: UUID) -> Account:
        try:
            account: Account = self.repository.get(account_id)
        except AggregateNotFoundError:
            raise AccountNotFound(str(account_id)) from None
        return account
