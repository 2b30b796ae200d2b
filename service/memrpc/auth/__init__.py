"""Authentication and tenant scopes: who may call, on which namespaces, and
whether they may write.

A call carries `authorization: Bearer <token>` metadata; the token is an API
key (`keys.py`) or a JWT (`jwt.py`). Either yields a `Credential`
(`credentials.py`); `interceptor.py` checks it against the access of the
method (`scopes.py`) and the `namespace` of the request. `policy.py` decides
from the settings whether authentication is on; `reloading.py` picks up
changed key and JWKS files without a restart.
"""

from memrpc.auth.policy import AuthConfigError, auth_interceptors, check_settings

__all__ = ["AuthConfigError", "auth_interceptors", "check_settings"]
