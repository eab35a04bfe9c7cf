"""Which requests the studio answers: the checks that stop DNS rebinding and cross-site requests.

A page on any web site can make the browser send requests to ``http://127.0.0.1:7860``; a rebinding
domain can even make them same-origin to the browser. Jupyter has refused non-loopback Host headers
since 2018 for this reason, and ComfyUI's cross-origin (CVE-2024-10481) and ``Origin: null`` bypasses
show both checks are needed. The rules, as one pure function of the request's headers:

- the Host header must name the address the studio serves (a loopback name on loopback);
- a request carrying an Origin must come from that same origin (``null`` is refused);
- a studio bound to anything but loopback answers only requests carrying its token; bound to every
  address (0.0.0.0, ::) it cannot know the names it is reached by, so the token is the whole check.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
from dataclasses import dataclass

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARDS = ("0.0.0.0", "::")


def is_loopback(host: str) -> bool:
    if host in ("localhost", "::1", "[::1]"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class Refusal:
    status: int  # 400 bad Host, 403 foreign origin or token
    message: str  # one line for the log and the page: what was refused and why


@dataclass(frozen=True)
class Guard:
    host: str  # the address the studio binds
    port: int
    token: str | None = None  # required off loopback (the server makes one if none is given)

    def __post_init__(self):
        if not is_loopback(self.host) and not self.token:
            raise ValueError("a studio bound beyond loopback needs a token")

    def allowed_hosts(self) -> set[str] | None:
        """The Host headers answered; None: any (a wildcard bind, where the token decides)."""
        if self.host in WILDCARDS:
            return None
        names = LOOPBACK_NAMES if is_loopback(self.host) else (self.host,)
        return {f"{name}:{self.port}" for name in names} | ({self.host} if not is_loopback(self.host) else set())

    def check(self, host_header: str | None, origin: str | None, token: str | None) -> Refusal | None:
        """None when the request may be answered, else why not."""
        host = (host_header or "").strip().lower()
        allowed = self.allowed_hosts()
        if not host or (allowed is not None and host not in allowed):
            return Refusal(400, f"Host {host_header!r} is not this studio's address (DNS rebinding is refused)")
        if origin is not None and origin.strip().lower() != f"http://{host}":
            return Refusal(403, f"Origin {origin!r} is not this studio (cross-site requests are refused)")
        if self.token and not (token and hmac.compare_digest(token, self.token)):
            return Refusal(403, "missing or wrong token (printed when the studio started)")
        return None
