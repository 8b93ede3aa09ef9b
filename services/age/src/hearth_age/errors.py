"""The age service's domain errors, each with its `ErrorInfo` reason."""

from __future__ import annotations

from hearth_runtime.errors import (
    AlreadyDone,
    Conflict,
    Exhausted,
    Invalid,
    NotAuthenticated,
    NotFound,
    Refused,
)


class SessionNotFound(NotFound):
    reason = "SESSION_NOT_FOUND"


class BatchTooLarge(Exhausted):
    reason = "BATCH_TOO_LARGE"


class InvalidRequest(Invalid):
    """Malformed input: an empty batch, a bad blinded message, an unknown key."""

    reason = "INVALID_REQUEST"


class WrongBand(Refused):
    """A key or token of another band (or method) than the one asked for."""

    reason = "WRONG_BAND"


class ExpiredEpoch(Conflict):
    reason = "EPOCH_EXPIRED"


class ForgedToken(Invalid):
    reason = "FORGED_TOKEN"


class NotTheHolder(NotAuthenticated):
    """The holder proof was not made by the key the token is bound to."""

    reason = "NOT_THE_HOLDER"


class TokenAlreadySpent(AlreadyDone):
    reason = "TOKEN_SPENT"


class ChallengeRejected(Invalid):
    reason = "CHALLENGE_REJECTED"


class NotVouchable(Refused):
    """The voucher is not a vetted practitioner or a linked guardian of the account named."""

    reason = "NOT_VOUCHABLE"
