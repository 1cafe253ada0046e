from chat_client import ERROR_CLASSES, ChatError
from chat_client.errors import error_for


def test_every_code_of_the_protocol_registry_has_its_own_class_with_the_same_status(error_registry):
    assert set(ERROR_CLASSES) == set(error_registry)
    for code, entry in error_registry.items():
        cls = ERROR_CLASSES[code]
        assert cls.code == code and cls.status == entry["status"], code
    assert len(set(ERROR_CLASSES.values())) == len(ERROR_CLASSES)


def test_an_unknown_code_still_keeps_its_code_status_and_message():
    error = error_for(418, "teapot", "short and stout")
    assert type(error) is ChatError and (error.code, error.status, error.message) == ("teapot", 418, "short and stout")
