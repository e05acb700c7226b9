"""The run's contract is loaded once and cannot change: no module can alter it under the others."""

from dataclasses import FrozenInstanceError, replace

import pytest

from ws_gate.contract import load_contract
from ws_gate.errors import GateSetupError


def test_contract_cannot_be_assigned_to():
    """Assigning to a field of the contract raises."""
    contract = load_contract()
    with pytest.raises(FrozenInstanceError):
        contract.ws_path = "/elsewhere"  # type: ignore[misc]


def test_contract_arrays_and_tables_cannot_be_changed():
    """The contract's arrays are tuples and its tables read-only mappings."""
    contract = load_contract()
    with pytest.raises(TypeError):
        contract.after_auth_types["ping"] = "ack"  # type: ignore[index]
    assert isinstance(contract.wrong_paths, tuple)
    assert isinstance(contract.required_headers, tuple)


def test_contract_reaches_the_stub_as_json():
    """The frozen contract still becomes the JSON the stub takes, its tables as objects."""
    contract = load_contract()
    assert '"after_auth_types": {"ping": "pong"' in contract.to_json()


def test_contract_requires_no_header_by_default_and_advises_four():
    """The service's /ws/realtime reads no forwarded header: none is required, four are advised with a reason."""
    contract = load_contract()
    assert contract.required_headers == ()
    assert list(contract.advised_headers) == ["Host", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto"]


def test_a_required_header_is_no_longer_advised(tmp_path):
    (tmp_path / "c.toml").write_text('required_headers = ["X-Forwarded-Proto"]\n')
    contract = load_contract(tmp_path / "c.toml")
    assert contract.required_headers == ("X-Forwarded-Proto",)
    assert "X-Forwarded-Proto" not in contract.advised_headers


def test_the_former_forwarded_headers_key_names_its_new_name(tmp_path):
    (tmp_path / "c.toml").write_text("forwarded_headers = []\n")
    with pytest.raises(GateSetupError, match=r"c\.toml: forwarded_headers is renamed: write required_headers"):
        load_contract(tmp_path / "c.toml")


@pytest.mark.parametrize("pattern", ["trade.*.com", "*example.com", "", "a*"])
def test_allowed_hosts_takes_only_starlettes_patterns(tmp_path, pattern):
    (tmp_path / "c.toml").write_text(f"allowed_hosts = [{pattern!r}]\n")
    with pytest.raises(GateSetupError, match="each of allowed_hosts must be"):
        load_contract(tmp_path / "c.toml")


@pytest.mark.parametrize(
    ("allowed", "host", "accepted"),
    [
        (None, "trade.example.com", True),
        (("*",), "trade.example.com", True),
        (("localhost",), "localhost:8443", True),
        (("localhost",), "LOCALHOST", False),
        (("*.example.com",), "trade.example.com", True),
        (("*.example.com",), "example.com", False),
        (("www.example.com",), "example.com", False),
    ],
)
def test_host_allowed_as_the_teams_starlette_judges(allowed, host, accepted):
    """Port stripped, case kept, a wildcard only for subdomains, no www redirect (docs/contract.md)."""
    assert replace(load_contract(), allowed_hosts=allowed).host_allowed(host) is accepted
