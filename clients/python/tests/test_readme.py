"""The README's example runs as written against the test stack (only where it connects
differs), and finds the memory it stored."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


async def test_the_readme_example_stores_and_finds_a_memory(
    stack, capsys: pytest.CaptureFixture[str]
) -> None:
    [example, *_] = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    reach = {
        '"nats://127.0.0.1:4222"': repr(stack.url),
        'tenant="default"': 'tenant="globex"',
        '"./data/tenancy/creds/tenants/default.creds"': repr(str(stack.creds("globex"))),
    }
    for written, here in reach.items():
        assert written in example
        example = example.replace(written, here)
    # Run inside the test's event loop rather than asyncio.run().
    namespace: dict = {}
    exec(compile(example.replace("asyncio.run(main())", ""), str(README), "exec"), namespace)
    await namespace["main"]()
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == [
        "Deployed test-app to Vercel production in 45.3 s"
    ]
