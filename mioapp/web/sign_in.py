"""The sign-in and sign-out form posts: they set and clear the HttpOnly session cookie."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit

from limits.strategies import RateLimiter
from sqlmodel import Session
from starlette.requests import Request, cookie_parser
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from mioapp import auth
from mioapp.db import Database
from mioapp.web import routes

COOKIE = "mio_session"
# The form is an email (254), a password (1024) and a path; a body larger than this is not it.
MAX_FORM_BYTES = 8192
MISSING_FIELDS = "missing"  # the error code for an empty email or password


def token_from_cookie_header(header: str) -> str | None:
    """The session token in a Cookie request header, if any."""
    return cookie_parser(header).get(COOKIE) or None


def safe_next(value: str) -> str:
    """Only same-site paths are followed after sign-in (no open redirect). Browsers drop tabs
    and newlines from URLs, so `/<tab>/evil.example` would become `//evil.example`."""
    if (
        value.startswith("/")
        and not value.startswith("//")
        and "\\" not in value
        and value.isprintable()
        and not any(c.isspace() for c in value)
    ):
        return value
    return routes.CUSTOMERS


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def client_address(request: Request, trusted_proxy_hops: int) -> str:
    """The address the request came from. Behind `trusted_proxy_hops` reverse proxies (each
    appending to X-Forwarded-For) it is the entry the outermost trusted proxy wrote; without
    any, the header is the client's own words and is ignored. Reflex's rule for the websocket."""
    address = request.client.host if request.client else ""
    if trusted_proxy_hops:
        forwarded = [
            entry.strip()
            for header in request.headers.getlist("x-forwarded-for")
            for entry in header.split(",")
            if entry.strip()
        ]
        if len(forwarded) >= trusted_proxy_hops:
            address = forwarded[-trusted_proxy_hops]
    return address


async def _read_form(request: Request) -> dict[str, str] | None:
    """The url-encoded form, or None when the body is larger than any real sign-in form (read
    no further than that, whatever Content-Length claims)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    return dict(parse_qsl(body.decode("utf-8", errors="replace")))


def _no_store(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response


def _back_to_form(error: str, raw_next: str) -> Response:
    query = {"error": error} | ({"next": safe_next(raw_next)} if raw_next else {})
    return _no_store(
        RedirectResponse(f"{routes.SIGN_IN}?{urlencode(query, safe='/')}", status_code=303)
    )


def _refused() -> Response:
    return PlainTextResponse("Cross-site request refused.", status_code=403)


class SignInEndpoints:
    """POST sign-in (set the cookie, then go to `next`) and POST sign-out (end the login session,
    clear the cookie). Both refuse a foreign or missing Origin: with SameSite=Strict that is the
    CSRF defence, so a form on another site can neither sign a browser in nor out."""

    def __init__(
        self,
        *,
        db: Database,
        limiter: RateLimiter,
        app_base_url: str,
        session_days: int,
        trusted_proxy_hops: int = 0,
    ) -> None:
        self._db = db
        self._limiter = limiter
        self._origin = origin_of(app_base_url)
        # Browsers drop Secure cookies set over plain http, which a local install uses.
        self._secure = self._origin.startswith("https://")
        self._session_days = session_days
        self._trusted_proxy_hops = trusted_proxy_hops

    def routes(self) -> list[Route]:
        return [
            Route(routes.SIGN_IN_POST, self.sign_in, methods=["POST"]),
            Route(routes.SIGN_OUT_POST, self.sign_out, methods=["POST"]),
        ]

    def _same_origin(self, request: Request) -> bool:
        return request.headers.get("origin", "").lower() == self._origin

    async def sign_in(self, request: Request) -> Response:
        if not self._same_origin(request):
            return _refused()
        form = await _read_form(request)
        if form is None:
            return PlainTextResponse("Request body too large.", status_code=413)
        email = form.get("email", "").strip()[:254]
        password = form.get("password", "")[:1024]
        raw_next = form.get("next", "")
        if not email or not password:
            return _back_to_form(MISSING_FIELDS, raw_next)
        client = auth.client_key(client_address(request, self._trusted_proxy_hops))
        # Argon2, the limiter and the database block: off the event loop, in one transaction.
        result = await self._db.run(lambda s: self._check(s, email, password, client))
        if result.refusal is not None:
            return _back_to_form(result.refusal, raw_next)
        response = _no_store(RedirectResponse(safe_next(raw_next), status_code=303))
        response.set_cookie(
            COOKIE,
            result.token,
            max_age=self._session_days * 86400,
            path="/",
            secure=self._secure,
            httponly=True,
            samesite="strict",
        )
        return response

    def _check(self, session: Session, email: str, password: str, client: str) -> auth.LoginResult:
        return auth.sign_in(
            session,
            email=email,
            password=password,
            session_days=self._session_days,
            limiter=self._limiter,
            client=client,
        )

    async def sign_out(self, request: Request) -> Response:
        if not self._same_origin(request):
            return _refused()
        token = request.cookies.get(COOKIE)
        if token:
            await self._db.run(lambda s: auth.sign_out(s, token))
        response = _no_store(RedirectResponse(routes.SIGN_IN, status_code=303))
        response.delete_cookie(
            COOKIE, path="/", secure=self._secure, httponly=True, samesite="strict"
        )
        return response
