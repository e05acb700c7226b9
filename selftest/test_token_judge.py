"""A given JWT is evidence: the judge names each wrong claim against the contract, with the payload to write, and
only a value that is not a JWT is bad input. Every token is minted here, with PyJWT or the gate's factory."""

import dataclasses
import secrets
import time

import jwt
import pytest

from ws_gate.client.token_judge import judge
from ws_gate.client.tokens import DEFECTS, SecretNeededError, TokenFactory
from ws_gate.contract import load_contract
from ws_gate.errors import GateSetupError

CONTRACT = load_contract()
SECRET = secrets.token_urlsafe(48)
NOT_JWTS = ("two-segments", "four-segments", "header-not-json", "payload-a-list", "not-a-jwt")

# Each defect the factory mints, and the one claim the judge must name for it (None: the service accepts it).
ONE_CLAIM_WRONG = {
    "wrong-aud": "aud",
    "aud-list-without-ours": "aud",
    "missing-aud": "aud",
    "wrong-iss": "iss",
    "iss-prefix": "iss",
    "missing-iss": "iss",
    "missing-user-id": "userId",
    "missing-email": "email",
    "missing-type": "type",
    "refresh-type": "type",
    "expired": "exp",
    "exp-now": "exp",
    "no-exp": "exp",
    "exp-not-number": "exp",
    "missing-iat": "iat",
    "nbf-future": "nbf",
    "iat-future": "iat",
    "wrong-secret": "signature",
    "tampered-payload": "signature",
    "empty-signature": "signature",
    "hs256-keyed-with-public-key-pem": "signature",
    "alg-none": "alg",
    "alg-None": "alg",
    "alg-NONE": "alg",
    "alg-nOnE": "alg",
    "hs384": "alg",
    "hs512": "alg",
    "no-alg-header": "alg",
    "rs256-attacker-key": "alg",
    "rs256-embedded-jwk": "alg",
    "unknown-crit-header": "crit",
    "too-long": "length",
    "another-user": None,
}


@pytest.fixture
def mint() -> TokenFactory:
    return TokenFactory(SECRET, CONTRACT)


def _user_service_claims(**changes: object) -> dict:
    """The claims as the user-service writes them, written here independently of the factory."""
    now = int(time.time())
    claims = {
        "userId": "6",
        "email": "trader6@example.com",
        "membershipLevel": "premium",
        "type": "access",
        "iat": now,
        "exp": now + 24 * 3600,
        "iss": "trademe-user-service",
        "aud": "trademe-app",
    }
    return {name: value for name, value in {**claims, **changes}.items() if value is not None}


def _outage_token() -> str:
    """The old generator's token: snake_case user_id and membership_level, no type, another aud and iss."""
    claims = _user_service_claims(
        userId=None, membershipLevel=None, type=None, user_id=6, membership_level="premium", aud="trademe", iss="auth"
    )
    return jwt.encode(claims, SECRET, algorithm="HS256")


def test_every_defect_of_the_factory_is_judged_here():
    """The table below covers each token the factory can mint, so a new defect gets a judgement too."""
    assert set(DEFECTS) - {"snake-case-claims"} == {*ONE_CLAIM_WRONG, *NOT_JWTS}


def test_the_user_service_token_passes_with_no_entry():
    """A token as the user-service issues it, signed with the secret, has no wrong claim."""
    judgement = judge(jwt.encode(_user_service_claims(), SECRET, algorithm="HS256"), CONTRACT, SECRET)
    assert (judgement.claims, judgement.signature_checked, judgement.lines()) == ([], True, [])


