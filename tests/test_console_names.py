"""Names and paths print as written: markup, emoji codes, trailing backslashes and control characters."""

from __future__ import annotations

import io

import pytest

from slbench.console import console, labelled, plain


@pytest.fixture
def printed(monkeypatch):
    buffer = io.StringIO()
    monkeypatch.setattr(console, "_file", buffer)  # restored to None: the console follows sys.stderr again

    def output(*renderables) -> str:
        buffer.seek(0)
        buffer.truncate()
        console.print(*renderables, soft_wrap=True, highlight=False)
        return buffer.getvalue().rstrip("\n")
    return output


@pytest.mark.parametrize("name", ["a[/]b", "[bold]x", "w2/:smile:x", "w2/:thumbs_up:", "c\\[x]", "ends\\", "two\\\\"])
def test_a_name_prints_as_written_inside_markup_too(printed, name):
    assert printed("to " + plain(name) + " end") == f"to {name} end"
    assert printed("[red]to " + plain(name) + "[/red] end") == f"to {name} end"
    assert printed(labelled("wrote", "bold", name)) == f"wrote {name}"


@pytest.mark.parametrize(("name", "shown"), [("\x1b[31mred", "\\x1b[31mred"), ("nul\x00", "nul\\x00"),
                                             ("cr\rx", "cr\\rx")])
def test_control_characters_are_shown_as_escapes(printed, name, shown):
    assert printed("to " + plain(name)) == f"to {shown}"
    assert printed(labelled("error:", "bold red", f"cannot read {name}")) == f"error: cannot read {shown}"


def test_a_message_stays_on_one_line_while_plain_text_keeps_its_layout(printed):
    assert printed(labelled("error:", "bold red", "cannot read n\nl\tx")) == "error: cannot read n\\nl\\tx"
    assert printed(plain("caption line one\nline two")) == "caption line one\nline two"
