"""Moderators and admins: argon2 password hashes, roles, failed-login throttling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, or_, select
from sqlalchemy.exc import IntegrityError

from civility.errors import InvalidInput, NotFound, PermissionDenied, RateLimited
from civility.store._models import LoginFailure, User, utcnow
from civility.store._store import Store, audit

ROLES = ("admin", "moderator")
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
_HASHER = PasswordHasher()
# Verified against when the user does not exist, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("civility-no-such-user")


@dataclass(frozen=True)
class Account:
    """A user as the doors see it (never the hash)."""

    id: int
    name: str
    role: str
    active: bool

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


def _account(user: User) -> Account:
    return Account(user.id, user.name, user.role, user.active)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"Role must be one of {', '.join(ROLES)}. Got {role!r}.")


def create_user(
    store: Store, name: str, password: str, role: str = "moderator", *, by: Account | None = None
) -> Account:
    _check_role(role)
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(f"User name must be 1 to 100 characters. Got {name!r}.")
    if len(password) < 8:
        raise InvalidInput("Password must be at least 8 characters.")
    try:
        with store.session() as session:
            user = User(name=name, password_hash=_HASHER.hash(password), role=role)
            session.add(user)
            session.flush()
            audit(
                session,
                "user.create",
                user_id=by.id if by else None,
                username=by.name if by else None,
                target=f"user:{name}",
                role=role,
            )
            return _account(user)
    except IntegrityError:
        raise InvalidInput(f"User {name!r} already exists.") from None


def list_users(store: Store) -> list[Account]:
    with store.session() as session:
        return [_account(u) for u in session.scalars(select(User).order_by(User.name))]


def get_user(store: Store, user_id: int) -> Account | None:
    with store.session() as session:
        user = session.get(User, user_id)
        return _account(user) if user is not None and user.active else None


def update_user(
    store: Store,
    user_id: int,
    *,
    by: Account,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
) -> Account:
    with store.session() as session:
        user = session.get(User, user_id)
        if user is None:
            raise NotFound(f"No user with id {user_id}.")
        changes: dict[str, object] = {}
        if role is not None and role != user.role:
            _check_role(role)
            if user.id == by.id:
                raise PermissionDenied("Admins cannot change their own role.")
            user.role = changes["role"] = role
        if active is not None and active != user.active:
            if user.id == by.id:
                raise PermissionDenied("Admins cannot deactivate themselves.")
            user.active = changes["active"] = active
        if password:
            if len(password) < 8:
                raise InvalidInput("Password must be at least 8 characters.")
            user.password_hash = _HASHER.hash(password)
            changes["password"] = "changed"
        if changes:
            audit(
                session,
                "user.update",
                user_id=by.id,
                username=by.name,
                target=f"user:{user.name}",
                **changes,
            )
        return _account(user)


def authenticate(store: Store, name: str, password: str, ip: str) -> Account:
    """The account for a correct name and password; ``RateLimited`` after repeated failures."""
    since = utcnow() - FAILURE_WINDOW
    with store.session() as session:
        failures = (
            session.scalar(
                select(func.count())
                .select_from(LoginFailure)
                .where(
                    LoginFailure.at >= since,
                    or_(LoginFailure.username == name, LoginFailure.ip == ip),
                )
            )
            or 0
        )
        if failures >= MAX_FAILURES:
            raise RateLimited("Too many failed logins. Try again in 15 minutes.")
        user = session.scalar(select(User).where(User.name == name))
        try:
            verified: bool = _HASHER.verify(user.password_hash if user else _DUMMY_HASH, password)
        except (VerificationError, InvalidHashError):
            verified = False
        ok = verified and user is not None and user.active
        if not ok:
            session.add(LoginFailure(username=name[:100], ip=ip[:64]))
            audit(session, "login.failed", username=name[:100], ip=ip)
        else:
            assert user is not None
            session.execute(delete(LoginFailure).where(LoginFailure.username == name))
            audit(session, "login", user_id=user.id, username=user.name, ip=ip)
            return _account(user)
    raise PermissionDenied("Wrong user name or password.")