@pytest.mark.parametrize(
    ("claims", "expected"),
    [
        pytest.param(_user_service_claims(userId=None, user_id="6"), "userId", id="snake-case-user-id"),
        pytest.param(_user_service_claims(userId=6), None, id="integer-user-id"),
        pytest.param(_user_service_claims(userId="six"), "userId", id="user-id-not-a-number"),
        pytest.param(_user_service_claims(userId=True), "userId", id="user-id-a-boolean"),
        pytest.param(
            _user_service_claims(membershipLevel=None, membership_level="premium"),
            "membershipLevel",
            id="snake-case-membership-level",
        ),
        pytest.param(_user_service_claims(membershipLevel=None), None, id="no-membership-level"),
        pytest.param(_user_service_claims(aud=["other-app", "trademe-app"]), None, id="aud-list-with-ours"),
        pytest.param(_user_service_claims(email=""), "email", id="empty-email"),
    ],
)
def test_a_claim_written_by_hand_is_judged_alone(claims, expected):
    """A token with one claim changed by hand names that claim alone; a spelling the service takes names none."""
    judgement = judge(jwt.encode(claims, SECRET, algorithm="HS256"), CONTRACT, SECRET)
    assert judgement.claims == ([expected] if expected else [])


@pytest.mark.parametrize("defect", ONE_CLAIM_WRONG)
def test_a_token_with_one_claim_wrong_names_exactly_that_claim(mint, defect):
    """Each defect the factory mints gives one entry, naming the one claim that is wrong."""
    expected = ONE_CLAIM_WRONG[defect]
    assert judge(mint(defect), CONTRACT, SECRET).claims == ([expected] if expected else [])


def test_the_outage_token_names_every_wrong_claim():
    """The old generator's token names userId, membershipLevel, type, aud and iss, each with what it has."""
    judgement = judge(_outage_token(), CONTRACT, SECRET)
    assert judgement.claims == ["userId", "membershipLevel", "type", "aud", "iss"]
    assert judgement.lines()[0].startswith("userId: the token has snake_case user_id = 6 and no userId")
    assert judgement.payload["userId"] == "6"
    assert "user_id" not in judgement.payload


@pytest.mark.parametrize("defect", [defect for defect, claim in ONE_CLAIM_WRONG.items() if claim != "length"])
def test_the_corrected_payload_signed_with_the_secret_passes(mint, defect):
    """The payload the judge writes for a wrong token, signed HS256 with the secret, has no wrong claim."""
    payload = judge(mint(defect), CONTRACT, SECRET).payload
    assert judge(jwt.encode(payload, SECRET, algorithm="HS256"), CONTRACT, SECRET).claims == []


def test_the_corrected_outage_payload_passes():
    """The outage token's corrected payload, camelCase with the contract's aud, iss and type, passes."""
    payload = judge(_outage_token(), CONTRACT, SECRET).payload
    assert {name: payload[name] for name in ("userId", "membershipLevel", "type", "aud", "iss")} == {
        "userId": "6",
        "membershipLevel": "premium",
        "type": "access",
        "aud": "trademe-app",
        "iss": "trademe-user-service",
    }
    assert judge(jwt.encode(payload, SECRET, algorithm="HS256"), CONTRACT, SECRET).claims == []


def test_without_the_secret_the_claims_alone_are_judged(mint):
    """Without the secret a token signed with another one passes the claims, saying its signature was not checked."""
    judgement = judge(mint("wrong-secret"), CONTRACT)
    assert (judgement.claims, judgement.signature_checked) == ([], False)


def test_snake_case_user_id_passes_where_the_contract_accepts_it():
    """Under snake_case_claims = "accept" the legacy spelling is the service's, not a fault."""
    lenient = dataclasses.replace(CONTRACT, snake_case_claims="accept")
    claims = _user_service_claims(userId=None, membershipLevel=None, user_id="6", membership_level="premium")
    assert judge(jwt.encode(claims, SECRET, algorithm="HS256"), lenient, SECRET).claims == []


@pytest.mark.parametrize("defect", [*ONE_CLAIM_WRONG, "snake-case-claims"])
def test_the_judgement_never_shows_the_secret_or_the_token(mint, defect):
    """The text of a judgement holds neither the secret nor the token, nor its signature."""
    token = mint(defect)
    text = "\n".join(judge(token, CONTRACT, SECRET).lines())
    assert SECRET not in text
    assert token not in text
    assert (token.rsplit(".", 1)[1] or "<none>") not in text


