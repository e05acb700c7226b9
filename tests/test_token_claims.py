"""Only the user-service's access token authenticates: HS256, aud, iss, camelCase claims, type, expiry."""

import pytest

from fixtures.options import parametrize_from_contract
from fixtures.overlap import Probe, starts_early
from ws_gate.client.tokens import GIVEN
from ws_gate.client.wsclient import Exchange
from ws_gate.contract import auth_message
from ws_gate.diagnosis import exchange_fault
from ws_gate.faults import fault

pytestmark = pytest.mark.fault("token-claims")

TIME = 'jwt.decode(..., options={"require": ["exp", "iat"]}) with no leeway'
SIGNATURE = 'jwt.decode(token, JWT_SECRET, algorithms=["HS256"]): HS256 with the shared secret only'
FORMAT = "reject any token that does not decode (error frame, then 4003)"


def defective_tokens(contract) -> list:
    """Each token defect the gate mints, and the fix that makes the service refuse it."""
    aud = f"jwt.decode(..., audience={contract.audience!r}) and require aud"
    iss = f"jwt.decode(..., issuer={contract.issuer!r}) and require iss"
    claims = f"read {contract.user_id_claim} and email (camelCase) and reject tokens without them"
    kind = f"reject tokens whose type is not {contract.token_type!r}"
    too_long = f"reject tokens longer than {contract.max_token_length} characters"
    return [
        pytest.param("wrong-aud", aud, id="wrong-aud"),
        pytest.param("aud-list-without-ours", aud, id="aud-list-without-ours"),
        pytest.param("missing-aud", aud, id="missing-aud"),
        pytest.param("wrong-iss", iss, id="wrong-iss"),
        pytest.param("iss-prefix", iss, id="iss-prefix"),
        pytest.param("missing-iss", iss, id="missing-iss"),
        pytest.param("missing-user-id", claims, id="missing-user-id"),
        pytest.param("missing-email", claims, id="missing-email"),
        pytest.param("missing-type", kind, id="missing-type"),
        pytest.param("refresh-type", kind, id="refresh-type"),
        pytest.param("expired", TIME, id="expired"),
        pytest.param("exp-now", TIME, id="exp-now"),
        pytest.param("no-exp", TIME, id="no-exp"),
        pytest.param("exp-not-number", TIME, id="exp-not-number"),
        pytest.param("missing-iat", TIME, id="missing-iat"),
        pytest.param("nbf-future", TIME, id="nbf-future"),
        pytest.param("iat-future", TIME, id="iat-future"),
        pytest.param("wrong-secret", SIGNATURE, id="wrong-secret"),
        pytest.param("tampered-payload", SIGNATURE, id="tampered-payload"),
        pytest.param("empty-signature", SIGNATURE, id="empty-signature"),
        pytest.param("alg-none", SIGNATURE, id="alg-none"),
        pytest.param("alg-None", SIGNATURE, id="alg-None"),
        pytest.param("alg-NONE", SIGNATURE, id="alg-NONE"),
        pytest.param("alg-nOnE", SIGNATURE, id="alg-nOnE"),
        pytest.param("hs384", SIGNATURE, id="hs384"),
        pytest.param("hs512", SIGNATURE, id="hs512"),
        pytest.param("no-alg-header", SIGNATURE, id="no-alg-header"),
        pytest.param("unknown-crit-header", SIGNATURE, id="unknown-crit-header"),
        pytest.param("rs256-attacker-key", SIGNATURE, id="rs256-attacker-key"),
        pytest.param("rs256-embedded-jwk", SIGNATURE, id="rs256-embedded-jwk"),
        pytest.param("hs256-keyed-with-public-key-pem", SIGNATURE, id="hs256-keyed-with-public-key-pem"),
        pytest.param("too-long", too_long, id="too-long"),
        pytest.param("two-segments", FORMAT, id="two-segments"),
        pytest.param("four-segments", FORMAT, id="four-segments"),
        pytest.param("header-not-json", FORMAT, id="header-not-json"),
        pytest.param("payload-a-list", FORMAT, id="payload-a-list"),
        pytest.param("not-a-jwt", FORMAT, id="not-a-jwt"),
    ]


