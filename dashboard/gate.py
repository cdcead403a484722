"""Sign-in in front of the dashboard: the sign-in and password pages, and the gate itself.

Why outside Streamlit: a page that is never sent cannot leak. The gate is ASGI
middleware in front of every request of the Streamlit server: without a valid session
cookie, a page address answers with a redirect to ``/signin`` and the websocket that
carries the data is refused, so not one label of the dashboard reaches an anonymous
browser. The sign-in page itself is plain HTML (no script, nothing of the warehouse), so
a new visitor costs the server almost nothing until they have signed in.

The session cookie is HttpOnly (scripts cannot read it) and SameSite=Lax (another site
can neither post to these forms with it nor open the websocket with it). Every form
post must come from this site's own pages (the Origin header is checked).
"""

from __future__ import annotations

import hmac
import html
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from access.demo import DEMO_PASSWORD
from access.settings import AccessSettings
from access.store import AccessStore, PasswordRejected, SignInStatus
from dashboard.i18n import LANGUAGES, translate

WARMUP_COOKIE = "rccdash_warmup"
# Paths anyone may request: the gate's own pages, Streamlit's health check and its static
# bundle (the same public JavaScript for everybody, no data in it).
PUBLIC_PATHS = ("/signin", "/signout", "/_stcore/health", "/favicon.png")
PUBLIC_PREFIXES = ("/static/",)
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_STYLE = """
body{font-family:"Noto Sans CJK SC","Source Sans Pro",sans-serif;background:#f5f6f8;margin:0;
color:#262730}main{max-width:26rem;margin:8vh auto;background:#fff;padding:2rem 2.2rem;
border-radius:.6rem;box-shadow:0 1px 4px rgba(0,0,0,.12)}h1{font-size:1.35rem;margin:0 0 .2rem}
h2{font-size:1rem;font-weight:400;color:#555;margin:0 0 1.4rem}label{display:block;
margin:.8rem 0 .3rem;font-size:.9rem}input[type=text],input[type=password]{width:100%;
box-sizing:border-box;padding:.55rem;border:1px solid #ccc;border-radius:.35rem;font-size:1rem}
button{margin-top:1.3rem;width:100%;padding:.6rem;background:#1f6f5c;color:#fff;border:0;
border-radius:.35rem;font-size:1rem;cursor:pointer}.error{background:#fdecea;color:#8a1c10;
padding:.6rem .8rem;border-radius:.35rem;margin:.6rem 0}.note{color:#666;font-size:.8rem;
margin-top:1rem}.info{background:#e8f1fb;color:#0b3d6b;padding:.6rem .8rem;border-radius:.35rem;
margin:.6rem 0}.demo{background:#fff4d6;border:1px solid #e6c15c;color:#5c4300;padding:.7rem .9rem;
border-radius:.35rem;margin:0 0 1rem;font-size:.9rem}.lang{text-align:right;font-size:.85rem;
margin:-.8rem 0 .6rem}.lang a{color:#1f6f5c;margin-left:.5rem}code{background:#f0f0f0;
padding:0 .25rem}
"""
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self';"
    " frame-ancestors 'none'",
}


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site.

    >>> safe_next("/stars?month=2026-03"), safe_next("//evil.example/"), safe_next(None)
    ('/stars?month=2026-03', '/', '/')
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target:
        return "/"
    return target


def cookie_value(scope: Scope, name: str) -> str | None:
    """The value of cookie ``name`` in an ASGI request's headers."""
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # a malformed cookie header is no cookie
                return None
            if name in jar:
                return jar[name].value
    return None


def _lang(request: Request) -> str:
    """``?lang=`` when given, else the browser's first choice between Chinese and English."""
    wanted = request.query_params.get("lang") or request.headers.get("accept-language", "")
    return "zh" if wanted.lower().startswith("zh") else "en"