@pytest.mark.parametrize("defect", NOT_JWTS)
def test_a_value_that_is_not_a_jwt_is_bad_input_in_one_line(mint, defect):
    """Only a value that is not three base64url segments with JSON header and claims raises GateSetupError."""
    with pytest.raises(GateSetupError) as raised:
        judge(mint(defect), CONTRACT, SECRET, name="--token (WS_E2E_TOKEN)")
    message = str(raised.value)
    assert message.startswith("--token (WS_E2E_TOKEN) is not a JWT")
    assert "\n" not in message


@pytest.mark.parametrize("value", ["", "a.b", "a.b.c", "é.é.é", "e30.e30.!!", "W10.e30."])
def test_other_values_that_are_not_jwts_are_bad_input(value):
    """An empty value, bad base64url or a header that is not an object are not JWTs either."""
    with pytest.raises(GateSetupError, match=r"^the token is not a JWT"):
        judge(value, CONTRACT, SECRET)


def test_a_wrong_given_token_is_kept_and_replaced_with_the_secret():
    """With the secret, a wrong --token does not raise: the factory keeps its judgement and mints its own valid
    token, for the given token's user, and says so."""
    given = _outage_token()
    factory = TokenFactory(SECRET, CONTRACT, given)
    token = factory()
    assert token != given
    assert judge(token, CONTRACT, SECRET).claims == []
    assert (factory.judgement.claims, factory.user_id) == (["userId", "membershipLevel", "type", "aud", "iss"], "6")
    assert factory.substitution.endswith("authenticate with a token the gate minted with WS_E2E_JWT_SECRET")


def test_a_wrong_given_token_without_the_secret_says_which_input_would_run():
    """Without the secret, a case that needs an accepted token is not run, naming the secret or the claims a
    user-service token must carry."""
    factory = TokenFactory(None, CONTRACT, _outage_token())
    with pytest.raises(SecretNeededError) as raised:
        factory()
    for needed in ("WS_E2E_JWT_SECRET", "userId", 'type = "access"', 'aud = "trademe-app"'):
        assert needed in str(raised.value)
        assert needed in factory.substitution


def test_a_right_given_token_is_used_as_it_is():
    """A token the service would accept is the run's valid token, with nothing to say about it."""
    given = jwt.encode(_user_service_claims(userId="42"), SECRET, algorithm="HS256")
    factory = TokenFactory(None, CONTRACT, given)
    assert (factory(), factory.user_id, factory.substitution) == (given, "42", None)


def test_a_given_value_that_is_not_a_jwt_is_bad_input():
    """--token not-a-jwt is one line of bad input, naming the option and not the value."""
    with pytest.raises(GateSetupError, match=r"^--token \(WS_E2E_TOKEN\) is not a JWT"):
        TokenFactory(SECRET, CONTRACT, "not-a-jwt")


REGISTERED = {"alg", "signature", "crit", "exp", "iat", "nbf", "aud", "iss"}  # the claims PyJWT itself checks


@pytest.mark.parametrize("defect", [*ONE_CLAIM_WRONG, "snake-case-claims"])
def test_the_judge_agrees_with_pyjwt_on_the_registered_claims(mint, defect):
    """Where the judge names a header or registered claim, PyJWT's decode as the contract asks refuses the token,
    and where it names none, PyJWT accepts it: the judge rests on the library the service uses, not on itself."""
    token = mint(defect)
    options = {"require": ["exp", "iat", "aud", "iss"]}
    try:
        jwt.decode(
            token, SECRET, algorithms=["HS256"], audience=CONTRACT.audience, issuer=CONTRACT.issuer, options=options
        )
    except jwt.InvalidTokenError:
        refused = True
    else:
        refused = False
    assert bool(REGISTERED & set(judge(token, CONTRACT, SECRET).claims)) == refused
