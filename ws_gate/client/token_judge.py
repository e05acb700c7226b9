"""The judge of a given JWT: each claim the trading-service checks, held against the contract (contract.md,
"Token rules"), and the payload the token generator must write instead.

The token is decoded without trusting it; with the JWT secret its HS256 signature is checked too. Only a value
that is not a JWT at all is bad input (GateSetupError): a JWT with wrong claims is evidence, judged claim by claim.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass

from ws_gate.contract import Contract
from ws_gate.errors import GateSetupError

ALGORITHM = "HS256"
LIFETIME = 24 * 3600  # the user-service's default token lifetime
USER_ID = "6"  # the user of the tokens the gate mints, and of a corrected payload whose token names none
SNAKE_CASE = {"user_id_claim": "user_id", "membership_claim": "membership_level"}
BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
SHOWN_CHARS = 60  # a claim's value is shown up to this length


@dataclass(frozen=True)
class ClaimFault:
    """One claim the service would refuse: what the token has, and what the service needs."""

    claim: str
    has: str
    needs: str

    def __str__(self) -> str:
        return f"{self.claim}: the token has {self.has}; the service needs {self.needs}"


@dataclass(frozen=True)
class TokenJudgement:
    """The verdict on one token: a fault per wrong claim, and the payload the generator must write."""

    faults: tuple[ClaimFault, ...]
    payload: dict  # the token's claims corrected, camelCase, with the contract's aud, iss and type
    signature_checked: bool  # False without the secret: the claims alone were judged

    @property
    def accepted(self) -> bool:
        return not self.faults

    @property
    def claims(self) -> list[str]:
        """The names of the wrong claims, in the order they are judged."""
        return [fault.claim for fault in self.faults]

    def lines(self) -> list[str]:
        """Each wrong claim on its own line, then the payload to write (never the token, never the secret); none
        for a token the service would accept."""
        if self.accepted:
            return []
        signed = f"sign it {ALGORITHM} with the shared JWT_SECRET"
        return [*map(str, self.faults), f"the generator must write: {json.dumps(self.payload)} ({signed})"]


def _b64decode(segment: str) -> bytes:
    if not BASE64URL.fullmatch(segment):  # urlsafe_b64decode alone skips characters outside the alphabet
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _json_object(segment: str) -> dict:
    value = json.loads(_b64decode(segment))
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def decode_unverified(token: str, name: str = "the token") -> tuple[dict, dict]:
    """The header and claims of `token`, trusted for nothing: a value that is not three base64url segments with a
    JSON object in each of the first two is a GateSetupError, one line naming `name` (never the value)."""
    parts = token.split(".") if isinstance(token, str) else []
    try:
        if len(parts) != 3:
            raise ValueError(f"{len(parts)} segments")
        header, claims = _json_object(parts[0]), _json_object(parts[1])
        _b64decode(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise GateSetupError(
            f"{name} is not a JWT (three base64url segments, a JSON header and JSON claims, joined by dots)"
        ) from None
    return header, claims


def _show(value: object) -> str:
    shown = json.dumps(value, default=str)
    return shown if len(shown) <= SHOWN_CHARS else f"{shown[:SHOWN_CHARS]}... ({len(shown)} characters)"


def _has(claims: dict, name: str) -> str:
    return f"{name} = {_show(claims[name])}" if name in claims else f"no {name}"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_user_id(value: object) -> bool:
    """What the service takes as a user id: an integer, or a string of ASCII digits ("6", as the user-service
    sends it)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit())


def _signature_matches(token: str, secret: str) -> bool:
    signing_input, _, signature = token.rpartition(".")
    expected = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return hmac.compare_digest(expected, _b64decode(signature))