@dataclass(frozen=True)
class Gate:
    """The sign-in pages and the middleware of one dashboard, over one account store."""

    store: AccessStore
    settings: AccessSettings
    warmup_secret: str = ""

    # -- pages ---------------------------------------------------------------------------

    def _page(
        self,
        lang: str,
        title: str,
        body: str,
        status: int = 200,
        keep: dict[str, str] | None = None,
    ) -> HTMLResponse:
        """A small bilingual page in the house style; the language link keeps ``keep``."""
        switch = " ".join(
            f'<a href="?{html.escape(urlencode({**(keep or {}), "lang": code}))}">'
            f"{html.escape(name)}</a>"
            for code, name in LANGUAGES.items()
            if code != lang
        )
        text = (
            f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width,initial-scale=1">'
            f"<title>{html.escape(title)} · rccdash</title><style>{_STYLE}</style></head>"
            f'<body><main><div class="lang">{switch}</div>{body}</main></body></html>'
        )
        return HTMLResponse(text, status_code=status, headers=_HEADERS)

    def _signin_form(
        self, lang: str, next_path: str, *, message: str = "", why: str = "", status: int = 200
    ) -> HTMLResponse:
        """The sign-in form, with a message when the last attempt failed.

        ``why`` is the label key of a note on why the form is shown (a session ended).
        """
        info = translate(why, lang) if why in ("signin_expired", "signin_required") else ""
        t = lambda key, **v: html.escape(translate(key, lang, **v))  # noqa: E731
        s = self.settings
        demo = ""
        users = self.store.demo_accounts()
        if users:
            listed = ", ".join(f"<code>{html.escape(u)}</code>" for u in users)
            body = t("signin_demo_body", users="\x00", password="\x01")
            body = body.replace("\x00", listed).replace(
                "\x01", f"<code>{html.escape(DEMO_PASSWORD)}</code>"
            )
            demo = f'<div class="demo" id="demo"><b>{t("signin_demo_title")}</b><br>{body}</div>'
        note = t(
            "signin_lockout_note",
            n=s.max_failures,
            minutes=round(s.failure_window_s / 60),
            lock=round(s.lock_s / 60),
        )
        body = (
            f"{demo}<h1>{t('signin_title')}</h1><h2>{t('signin_heading')}</h2>"
            + (f'<div class="error" role="alert">{html.escape(message)}</div>' if message else "")
            + (f'<div class="info">{html.escape(info)}</div>' if info else "")
            + f'<form method="post" action="/signin?lang={lang}">'
            f'<input type="hidden" name="next" value="{html.escape(next_path)}">'
            f'<label for="username">{t("signin_username")}</label>'
            '<input type="text" id="username" name="username" autocomplete="username"'
            " autofocus required>"
            f'<label for="password">{t("signin_password")}</label>'
            '<input type="password" id="password" name="password"'
            ' autocomplete="current-password" required>'
            f'<button type="submit">{t("signin_submit")}</button></form>'
            f'<p class="note">{note}</p>'
        )
        keep = {"next": next_path} | ({"why": why} if why else {})
        return self._page(lang, translate("signin_title", lang), body, status, keep)

    async def signin(self, request: Request) -> Response:
        """GET: the form. POST: check the password, set the session cookie, go on."""
        lang = _lang(request)
        if request.method == "GET":
            next_path = safe_next(request.query_params.get("next"))
            return self._signin_form(lang, next_path, why=request.query_params.get("why", ""))
        if not _same_origin(request):
            return PlainTextResponse("cross-site form post refused", status_code=403)
        form = await request.form()
        username = str(form.get("username") or "")[:200]
        password = str(form.get("password") or "")[:1000]
        next_path = safe_next(str(form.get("next") or "/"))
        client = request.client.host if request.client else ""
        outcome = await run_in_threadpool(self.store.sign_in, username, password, client=client)
        if outcome.status is SignInStatus.OK and outcome.token and outcome.account:
            target = next_path
            if outcome.account.must_change_password:
                target = f"/password?next={quote(next_path)}&lang={lang}"
            response = RedirectResponse(target, status_code=303)
            response.set_cookie(
                self.settings.cookie_name,
                outcome.token,
                httponly=True,
                samesite="lax",
                secure=self.settings.cookie_secure,
                path="/",
            )
            return response
        if outcome.status is SignInStatus.LOCKED:
            minutes = max(1, round(outcome.locked_for_s / 60))
            message = translate("signin_locked", lang, minutes=minutes)
        elif outcome.status is SignInStatus.DISABLED:
            message = translate("signin_disabled", lang)
        else:
            message = translate("signin_wrong", lang)
        return self._signin_form(lang, next_path, message=message, status=401)

    async def signout(self, request: Request) -> Response:
        """End the session and clear the cookie."""
        token = request.cookies.get(self.settings.cookie_name)
        await run_in_threadpool(self.store.sign_out, token)
        response = RedirectResponse(f"/signin?lang={_lang(request)}", status_code=303)
        response.delete_cookie(self.settings.cookie_name, path="/")
        return response

    def _password_form(
        self, lang: str, next_path: str, *, forced: bool, message: str = "", status: int = 200
    ) -> HTMLResponse:
        """The change-password form."""
        t = lambda key, **v: html.escape(translate(key, lang, **v))  # noqa: E731
        body = (
            f"<h1>{t('password_title')}</h1>"
            + (f'<div class="info">{t("password_forced")}</div>' if forced else "")
            + (f'<div class="error" role="alert">{html.escape(message)}</div>' if message else "")
            + f'<form method="post" action="/password?lang={lang}">'
            f'<input type="hidden" name="next" value="{html.escape(next_path)}">'
            f'<label for="current">{t("password_current")}</label>'
            '<input type="password" id="current" name="current"'
            ' autocomplete="current-password" required>'
            f'<label for="new">{t("password_new")}</label>'
            '<input type="password" id="new" name="new" autocomplete="new-password" required>'
            f'<label for="repeat">{t("password_repeat")}</label>'
            '<input type="password" id="repeat" name="repeat" autocomplete="new-password"'
            " required>"
            f'<p class="note">{t("password_rule", n=self.settings.min_password_length)}</p>'
            f'<button type="submit">{t("password_submit")}</button></form>'
        )
        keep = {"next": next_path}
        return self._page(lang, translate("password_title", lang), body, status, keep)

    async def password(self, request: Request) -> Response:
        """Change one's own password (forced after an initial or reset password)."""
        lang = _lang(request)
        token = request.cookies.get(self.settings.cookie_name)
        account = await run_in_threadpool(self.store.session, token)
        if account is None:
            return RedirectResponse(f"/signin?why=signin_expired&lang={lang}", status_code=303)
        forced = account.must_change_password
        if request.method == "GET":
            next_path = safe_next(request.query_params.get("next"))
            return self._password_form(lang, next_path, forced=forced)
        if not _same_origin(request):
            return PlainTextResponse("cross-site form post refused", status_code=403)
        form = await request.form()
        next_path = safe_next(str(form.get("next") or "/"))
        current, new = str(form.get("current") or ""), str(form.get("new") or "")
        if new != str(form.get("repeat") or ""):
            message = translate("password_mismatch", lang)
            return self._password_form(lang, next_path, forced=forced, message=message, status=400)
        try:
            await run_in_threadpool(self.store.change_password, account.username, current, new)
        except PasswordRejected as rejected:
            return self._password_form(
                lang, next_path, forced=forced, message=str(rejected), status=400
            )
        return RedirectResponse(next_path, status_code=303)

    def account_of(self, request: Request) -> Any:
        """The account signed in on ``request`` (None when there is none)."""
        return self.store.session(request.cookies.get(self.settings.cookie_name))

    def routes(self) -> list[Route]:
        """The gate's own pages."""
        return [
            Route("/signin", self.signin, methods=["GET", "POST"]),
            Route("/signout", self.signout, methods=["GET", "POST"]),
            Route("/password", self.password, methods=["GET", "POST"]),
        ]

    # -- the gate ------------------------------------------------------------------------

    def middleware(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> Any:
        """Wrap the Streamlit app so that only signed-in browsers reach it."""
        gate = self

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] not in ("http", "websocket") or gate._public(scope):
                await app(scope, receive, send)
                return
            if scope["type"] == "websocket" and gate._warm_up(scope):
                await app(scope, receive, send)
                return
            token = cookie_value(scope, gate.settings.cookie_name)
            account = await run_in_threadpool(gate.store.session, token) if token else None
            if account is not None and not account.must_change_password:
                await app(scope, receive, send)
                return
            await gate._refuse(scope, receive, send, expired=token is not None, account=account)

        return guarded

    def _public(self, scope: Scope) -> bool:
        """Whether the request is for a page anyone may see."""
        path = scope.get("path", "")
        return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES) or path == "/password"

    def _warm_up(self, scope: Scope) -> bool:
        """The server's own first run (``dashboard.warmup``), from this machine."""
        if not self.warmup_secret:
            return False
        client = scope.get("client") or ("", 0)
        offered = cookie_value(scope, WARMUP_COOKIE) or ""
        local = client[0] in ("127.0.0.1", "::1")
        return local and hmac.compare_digest(offered, self.warmup_secret)

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, *, expired: bool, account: Any
    ) -> None:
        """Send a browser to sign in; refuse a websocket or any other request."""
        if scope["type"] == "websocket":
            await receive()  # the connect message; then refuse it
            await send({"type": "websocket.close", "code": 1008})
            return
        method = scope.get("method", "GET")
        path = scope.get("path", "/")
        query = scope.get("query_string", b"").decode("latin-1")
        here = safe_next(f"{path}?{query}" if query else path)
        if method in ("GET", "HEAD"):
            if account is not None:  # signed in, but must choose a password first
                target = f"/password?next={quote(here)}"
            else:
                why = "signin_expired" if expired else "signin_required"
                target = f"/signin?why={why}&next={quote(here)}"
            response: Response = RedirectResponse(target, status_code=303)
        else:
            response = PlainTextResponse("sign in first", status_code=401)
        await response(scope, receive, send)


def _same_origin(request: Request) -> bool:
    """A form post from this site's own page (browsers send Origin with every POST)."""
    origin = request.headers.get("origin")
    if origin is None:
        return True  # non-browser clients; the session cookie is SameSite=Lax anyway
    return urlsplit(origin).netloc == request.headers.get("host", "")
