"""Re-embedding from Python (decision 011): the status names the model the tenant's queries use;
a model the embedder does not serve is NOT_FOUND and starts nothing."""

from __future__ import annotations

import pytest

import membus


async def test_reembed_status_and_an_unserved_model(globex: membus.MemoryClient) -> None:
    status = await globex.reembed_status()
    assert (status.state, status.done, status.total) == ("idle", 0, 0)
    assert status.activeModel

    with pytest.raises(membus.MembusError) as refused:
        await globex.reembed("no-such-model", dry_run=True)
    assert refused.value.code == "NOT_FOUND"

    assert (await globex.cancel_reembed()).state == "idle"
    assert (await globex.reembed_status()).activeModel == status.activeModel