class _Judge:
    """One judgement's working state: the claims read, the faults found so far."""

    def __init__(self, contract: Contract, claims: dict) -> None:
        self.contract, self.claims = contract, claims
        self.faults: list[ClaimFault] = []
        self.snake_accepted = contract.snake_case_claims == "accept"

    def fault(self, claim: str, has: str, needs: str) -> None:
        self.faults.append(ClaimFault(claim, has, needs))

    def camel_or_snake(self, key: str) -> object:
        """The claim the contract names `key`, or its snake_case twin where the contract accepts snake_case."""
        name, snake = getattr(self.contract, key), SNAKE_CASE[key]
        if name not in self.claims and self.snake_accepted:
            return self.claims.get(snake)
        return self.claims.get(name)

    def snake_twin(self, key: str) -> str | None:
        """The snake_case twin of the claim the contract names `key` when the token carries it and the contract
        refuses it."""
        snake = SNAKE_CASE[key]
        return snake if snake in self.claims and not self.snake_accepted else None

    def header(self, header: dict) -> None:
        alg = header.get("alg")
        if alg != ALGORITHM:
            has = "an unsigned token (alg none)" if str(alg).lower() == "none" else _has(header, "alg")
            self.fault("alg", has, f"alg {ALGORITHM!r}, signed with the shared JWT_SECRET")
        if "crit" in header:
            self.fault("crit", _has(header, "crit"), "no crit header (the service knows no extension)")

    def user_id(self) -> None:
        name, twin = self.contract.user_id_claim, self.snake_twin("user_id_claim")
        value = self.camel_or_snake("user_id_claim")
        needs = f'{name}, the user\'s id as a number (the user-service sends it as a string, e.g. "6")'
        if value is None:
            has = f"snake_case {_has(self.claims, twin)} and no {name}" if twin else f"no {name}"
            self.fault(name, has, needs)
        elif not _is_user_id(value):
            self.fault(name, _has(self.claims, name), needs)

    def membership(self) -> None:
        name, twin = self.contract.membership_claim, self.snake_twin("membership_claim")
        if twin:
            needs = f"{name} (optional; snake_case {twin} is refused)"
            self.fault(name, f"snake_case {_has(self.claims, twin)}", needs)

    def email(self) -> None:
        email = self.claims.get("email")
        if not isinstance(email, str) or not email:
            self.fault("email", _has(self.claims, "email"), "email, the user's address")

    def equal(self, claim: str, expected: str) -> None:
        value = self.claims.get(claim)
        if value != expected and not (claim == "aud" and isinstance(value, list) and expected in value):
            self.fault(claim, _has(self.claims, claim), f"{claim} = {_show(expected)}")

    def times(self, now: int) -> None:
        exp, iat, nbf = (self.claims.get(name) for name in ("exp", "iat", "nbf"))
        if not (_is_number(exp) and exp > now):
            has = f"{_has(self.claims, 'exp')}, already past" if _is_number(exp) else _has(self.claims, "exp")
            self.fault("exp", has, "exp, a time in the future (seconds since the epoch; the user-service gives 24 h)")
        if not (_is_number(iat) and iat <= now):
            has = f"{_has(self.claims, 'iat')}, in the future" if _is_number(iat) else _has(self.claims, "iat")
            self.fault("iat", has, "iat, the time it was issued, not in the future")
        if nbf is not None and not (_is_number(nbf) and nbf <= now):
            self.fault("nbf", _has(self.claims, "nbf"), "no nbf, or one not in the future")

    def corrected(self, now: int) -> dict:
        """The token's claims with every wrong one replaced by what the service needs, camelCase."""
        contract, claims = self.contract, self.claims
        spellings = (contract.user_id_claim, SNAKE_CASE["user_id_claim"])
        user_id = next((value for value in map(claims.get, spellings) if _is_user_id(value)), None)
        membership = claims.get(contract.membership_claim, claims.get(SNAKE_CASE["membership_claim"]))
        email = claims.get("email")
        stale = {fault.claim for fault in self.faults} & {"exp", "iat", "nbf"}
        user_id = USER_ID if user_id is None else str(user_id)
        payload = {
            contract.user_id_claim: user_id,
            "email": email if isinstance(email, str) and email else f"trader{user_id}@example.com",
            **({contract.membership_claim: membership} if isinstance(membership, str) else {}),
            "type": contract.token_type,
            **({"iat": now, "exp": now + LIFETIME} if stale & {"exp", "iat"} else {}),
            "iss": contract.issuer,
            "aud": contract.audience,
        }
        # The token's other claims (its iat and exp where they are right) as they are, the snake_case twins dropped.
        dropped = {*SNAKE_CASE.values(), *stale}
        return payload | {name: value for name, value in claims.items() if name not in {*payload, *dropped}}


def judge(
    token: str, contract: Contract, secret: str | None = None, now: float | None = None, name: str = "the token"
) -> TokenJudgement:
    """Every claim of `token` the service checks, held against `contract`; with `secret` its signature too. A
    value that is not a JWT raises GateSetupError naming `name`."""
    header, claims = decode_unverified(token, name)
    now = int(time.time() if now is None else now)
    court = _Judge(contract, claims)
    court.header(header)
    checked = secret is not None and header.get("alg") == ALGORITHM
    if checked and not _signature_matches(token, secret):
        court.fault("signature", "a signature WS_E2E_JWT_SECRET does not verify", "signed with the shared JWT_SECRET")
    if len(token) > contract.max_token_length:
        court.fault("length", f"{len(token)} characters", f"at most {contract.max_token_length} characters")
    court.user_id()
    court.membership()
    court.email()
    court.equal("type", contract.token_type)
    court.equal("aud", contract.audience)
    court.equal("iss", contract.issuer)
    court.times(now)
    return TokenJudgement(tuple(court.faults), court.corrected(now), signature_checked=checked)
