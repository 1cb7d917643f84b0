import pytest

from kiosk.hosts.directory import fts_query, search_hosts
from tests.helpers import create_host

NAMES = ["Kari Ødegård", "Åse Lie", "Per Aasen", "Lars Ærø", "Sofia Öberg", "José Martínez",
         "Siobhan O'Brien", "Ingrid Berg-Hansen", "Ola Nordmann"]


@pytest.fixture
def directory(db):
    """A directory of hosts with Nordic and accented names."""
    for i, name in enumerate(NAMES):
        create_host(db, name=name, phone=f"+47412340{i:02d}")
    return db


def names(db, query, limit=8):
    return {host["name"] for host in search_hosts(db, query, limit=limit)}


@pytest.mark.parametrize("query, expected", [
    ("ode", {"Kari Ødegård"}),
    ("ØDE", {"Kari Ødegård"}),
    ("aase", {"Åse Lie", "Per Aasen"}),
    ("ase", {"Åse Lie", "Per Aasen"}),
    ("åse", {"Åse Lie", "Per Aasen"}),
    ("ærø", {"Lars Ærø"}),
    ("aero", {"Lars Ærø"}),
    ("oberg", {"Sofia Öberg"}),
    ("jose", {"José Martínez"}),
    ("martinez", {"José Martínez"}),
    ("hansen", {"Ingrid Berg-Hansen"}),
    ("kari ød", {"Kari Ødegård"}),
    ("ode kari", {"Kari Ødegård"}),
    ("o'brien", {"Siobhan O'Brien"}),
    ("brien", {"Siobhan O'Brien"}),
])
def test_search_matches_a_prefix_of_any_name_part_ignoring_case_and_nordic_letters(directory, query, expected):
    assert names(directory, query) == expected


@pytest.mark.parametrize("query", ["O'Brien-", '"', "*", "AND", "NOT ola", "ola OR", "(", "kari)", "^ola", "ola:",
                                   "NEAR(a b)", "\\", "'; DROP TABLE hosts; --", "\u0000", "😀"])
def test_fts_syntax_in_user_text_never_raises(directory, query):
    search_hosts(directory, query, limit=8)


def test_search_returns_at_most_the_limit(db):
    for i in range(12):
        create_host(db, name=f"Nils Nilsen {i}", phone=f"+47412341{i:02d}")
    assert len(search_hosts(db, "nil", limit=8)) == 8


def test_search_results_carry_no_phone_number_or_email(directory):
    (host,) = search_hosts(directory, "kari", limit=8)
    assert set(host) == {"id", "name", "department"}


def test_updated_name_is_found_by_its_new_name_only(directory):
    host_id = search_hosts(directory, "nordmann", limit=8)[0]["id"]
    directory["hosts"].update(host_id, {"name": "Ola Fjellheim", "search": "ola fjellheim"})
    assert names(directory, "nordmann") == set()
    assert names(directory, "fjell") == {"Ola Fjellheim"}


def test_query_terms_are_quoted_prefixes():
    assert fts_query('ode "x" OR') == '"ode"* "x"* "or"*'


def test_a_deactivated_host_is_neither_found_nor_chosen(directory):
    from kiosk.hosts.directory import get_host
    host_id = search_hosts(directory, "nordmann", limit=8)[0]["id"]
    directory["hosts"].update(host_id, {"active": 0})
    assert names(directory, "nordmann") == set()
    assert get_host(directory, host_id) is None
    assert get_host(directory, host_id, active_only=False).name == "Ola Nordmann"