def _snake_case_fix(contract) -> str:
    return (
        f"refuse snake_case user_id / membership_level: read {contract.user_id_claim} and {contract.membership_claim} "
        'only (or write snake_case_claims = "accept" in the contract, if the service really takes them)'
    )


def test_given_token_has_the_claims_the_service_checks(mint):
    """The team's token (--token), judged claim by claim without a stack, so whatever Nginx does: each claim the
    service would refuse is named, with the payload its generator must write."""
    if mint.judgement is None:
        pytest.skip(f"not run: no {GIVEN} given; the gate's own tokens are judged at the service")
    if mint.given_is_wrong:
        *claims, payload = mint.judgement.lines()
        raise fault(
            "token-claims",
            f"the given token would be refused by the trading-service: {'; '.join(claims)}",
            f"make the token generator write {payload.removeprefix('the generator must write: ')}",
            sent=[f"{GIVEN}, decoded without trusting it"],
            got="; ".join(claims),
        )


@pytest.mark.valid_path
async def test_valid_token_authenticates_with_its_user_id(exchange, service_url, mint, contract):
    """The user-service's token (--token's, or one the gate mints) gives auth_success carrying its userId as an
    integer user_id."""
    ex = await exchange(service_url, auth_message(contract, mint()), until=(contract.auth_success_type,))
    success = ex.frames[0] if ex.types == [contract.auth_success_type] else {}
    if success.get("user_id") != int(mint.user_id):
        raise exchange_fault(
            "token-claims",
            ex,
            f"the user-service's token for {contract.user_id_claim} {mint.user_id!r} did not authenticate as user "
            f"{mint.user_id}",
            f"share JWT_SECRET with the user-service; accept aud {contract.audience!r}, iss {contract.issuer!r}, "
            f"claim {contract.user_id_claim}",
        )


async def test_snake_case_claims_follow_the_contract_policy(exchange, service_url, mint, contract):
    """Legacy snake_case claims (user_id, membership_level) get an error frame, then 4003, under the contract's
    default policy (snake_case_claims = "reject"); under "accept" they authenticate."""
    token = mint("snake-case-claims")
    ex = await exchange(service_url, auth_message(contract, token), until=(contract.auth_success_type,))
    policy = contract.snake_case_claims
    expected = {
        "reject": (([contract.error_type], contract.close_bad_token), _snake_case_fix(contract)),
        "accept": (([contract.auth_success_type], None), "accept user_id / membership_level as the contract says"),
    }
    outcome, fix = expected[policy]
    if (ex.types, ex.close_code) != outcome:
        raise exchange_fault(
            "token-claims", ex, f"a token with snake_case claims was not handled as snake_case_claims = {policy!r}", fix
        )


async def _defective_token(probe: Probe, defect: str, fix: str) -> Exchange:
    contract, token = probe.contract, probe.mint(defect)
    async with probe.few_at_a_time:
        return await probe.exchange(
            probe.service_url, auth_message(contract, token), until=(contract.auth_success_type,)
        )


@starts_early(_defective_token)  # a service that answers but never closes makes each of them wait for a close
@parametrize_from_contract(("defect", "fix"), defective_tokens)
def test_defective_token_is_refused_with_4003(service_url, early_outcome, contract, defect, fix):
    """A token that breaks one rule of the contract gets an error frame, then close 4003."""
    ex = early_outcome
    if (ex.types, ex.close_code) != ([contract.error_type], contract.close_bad_token):
        raise exchange_fault(
            "token-claims", ex, f"the trading-service did not refuse a token with the defect {defect!r}", fix
        )
