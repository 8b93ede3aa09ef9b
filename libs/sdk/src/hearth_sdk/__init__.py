"""Hearth's client SDK: what a young people's app needs to talk to a Hearth platform.

- :mod:`hearth_sdk.endpoints`: where the services listen (`var/endpoints.json`).
- :mod:`hearth_sdk.identity`: a device key, registration, login, sessions, house rules.
- :mod:`hearth_sdk.age`: age verification and blind-signed single-use age tokens.
- :mod:`hearth_sdk.messaging`: end-to-end encrypted conversations, delivery, acknowledgement.
- :mod:`hearth_sdk.safety`: the on-device scanner's outcomes (nothing leaves the device).
- :mod:`hearth_sdk.safety_report`: gathering a franked report on the device.
- :mod:`hearth_sdk.errors`: why a call was refused, and which refusals to retry.
- :mod:`hearth_sdk.local_state`: how the device's secrets are written.

The guide with runnable examples is `docs/sdk.md`; the names most apps start from are
imported here. The scanner (:mod:`hearth_sdk.safety`) is imported on its own, as it loads
its model.
"""

from .channel import connect
from .endpoints import Endpoints
from .errors import ErrorReason, error_info, reason, retryable, retrying
from .identity import IdentityClient
from .messaging import MessagingDevice
from .sessions import ReceivedMessage

__all__ = [
    "Endpoints",
    "ErrorReason",
    "IdentityClient",
    "MessagingDevice",
    "ReceivedMessage",
    "connect",
    "error_info",
    "reason",
    "retryable",
    "retrying",
]
