"""OAuth 2.0 client credentials for DAI (contract section 1).

One :class:`TokenSource` per process, shared by every call and thread: a token is fetched once,
reused, fetched again shortly before ``expires_in`` runs out, and once more after a 401 (then
the failed call is sent once more, see :class:`BearerAuth`). Eight threads polling at once
cause one token request, not eight.
"""

from __future__ import annotations

import json
import math
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import quote_plus, urlencode, urlsplit

import requests

from pytest_dai.client import defaults
from pytest_dai.client.calls import public_path
from pytest_dai.client.deadline import request_scope
from pytest_dai.client.error_text import error_text
from pytest_dai.client.errors import (
    DAIAuthError,
    DAIConnectionError,
    DAIHTTPError,
    DAILicenceError,
    DAIProtocolError,
    excerpt,
    register_secret,
)
from pytest_dai.client.http import (
    REDIRECT_STATUSES,
    check_redirect,
    request_whole,
    same_origin,
)
from pytest_dai.client.safety import parse_json

if TYPE_CHECKING:
    from collections.abc import Callable

    from pytest_dai.client.api_version import ApiVersion
    from pytest_dai.client.credentials import Credentials

__all__ = ["BearerAuth", "TokenSource", "error_text", "v1_auth_url"]

#: The v2 auth path and its public API v1 twin (DAI 7.4, contract 2.7).
_V2_AUTH = public_path("v2", "/auth")
_V1_AUTH = public_path("v1", "/auth")


def v1_auth_url(token_url: str) -> str:
    """The public API v1 auth URL of a v2 one (``.../api/v2/auth``); else ``token_url``."""
    if token_url.endswith(_V2_AUTH):
        return token_url[: -len(_V2_AUTH)] + _V1_AUTH
    return token_url


#: Refresh this long before expiry at most; for short-lived tokens, a tenth of their life.
REFRESH_MARGIN_MAX = 30.0

#: The largest token endpoint answer read (a token is a few kB).
TOKEN_BODY_LIMIT = 1024 * 1024
#: The longest access token accepted.
TOKEN_LENGTH_LIMIT = 64 * 1024


