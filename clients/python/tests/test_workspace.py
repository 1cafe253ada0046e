"""The workspace endpoints through both clients: the session list, analysis status, result cards, read cursors."""

import asyncio
import json
import time
import uuid

import pytest

from chat_client import (AnalysisFigure, AnalysisLink, AnalysisResult, AnalysisTable, Forbidden, InvalidInput, NotFound,
                         ReadCursor)
from chat_client.listener import _connect
from conftest import new_user
from test_rest import make  # noqa: F401  (the sync/async client fixture)


def new_analysis() -> str:
    return f"a-{uuid.uuid4()}"


def eventually(check, timeout=10.0):
    """The store is written a few milliseconds after the ack: poll until ``check`` returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def send_read_marks(stack, session_id, user_id, seqs):
    """Sends ``read`` frames as a member over the chat socket; returns the error frames answered within a moment."""
    async def go():
        url = f"{stack.gateway_urls[0].replace('http', 'ws', 1)}/ws/chat/{session_id}"
        errors = []
        async with _connect(url, {"Authorization": f"Bearer {stack.user_token(user_id)}"}, 10) as ws:
            for seq in seqs:
                await ws.send(json.dumps({"type": "read", "seq": seq}))
            try:
                while True:
                    frame = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
                    if frame.get("type") == "error":
                        errors.append(frame)
            except asyncio.TimeoutError:
                return errors
    return asyncio.run(go())


def test_the_admin_finds_the_session_of_an_analysis_by_its_id(make):
    chat = make()
    analysis, other = new_analysis(), new_analysis()
    session = chat.create_session(title="Q3 VaR", metadata={"analysisId": analysis})
    chat.create_session(title="another", metadata={"analysisId": other})
    found = chat.find_session(analysis)
    assert found is not None and (found.id, found.title, found.analysis_id) == (session.id, "Q3 VaR", analysis)
    assert found.last_message is None and found.analysis_status is None and found.unread == 0
    assert [s.id for s in chat.list_sessions(analysis_id=analysis).sessions] == [session.id]
    assert chat.find_session(new_analysis()) is None
    chat.close_session(session.id)
    assert chat.find_session(analysis) is None  # closed sessions are not listed


def test_a_user_lists_only_their_own_sessions_page_by_page_with_unread_counts(make):
    chat = make()
    alice, bob = new_user(), new_user()
    mine = [chat.create_session(title=f"s{i}", members=[alice]) for i in range(3)]
    chat.create_session(title="not hers", members=[bob])
    chat.post_message(mine[0].id, "first")
    chat.post_message(mine[0].id, "second", metadata={"kind": "note"})
    me = make(token=chat.user_token(alice))
    first = eventually(lambda: (lambda p: p if p.sessions and p.sessions[0].unread == 2 else None)(me.list_sessions(limit=2)))
    assert first is not None and len(first.sessions) == 2 and first.next_cursor is not None
    assert first.sessions[0].id == mine[0].id  # newest activity first
    last = first.sessions[0].last_message
    assert last is not None and (last.seq, last.body, last.kind) == (2, "second", "note")
    assert first.sessions[0].read_seq == 0
    rest = me.list_sessions(limit=2, cursor=first.next_cursor)
    assert rest.next_cursor is None
    listed = [s.id for s in first.sessions + rest.sessions]
    assert sorted(listed) == sorted(s.id for s in mine)
    assert sorted(s.id for s in me.iter_sessions(page_size=1)) == sorted(s.id for s in mine)


def test_a_bad_cursor_or_limit_is_invalid_input(make):
    chat = make()
    with pytest.raises(InvalidInput):
        chat.list_sessions(cursor="not a cursor!")
    with pytest.raises(InvalidInput):
        chat.list_sessions(limit=101)
    with pytest.raises(InvalidInput):
        chat.list_sessions(analysis_id="x" * 201)


def test_the_backend_reports_each_analysis_state_and_the_list_carries_the_latest(make):
    chat = make()
    analysis = new_analysis()
    session = chat.create_session(metadata={"analysisId": analysis})
    queued = chat.report_analysis_status(session.id, "queued")
    assert (queued.session_id, queued.state, queued.progress, queued.reason) == (session.id, "queued", None, None)
    running = chat.report_analysis_status(session.id, "running", progress=40)
    assert (running.state, running.progress) == ("running", 40)
    assert chat.report_analysis_status(session.id, "done").state == "done"
    failed = chat.report_analysis_status(session.id, "failed", reason="market data missing")
    assert (failed.state, failed.reason, failed.progress) == ("failed", "market data missing", None)
    listed = chat.find_session(analysis)
    assert listed is not None and listed.analysis_status == failed


def test_a_status_from_a_member_is_forbidden_and_a_bad_one_changes_nothing(make):
    chat = make()
    alice = new_user()
    analysis = new_analysis()
    session = chat.create_session(members=[alice], metadata={"analysisId": analysis})
    chat.report_analysis_status(session.id, "running", progress=10)
    with pytest.raises(Forbidden):
        make(token=chat.user_token(alice)).report_analysis_status(session.id, "done")
    with pytest.raises(NotFound):
        chat.report_analysis_status(str(uuid.uuid4()), "queued")
    with pytest.raises(InvalidInput):
        chat.report_analysis_status(session.id, "running", progress=101)
    with pytest.raises(InvalidInput):
        chat.report_analysis_status(session.id, "failed", reason="   ")
    # Shapes the schema never allows are refused before sending.
    for state, options in (("done", {"progress": 50}), ("failed", {}), ("queued", {"reason": "why"}), ("paused", {})):
        with pytest.raises(ValueError):
            chat.report_analysis_status(session.id, state, **options)
    status = chat.find_session(analysis).analysis_status
    assert status is not None and (status.state, status.progress) == ("running", 10)


def card(stack, analysis_id):
    return AnalysisResult(
        title="Q3 VaR", summary="Value at risk rose after the rate shock.",
        figures=[AnalysisFigure("VaR 99%", 1.25, unit="M EUR", delta=0.1, delta_unit="M EUR"), AnalysisFigure("Desks", 2)],
        table=AnalysisTable(columns=["Desk", "VaR"], rows=[["Rates", 0.8], ["FX", None]]),
        link=AnalysisLink("Open the analysis", f"https://{stack.analysis_link_host}/analyses/42"), analysis_id=analysis_id)


def test_a_result_card_is_posted_with_the_documented_metadata_and_a_plain_text_body(make, stack):
    chat = make()
    analysis = new_analysis()
    session = chat.create_session(metadata={"analysisId": analysis})
    result = card(stack, analysis)
    posted = chat.post_analysis_result(session.id, result, client_msg_id="run-7")
    assert posted.metadata == {
        "kind": "analysis_result", "version": 1, "title": "Q3 VaR", "summary": "Value at risk rose after the rate shock.",
        "figures": [{"label": "VaR 99%", "value": 1.25, "unit": "M EUR", "delta": 0.1, "deltaUnit": "M EUR"},
                    {"label": "Desks", "value": 2}],
        "table": {"columns": ["Desk", "VaR"], "rows": [["Rates", 0.8], ["FX", None]]},
        "link": {"label": "Open the analysis", "url": f"https://{stack.analysis_link_host}/analyses/42"},
        "analysisId": analysis,
    }
    assert posted.body.splitlines()[:3] == ["Q3 VaR", "Value at risk rose after the rate shock.", "VaR 99%: 1.25 M EUR (+0.1 M EUR)"]
    minimal = chat.post_analysis_result(session.id, AnalysisResult(title="Done"), body="The run finished.")
    assert (minimal.body, minimal.metadata) == ("The run finished.", {"kind": "analysis_result", "version": 1, "title": "Done"})
    assert [m.id for m in chat.history(session.id).messages] == [posted.id, minimal.id]
    listed = eventually(lambda: (lambda s: s if s and s.last_message else None)(chat.find_session(analysis)))
    assert listed is not None and listed.last_message.kind == "analysis_result"


def test_a_broken_card_is_invalid_input_and_stores_nothing(make, stack):
    chat = make()
    session = chat.create_session()
    broken = [
        AnalysisResult(title=""),
        AnalysisResult(title="t", table=AnalysisTable(columns=["a", "b"], rows=[["only one"]])),
        AnalysisResult(title="t", link=AnalysisLink("elsewhere", "https://evil.example.net/x")),
        AnalysisResult(title="t", link=AnalysisLink("plain", f"http://{stack.analysis_link_host}/x")),
        AnalysisResult(title="t", figures=[AnalysisFigure("f", 1)] * 13),
    ]
    for result in broken:
        with pytest.raises(InvalidInput):
            chat.post_analysis_result(session.id, result, body="fallback")
    with pytest.raises(InvalidInput) as refused:
        chat.post_message(session.id, "v2", metadata={**AnalysisResult(title="t").to_metadata(), "version": 2})
    assert "version" in refused.value.message
    assert chat.history(session.id).messages == []
    assert chat.post_message(session.id, "next").seq == 1  # the refused cards used no seq


def test_history_carries_each_members_read_cursor_and_a_mark_backwards_changes_nothing(make, stack):
    chat = make()
    alice, bob = new_user(), new_user()
    session = chat.create_session(members=[alice, bob])
    for i in range(3):
        chat.post_message(session.id, f"m{i}")
    assert chat.history(session.id).reads == []  # nobody has read yet
    assert send_read_marks(stack, session.id, alice, [2]) == []
    reads = eventually(lambda: chat.history(session.id).reads)
    assert reads == [ReadCursor(user_id=alice, seq=2)]
    errors = send_read_marks(stack, session.id, alice, [1, 9])
    assert sorted(e["code"] for e in errors) == ["conflict", "invalid_input"]  # each answered as soon as it is checked
    member_view = make(token=chat.user_token(bob)).history(session.id)
    assert member_view.reads == [ReadCursor(user_id=alice, seq=2)]
    summary = eventually(lambda: (lambda p: p.sessions[0] if p.sessions and p.sessions[0].read_seq == 2 else None)(
        make(token=chat.user_token(alice)).list_sessions(limit=1)))
    assert summary is not None and summary.unread == 1
