"""``./ascep token`` and ``./ascep user add``: a development token, and the first administrator.

``python -m ascep.gateway.auth.cli token --scopes read,write [--subject NAME] [--ttl SECONDS]``
prints a token signed exactly as the gateway signs its own (``JWT_SECRET``, or ``JWT_PRIVATE_KEY``
under an asymmetric algorithm; ``JWT_ISSUER``/``JWT_AUDIENCE`` applied), read from the
environment like the gateway's settings. Whoever can run it holds the signing key: it is an
operator's tool, not a way around authentication.

``python -m ascep.gateway.auth.cli user add NAME --scopes admin`` creates a user directly in
Redis (``REDIS_URL``), the way to bootstrap the first administrator of a production stack (there
is no default account or password): the password is asked twice on a terminal, or read as one
line from standard input (``printf '%s\\n' "$PW" | ./ascep user add root --scopes admin``).
Running gateways pick the user up at once (pub/sub).
"""

from __future__ import annotations

import argparse
import getpass
import sys

from ascep.common.errors import AscepError
from ascep.common.redis_client import connect
from ascep.common.timeutil import iso_utc
from ascep.gateway.auth.access_store import AccessStore
from ascep.gateway.auth.tokens import TokenIssuer
from ascep.gateway.auth.users import (
    PasswordHasher,
    UserRecord,
    check_password,
    check_scopes,
    check_username,
    new_user_id,
)
from ascep.gateway.auth.wiring import keyring_from
from ascep.gateway.settings import GatewaySettings


def _scopes(raw: str) -> frozenset[str]:
    return check_scopes([s.strip() for s in raw.split(",") if s.strip()])


def token(args: argparse.Namespace) -> int:
    settings = GatewaySettings.load()
    keyring = keyring_from(settings)
    if keyring.signing is None:
        sys.stderr.write(
            "ascep token: no signing key: set JWT_SECRET (HS*, at least 32 bytes) or JWT_PRIVATE_KEY\n"
        )
        return 2
    issuer = TokenIssuer(
        keyring, issuer=settings.jwt_issuer, audience=settings.jwt_audience, ttl_seconds=args.ttl
    )
    issued = issuer.issue(args.subject, sorted(_scopes(args.scopes), key=("read", "write", "admin").index))
    sys.stdout.write(issued.access_token + "\n")
    return 0


def _password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("ascep user add: the passwords differ")
    return first


def user_add(args: argparse.Namespace) -> int:
    settings = GatewaySettings.load()
    name, scopes = check_username(args.name), _scopes(args.scopes)
    password = check_password(_password())
    record = UserRecord(new_user_id(), name, scopes, PasswordHasher().hash(password), iso_utc(), "cli")
    if not AccessStore(connect(settings.redis_url)).add_user(record):
        sys.stderr.write(f"ascep user add: a user named {name!r} exists already\n")
        return 1
    sys.stderr.write(f"user {name!r} created with scopes {', '.join(sorted(scopes))}\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ascep")
    commands = parser.add_subparsers(dest="command", required=True)
    minting = commands.add_parser("token", help="print a signed token (development, operations)")
    minting.add_argument("--scopes", required=True, help="comma-separated: read,write,admin")
    minting.add_argument("--subject", default="developer", help="the token's sub (default: developer)")
    minting.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    minting.set_defaults(run=token)
    users = commands.add_parser("user", help="manage users in Redis").add_subparsers(
        dest="action", required=True
    )
    adding = users.add_parser("add", help="create a user (password from the terminal or stdin)")
    adding.add_argument("name")
    adding.add_argument("--scopes", required=True, help="comma-separated: read,write,admin")
    adding.set_defaults(run=user_add)
    args = parser.parse_args(argv)
    if getattr(args, "ttl", 1) < 1:
        parser.error("--ttl must be a positive number of seconds")
    try:
        return int(args.run(args))
    except AscepError as exc:
        sys.stderr.write(f"ascep {args.command}: {exc.message}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