class BearerValue(str):
    """An ``Authorization`` header value whose ``repr`` hides the token: headers are locals of
    the frames of ``requests``, urllib3 and http.client, and ``--showlocals`` prints them."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'Bearer ***'"


class FreshBearerValue(BearerValue):
    """A :class:`BearerValue` that carries the token current when it is sent: urllib3 sends the
    same headers again on each retry, and after a ``Retry-After`` sleep the token may have run
    out meanwhile. http.client encodes every header value as it sends it; this one encodes the
    token source's current token (refreshed first when due), so the retry goes out with a
    valid token instead of earning a 401 round trip. ``sent`` is the token last sent."""

    def __new__(cls, token: Callable[[], str]) -> FreshBearerValue:
        first = token()
        value = super().__new__(cls, f"Bearer {first}")
        value._current = token
        value.sent = first
        return value

    _current: Callable[[], str]
    sent: str

    def encode(self, encoding: str = "utf-8", errors: str = "strict") -> bytes:
        """The header as sent: ``Bearer`` and the current token."""
        self.sent = self._current()
        return f"Bearer {self.sent}".encode(encoding, errors)


class FormBody(bytes):
    """An encoded form whose ``repr`` hides it: it holds the client secret, and a traceback
    shown with ``--showlocals`` must not print it from the frames of ``requests``."""

    @classmethod
    def of(cls, **fields: str) -> FormBody:
        """``application/x-www-form-urlencoded`` bytes of ``fields`` (the encoded secret is
        registered for redaction too: that is how it appears in a frame's bytes)."""
        secret = fields.get("client_secret")
        if secret:
            register_secret(quote_plus(secret))
        return cls(urlencode(fields).encode("ascii"))

    def __repr__(self) -> str:
        return "FormBody(<client credentials form, masked>)"

    __str__ = __repr__


class JsonBody(FormBody):
    """The v2 auth body (``{"client_id": ..., "client_secret": ...}``), masked like the form."""

    @classmethod
    def of(cls, **fields: str) -> JsonBody:
        """UTF-8 JSON of ``fields``."""
        return cls(json.dumps(fields).encode("utf-8"))

    def __repr__(self) -> str:
        return "JsonBody(<client credentials, masked>)"

    __str__ = __repr__


class TokenSource:
    """Fetches, caches and refreshes the access token; thread-safe.

    ``session`` is the client's :class:`requests.Session` (its retries apply to the token POST,
    which is safe to repeat). ``timeout`` is the per-request timeout in seconds.
    """

    def __init__(
        self,
        credentials: Credentials,
        session: requests.Session,
        *,
        timeout: float = defaults.REQUEST_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        api: ApiVersion | None = None,
    ) -> None:
        self._credentials = credentials
        self._api = api
        self._session = session
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refresh_at = 0.0
        self.requests_made = 0

    def __repr__(self) -> str:
        state = "cached" if self._token else "empty"
        return f"TokenSource(client_id={self._credentials.client_id!r}, token={state})"

    @property
    def token_url(self) -> str:
        """Where the credentials are posted: the configured token URL, or with the v2 scheme
        on public API v1 (DAI 7.4), its ``/api/v1/auth`` twin."""
        given = self._credentials.token_url
        if self._credentials.scheme == "v2" and self._api is not None:
            return v1_auth_url(given) if self._api.version == "v1" else given
        return given

    def _v1_twin(self) -> str | None:
        """Where to post again after the v2 auth answered 404 (``auto`` still undecided)."""
        api, url = self._api, self.token_url
        if api is None or not api.may_probe or self._credentials.scheme != "v2":
            return None
        twin = v1_auth_url(url)
        return twin if twin != url else None

    def get(self, *, session: requests.Session | None = None, timeout: float | None = None) -> str:
        """The current token, fetched or refreshed first when needed (``session`` and
        ``timeout``: for that fetch, e.g. the abort's quick ones)."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._fetch(session or self._session, self._timeout if timeout is None else timeout)
            assert self._token is not None
            return self._token

    def invalidate(self, rejected: str) -> None:
        """Forget ``rejected`` after a 401, unless another thread has already replaced it."""
        with self._lock:
            if self._token == rejected:
                self._token = None

    def _fetch(self, session: requests.Session, timeout: float) -> None:
        """Post the credentials (lock held). Raises a :class:`DAIError` on any failure.

        The form goes to the token URL only: a redirect is never followed (not even to the
        same origin: a 307/308 would post the secret again), and the answer is read within a
        total deadline and a size cap."""
        url = self.token_url
        response = self._post(session, timeout, url)
        twin = self._v1_twin() if response.status_code == 404 else None
        if twin is not None:
            second = self._post(session, timeout, twin)
            if second.status_code != 404:
                assert self._api is not None
                self._api.decide("v1", f"POST {_V2_AUTH} answered 404, {_V1_AUTH} did not")
                url, response = twin, second
        elif self._api is not None and self._credentials.scheme == "v2" and response.ok:
            path = urlsplit(url).path  # never the URL's user info
            self._api.decide(self._api.version, f"POST {path} answered {response.status_code}")
        self._accept(response, f"token endpoint {url}")

    def _post(self, session: requests.Session, timeout: float, url: str) -> requests.Response:
        """One post of the credentials to ``url``, read whole; failures as DAIErrors."""
        where = f"token endpoint {url}"
        self.requests_made += 1
        with request_scope(timeout) as scope:
            try:
                body, content_type = self._body()
                response = request_whole(
                    session,
                    "POST",
                    url,
                    scope,
                    endpoint=where,
                    body_limit=TOKEN_BODY_LIMIT,
                    read_redirect=True,
                    data=body,
                    timeout=timeout,
                    headers={"Accept": "application/json", "Content-Type": content_type},
                )
                if response.status_code in REDIRECT_STATUSES:
                    check_redirect(url, response, endpoint=where, method="POST", resend_body=False)
            except requests.exceptions.SSLError:
                raise DAIConnectionError(
                    f"{where}: TLS verification failed (give the server's CA bundle with "
                    "--dai-ca-cert or DAI_CA_CERT)",
                    endpoint=where,
                ) from None
            except requests.exceptions.RequestException as exc:
                if scope.expired or isinstance(exc, requests.exceptions.Timeout):
                    raise DAIConnectionError(
                        f"{where}: no answer within {timeout:g} s", endpoint=where
                    ) from None
                raise DAIConnectionError(
                    f"{where}: cannot connect ({type(exc).__name__})", endpoint=where
                ) from None
        return response

    def _body(self) -> tuple[bytes, str]:
        """The credentials as the scheme posts them: an OAuth form, or v2's JSON object."""
        creds = self._credentials
        if creds.scheme == "v2":
            return JsonBody.of(client_id=creds.client_id, client_secret=creds.client_secret), (
                "application/json"
            )
        form = FormBody.of(
            grant_type="client_credentials",
            client_id=creds.client_id,
            client_secret=creds.client_secret,
        )
        return form, "application/x-www-form-urlencoded"

    def _accept(self, response: requests.Response, where: str) -> None:
        """Check the token endpoint's answer and keep the token."""
        status = response.status_code
        if status in (400, 401):
            raise DAIAuthError(
                f"{where}: {status} {error_text(response)} "
                f"(client id {self._credentials.client_id!r}; check the client secret)",
                endpoint=where,
            )
        if status == 403:
            raise DAILicenceError(
                f"{where}: 403 {error_text(response)} (no concurrent user licence is free)",
                endpoint=where,
            )
        if status >= 300:
            raise DAIHTTPError(
                f"{where}: {status} {error_text(response)}", endpoint=where, status=status
            )
        try:
            body: Any = parse_json(response.content or b"", endpoint=where)
        except DAIProtocolError:
            raise DAIProtocolError(
                f"{where}: answer is not JSON: {excerpt(response.text)!r}", endpoint=where
            ) from None
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise DAIProtocolError(f"{where}: answer has no access_token field", endpoint=where)
        if len(token) > TOKEN_LENGTH_LIMIT or any(ch in token for ch in "\r\n\x00"):
            raise DAIProtocolError(
                f"{where}: field access_token is not a usable token", endpoint=where
            )
        register_secret(token)
        lifetime = body.get("expires_in", 300)
        if isinstance(lifetime, bool) or not isinstance(lifetime, (int, float, str)):
            lifetime = 300.0
        try:
            lifetime = float(lifetime)
        except (TypeError, ValueError, OverflowError):
            lifetime = 300.0
        if not math.isfinite(lifetime):
            lifetime = 300.0
        lifetime = min(max(lifetime, 0.0), 86400.0)
        margin = min(REFRESH_MARGIN_MAX, lifetime * 0.1)
        self._token = token
        self._refresh_at = self._clock() + max(lifetime - margin, 0.0)


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer`` from a :class:`TokenSource`; after a 401, one fresh token and
    one more try of the same request (the way requests' own digest auth re-sends)."""

    def __init__(
        self,
        tokens: TokenSource,
        *,
        timeout: float = defaults.REQUEST_TIMEOUT,
        session: requests.Session | None = None,
        origin: str | None = None,
    ) -> None:
        self.tokens = tokens
        self.timeout = timeout
        #: The only origin (scheme, host, port) a token is sent to; None: any (tests).
        self.origin = origin
        #: Fetch a token through this session and ``timeout`` (the abort's quick ones), or
        #: None for the token source's own.
        self.session = session

    def __repr__(self) -> str:
        return f"BearerAuth({self.tokens!r})"

    def _allowed(self, url: str | None) -> bool:
        return self.origin is None or (url is not None and same_origin(self.origin, url))

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if not self._allowed(request.url):
            request.headers.pop("Authorization", None)
            return request
        request.headers["Authorization"] = FreshBearerValue(self._token)
        request.register_hook("response", self._retry_on_401)  # type: ignore[no-untyped-call]
        return request

    def _token(self) -> str:
        if self.session is None:
            return self.tokens.get()
        return self.tokens.get(session=self.session, timeout=self.timeout)

    def _retry_on_401(self, response: requests.Response, **kwargs: Any) -> requests.Response:
        if response.status_code != 401 or getattr(response.request, "_dai_retried", False):
            return response
        if not self._allowed(response.request.url):
            return response
        header = response.request.headers.get("Authorization", "")
        sent = getattr(header, "sent", None)
        self.tokens.invalidate(sent if isinstance(sent, str) else header.removeprefix("Bearer "))
        # Not read (it could be endless): closing drops the connection instead.
        response.close()
        retry = response.request.copy()
        retry._dai_retried = True  # type: ignore[attr-defined]
        retry.headers["Authorization"] = FreshBearerValue(self._token)
        connection = response.connection
        kwargs["timeout"] = kwargs.get("timeout") or self.timeout
        second: requests.Response = connection.send(retry, **kwargs)
        second.history.append(response)
        second.request = retry
        return second
