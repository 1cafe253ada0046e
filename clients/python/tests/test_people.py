"""Finding people by name through both clients, to add them as members without handing out ids."""

import time
import uuid

import pytest

from chat_client import InvalidInput, Person, Unauthorized
from conftest import new_user
from test_rest import make  # noqa: F401  (the sync/async client fixture)


def test_people_are_found_by_part_of_their_name_and_added_by_id(make, stack):
    tag = uuid.uuid4().hex[:8]
    grace = new_user()
    # Any call with a token naming her makes her known; the directory is written beside the answer.
    as_grace = make(token=stack.user_token(grace, name=f"Grace {tag} Hopper"))
    deadline = time.monotonic() + 10
    found = as_grace.people(tag)
    while not found and time.monotonic() < deadline:
        time.sleep(0.05)
        found = as_grace.people(tag)
    assert found == [Person(id=grace, name=f"Grace {tag} Hopper")]
    assert make().people(f"GRACE {tag}", limit=1) == found
    assert make().people(f"{tag}-nobody") == []

    chat = make()
    session = chat.create_session(members=[found[0].id])
    assert grace in chat.get_session(session.id).members


def test_a_bad_search_is_refused_and_so_is_a_caller_without_a_valid_token(make, stack):
    chat = make()
    with pytest.raises(InvalidInput):
        chat.people("x", limit=0)
    with pytest.raises(InvalidInput):
        chat.people("x" * 101)
    with pytest.raises(Unauthorized):
        make(token="not-a-token").people("x")
