from __future__ import annotations

import pytest

from relbook.domain.errors import ConflictError, ValidationError
from relbook.services.context import Services
from relbook.services.people import Labeled, PersonDraft


def test_create_and_read_back_a_person(services: Services) -> None:
    person_id = services.people.create(
        PersonDraft(
            given_name="Zoë",
            family_name="Hartmann-Quinn",
            title="VP Sales",
            emails=[Labeled(" Zoe@Acme.COM ", "work"), Labeled("zoe@home.example.org")],
            phones=[Labeled("+1 555 0100", "mobile")],
            company_name="Acme, Inc.",
            tags=["key account", "#vip"],
        )
    )
    detail = services.people.detail(person_id)
    assert detail.display_name == "Zoë Hartmann-Quinn"
    assert [e.value for e in detail.emails] == ["zoe@acme.com", "zoe@home.example.org"]
    assert detail.phones[0].value == "+15550100"
    assert detail.company_name == "Acme, Inc."
    assert detail.tags == ("key account", "vip")
    assert services.people.find_by_address("ZOE@acme.com") == person_id


def test_bad_values_name_their_field_and_save_nothing(services: Services) -> None:
    with pytest.raises(ValidationError) as caught:
        services.people.create(
            PersonDraft(given_name="Ann", emails=[Labeled("not-an-address")], birthday="1971-02-29")
        )
    assert caught.value.for_field("emails.0") == "'not-an-address' is not an e-mail address"
    assert "not a date" in (caught.value.for_field("birthday") or "")
    assert services.people.count() == 0


def test_an_address_belongs_to_one_person(services: Services) -> None:
    services.people.create(PersonDraft(given_name="Ann", emails=[Labeled("ann@x.example")]))
    with pytest.raises(ValidationError) as caught:
        services.people.create(PersonDraft(given_name="Anne", emails=[Labeled("ANN@x.example")]))
    assert "already belongs to Ann" in (caught.value.for_field("emails.0") or "")


def test_stale_edit_is_refused(services: Services) -> None:
    person_id = services.people.create(PersonDraft(given_name="Bo"))
    first = services.people.draft(person_id)
    second = services.people.draft(person_id)
    first.title = "CTO"
    services.people.update(first)
    second.title = "CFO"
    with pytest.raises(ConflictError):
        services.people.update(second)
    assert services.people.detail(person_id).title == "CTO"


def test_edits_fold_into_one_outbox_row_with_changed_fields(services: Services) -> None:
    person_id = services.people.create(PersonDraft(given_name="Cy"))
    draft = services.people.draft(person_id)
    draft.title = "Buyer"
    services.people.update(draft)
    rows = (
        services.book.reader()
        .execute("SELECT op, base_version, fields FROM outbox WHERE entity_id = ?", (person_id,))
        .fetchall()
    )
    assert rows == [("upsert", 0, '["*", "title"]')]
    assert services.people.detail(person_id).version == 2


def test_delete_is_undoable(services: Services) -> None:
    person_id = services.people.create(
        PersonDraft(given_name="Di", emails=[Labeled("di@y.example")])
    )
    services.people.delete([person_id])
    assert services.people.count() == 0
    assert services.people.find_by_address("di@y.example") is None
    services.people.restore([person_id])
    assert services.people.detail(person_id).emails[0].value == "di@y.example"


def test_changing_company_keeps_job_history(services: Services) -> None:
    person_id = services.people.create(
        PersonDraft(given_name="Ed", company_name="Old Co", title="Buyer")
    )
    draft = services.people.draft(person_id)
    draft.company_id, draft.company_name, draft.title = None, "New Co", "Head of Buying"
    services.people.update(draft)
    history = services.affiliations.of_person(person_id)
    assert [(a.company_name, a.current) for a in history] == [("New Co", True), ("Old Co", False)]
