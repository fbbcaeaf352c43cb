"""`newswatch match` reads JSON Lines by "\\n" only (issue 13 item 8): U+2028, U+2029 and
U+0085, where str.splitlines() also breaks, are valid raw inside JSON strings."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("sep", ["\u2028", "\u2029", "\x85"])
def test_json_lines_with_unicode_line_separators_inside_strings(cli, write_config, sep):
    path = write_config('[[watches]]\nname = "t"\nquery = "trafficking"\n')
    lines = [
        json.dumps(
            {"id": 1, "title": f"Part one{sep}part two", "text": "trafficking"}, ensure_ascii=False
        ),
        json.dumps({"id": 2, "title": "calm", "text": f"weather{sep}report"}, ensure_ascii=False),
    ]
    assert sep in lines[0]  # raw, as a producer that does not escape them writes it
    result = cli("--config", str(path), "match", input="\r\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.stdout.strip().split("\n")]
    assert [(o["id"], o["watches"]) for o in out] == [(1, ["t"]), (2, [])]
