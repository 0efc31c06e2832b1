"""Notebook 00's first-upload diagram on a fresh and on a reused stack: the app server's AssumeRole is
drawn when it happens, and when the app server answers from its cache (a second run on the same stack)
the cell says so and draws the earlier AssumeRole from the app server's own trace."""

from __future__ import annotations

import pytest

from helpers import sample_data, workbook
from helpers.lessons import setup as lesson
from tests.notebooks.common import fresh_stack


def _first_upload(directory: object, capsys: pytest.CaptureFixture[str]) -> str:
    book = workbook.connect("local", state_dir=directory)   # type: ignore[arg-type]
    try:
        book.client("alice").upload("first/photo.jpg", sample_data.PHOTO, content_type="image/jpeg")
        capsys.readouterr()
        lesson.first_upload_diagram(book, "alice", "00 · a first upload")
        return capsys.readouterr().out
    finally:
        book.close()


@pytest.fixture
def printed_diagrams(monkeypatch: pytest.MonkeyPatch) -> None:
    """Diagrams printed as their Mermaid text (outside a kernel IPython would print only a repr)."""
    from helpers import sequence_diagram

    monkeypatch.setattr(workbook, "display_mermaid", print)
    monkeypatch.setattr(sequence_diagram, "display_mermaid", print)


@pytest.mark.usefixtures("printed_diagrams")
def test_first_run_draws_assume_role_and_second_run_explains_the_cache(
        capsys: pytest.CaptureFixture[str]) -> None:
    with fresh_stack("wb-sts-cache-") as (directory, _info):
        first = _first_upload(directory, capsys)
        assert "AppServer->>STS: POST /?Action=AssumeRole&RoleSessionName=alice-upload" in first
        assert "The app server called AssumeRole for (alice, upload) on the first GET /api/sts" in first

        second = _first_upload(directory, capsys)     # the same app server: its cache answers
        diagram, _, after = second.partition("The first GET /api/sts made no AssumeRole")
        assert "AppServer->>STS" not in diagram and "Client->>AppServer: GET /api/sts?scope=upload" in diagram
        assert after, second
        assert "The AssumeRole that filled the cache, at" in after
        assert "AppServer->>STS: POST /?Action=AssumeRole&RoleSessionName=alice-upload" in after


def test_the_developers_own_calls_are_drawn_as_the_developers(capsys: pytest.CaptureFixture[str]) -> None:
    with fresh_stack("wb-developer-") as (directory, _info):
        book = workbook.connect("local", state_dir=directory)
        try:
            book.client("alice").upload("first/photo.jpg", sample_data.PHOTO, content_type="image/jpeg")
            book.forget()
            book.delete_objects(["users/alice/first/photo.jpg"])   # AssumeRole + DeleteObject, the kernel
            seen = {(e.source, e.target, e.method) for e in book.recorder.exchanges()}
        finally:
            book.close()
    assert seen == {("Developer", "STS", "POST"), ("Developer", "OSS", "DELETE")}, seen
