"""The models mirror the OpenAPI document the server generates from its zod schemas."""

import dataclasses
import re

import httpx
import pytest

from chat_client import AddMembersBody, ChatMessage, CreateSessionBody, HistoryPage, PostMessageBody, ProtocolError, Session
from chat_client.models import parse_frame


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


MODELS = {"Session": Session, "ChatMessage": ChatMessage, "HistoryResponse": HistoryPage,
          "CreateSessionBody": CreateSessionBody, "AddMembersBody": AddMembersBody, "PostMessageBody": PostMessageBody}


@pytest.fixture(scope="module")
def schemas(stack):
    document = httpx.get(f"{stack.api_url}/openapi.json").json()
    return document["components"]["schemas"]


@pytest.mark.parametrize("schema_id", sorted(MODELS))
def test_each_model_has_exactly_the_fields_of_its_schema_and_requires_what_it_requires(schemas, schema_id):
    schema = schemas[schema_id]
    fields = {_camel(f.name): f for f in dataclasses.fields(MODELS[schema_id])}
    assert set(fields) == set(schema["properties"])
    required_here = {name for name, f in fields.items()
                     if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    # `type` is fixed by the model, so it has a default though the wire requires it.
    assert required_here == set(schema.get("required", [])) - {"type"}


def test_a_message_missing_a_required_field_or_with_a_wrong_type_is_a_protocol_error():
    good = {"type": "message", "id": "a", "sessionId": "b", "seq": 1, "userId": "c", "body": "x", "metadata": {},
            "timestamp": "2026-01-01T00:00:00Z"}
    assert ChatMessage.from_json(good).seq == 1
    for broken in ({k: v for k, v in good.items() if k != "seq"}, {**good, "seq": "1"}, {**good, "seq": True}, []):
        with pytest.raises(ProtocolError):
            ChatMessage.from_json(broken)


def test_an_unknown_frame_type_is_kept_not_dropped():
    frame = parse_frame({"type": "read", "userId": "u", "seq": 3})
    assert frame.type == "unknown" and frame.raw["seq"] == 3
