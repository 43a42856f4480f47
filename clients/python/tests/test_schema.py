"""The Python client follows the contract: its models are what schema/operations.json produces
(operations.json itself is checked against the contract by the vitest suite), its error codes
are the contract's, and every operation agents may call has a method."""

from __future__ import annotations

import importlib.util
import typing
from pathlib import Path

import membus
from membus import models
from membus.operations import operations

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gen_models.py"

# Operation key -> the MemoryClient method that calls it (as @membus/client).
METHODS = {
    "store": ["store", "store_many"],
    "query": ["query"],
    "get": ["get", "get_many"],
    "list": ["list", "list_all"],
    "update": ["update"],
    "delete": ["delete", "delete_where"],
    "batchUpdate": ["update_many"],
    "export": ["export_memories"],
    "import": ["import_memories"],
    "history": ["history"],
    "stats": ["stats"],
    "outcome": ["record_outcome"],
    "patterns": ["patterns", "best_workflow", "failure_patterns"],
    "metrics": ["task_metrics"],
    "sessionEnd": ["end_session"],
    "compact": ["compact"],
    "audit": ["audit"],
    "policyGet": ["policy"],
    "policyPut": ["put_policy"],
    "policyHistory": ["policy_history"],
    "ingest": ["ingest"],
    "watch": ["watch"],
    "reembed": ["reembed", "reembed_status", "cancel_reembed"],
}


def test_models_are_generated_from_the_current_operations_json() -> None:
    spec = importlib.util.spec_from_file_location("gen_models", SCRIPT)
    assert spec is not None and spec.loader is not None
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    current = generator.MODELS_PY.read_text() == generator.generate()
    assert current, "models.py is not current: run `python clients/python/scripts/gen_models.py`"


def test_error_codes_are_the_contract_codes() -> None:
    contract = operations()["notice"]["message"]["properties"]["error"]["properties"]["code"][
        "enum"
    ]
    model = list(typing.get_args(models.ErrorBody.model_fields["code"].annotation))
    assert (sorted(membus.ERROR_CODES), list(typing.get_args(membus.ErrorCode)), model) == (
        sorted(contract),
        contract,
        contract,
    )


def test_every_operation_agents_call_has_a_method() -> None:
    callable_keys = sorted(key for key, op in operations().items() if op["agents"] == "call")
    missing = [
        name
        for key in callable_keys
        for name in METHODS.get(key, [f"<none for {key}>"])
        if not callable(getattr(membus.MemoryClient, name, None))
    ]
    assert (callable_keys, missing) == (sorted(METHODS), [])


def test_replies_ignore_fields_a_newer_server_adds_and_requests_refuse_unknown_ones() -> None:
    reply = {
        "v": 1,
        "hits": [],
        "mode": "hybrid",
        "plan": "exact",
        "tookMs": 0.4,
        "addedByANewerServer": {"any": "thing"},
    }
    parsed = models.QueryReply.model_validate(reply)
    refused = False
    try:
        models.QueryRequest.model_validate({"v": 1, "text": "x", "topk": 3})
    except ValueError:
        refused = True
    assert (parsed.plan, hasattr(parsed, "addedByANewerServer"), refused) == ("exact", False, True)
