"""The run's contract is loaded once and cannot change: no module can alter it under the others."""

from dataclasses import FrozenInstanceError

import pytest

from ws_gate.contract import load_contract


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
    assert isinstance(contract.forwarded_headers, tuple)


def test_contract_reaches_the_stub_as_json():
    """The frozen contract still becomes the JSON the stub takes, its tables as objects."""
    contract = load_contract()
    assert '"after_auth_types": {"ping": "pong"' in contract.to_json()
