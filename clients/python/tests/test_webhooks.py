import json
import os

import pytest

from chat_client import WebhookVerificationError, verify_webhook, webhook_signature

SECRET = "whsec-test-secret"
NOW = 1_800_000_000


def test_the_signature_is_hmac_sha256_in_hex_over_id_timestamp_and_body():
    # printf 'evt.1800000000.{}' | openssl dgst -sha256 -hmac whsec-test-secret
    assert webhook_signature(SECRET, "evt", NOW, "{}") == "v1=ca949b6f0d9ec171cafe0d2017f7cd27fa0412d1ec56d75161f57c856f54b440"


@pytest.fixture(scope="module")
def signed_by_the_service():
    """A delivery signed by the webhooks service's own code (the jest runner signs it)."""
    raw = os.environ.get("CHAT_WEBHOOK_VECTOR")
    if not raw:
        pytest.fail("CHAT_WEBHOOK_VECTOR is not set; run through jest: npx pnpm@10.34.9 test:unit -- tests/python", pytrace=False)
    return json.loads(raw)


def test_a_delivery_signed_by_the_service_verifies_and_gives_its_event(signed_by_the_service):
    v = signed_by_the_service
    headers = {k.title(): value for k, value in v["headers"].items()}  # header names arrive in any case
    event = verify_webhook(v["secret"], headers, v["body"].encode(), now=v["timestamp"] + 10)
    assert event["id"] == v["headers"]["chat-webhook-id"] and event["type"] == "message.created"


def test_a_replay_outside_the_window_is_refused(signed_by_the_service):
    v = signed_by_the_service
    with pytest.raises(WebhookVerificationError) as refused:
        verify_webhook(v["secret"], v["headers"], v["body"], now=v["timestamp"] + 301)
    assert refused.value.reason == "stale"


@pytest.mark.parametrize("change", ["body", "secret", "id", "timestamp"])
def test_a_changed_body_key_id_or_timestamp_is_refused(signed_by_the_service, change):
    v = signed_by_the_service
    headers, body, secret = dict(v["headers"]), v["body"], v["secret"]
    if change == "body":
        body = body.replace("message.created", "message.createD")
    elif change == "secret":
        secret = secret + "x"
    elif change == "id":
        headers["chat-webhook-id"] = "message.created:another"
    else:
        headers["chat-webhook-timestamp"] = str(v["timestamp"] + 1)
    with pytest.raises(WebhookVerificationError) as refused:
        verify_webhook(secret, headers, body, now=v["timestamp"])
    assert refused.value.reason == "bad_signature"


def test_missing_headers_are_malformed():
    with pytest.raises(WebhookVerificationError) as refused:
        verify_webhook(SECRET, {}, "{}", now=NOW)
    assert refused.value.reason == "malformed"


def test_any_one_of_several_signatures_is_enough_while_a_key_is_rotated():
    body = json.dumps({"id": "evt", "type": "message.created"})
    headers = {"chat-webhook-id": "evt", "chat-webhook-timestamp": str(NOW),
               "chat-webhook-signature": f"{webhook_signature('old-secret-0000000', 'evt', NOW, body)} "
                                         f"{webhook_signature('new-secret-0000000', 'evt', NOW, body)}"}
    assert verify_webhook("new-secret-0000000", headers, body, now=NOW)["id"] == "evt"
