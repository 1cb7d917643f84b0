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


# Issue 11, item 2: no dead ends


@pytest.mark.parametrize("query, expected", [
    ("karri", {"Kari Ødegård"}),  # a letter too many
    ("obrien", {"Siobhan O'Brien"}),  # typed without the apostrophe
    ("berghansen", {"Ingrid Berg-Hansen"}),  # or the hyphen
    ("ødegard", {"Kari Ødegård"}),
    ("odegaard", {"Kari Ødegård"}),
    ("nrodmann", {"Ola Nordmann"}),  # two letters swapped
    ("nordman", {"Ola Nordmann"}),  # a letter missing
    ("martinex", {"José Martínez"}),  # a wrong letter
    ("kari odegrd", {"Kari Ødegård"}),  # a typo in one of two words
])
def test_one_or_two_typos_still_find_the_host(directory, query, expected):
    assert names(directory, query) == expected


@pytest.mark.parametrize("query", ["xyzzy", "qari", "karrrri", "kz"])
def test_typo_tolerance_does_not_invent_matches(directory, query):
    """A wrong first letter, three typos, or two letters still being typed find nobody rather than somebody."""
    assert names(directory, query) == set()


def test_an_exact_match_is_preferred_to_typo_matches(db):
    create_host(db, name="Kari Berg", phone="+4741234001")
    create_host(db, name="Karl Dahl", phone="+4741234002")
    assert names(db, "kari") == {"Kari Berg"}  # "karl" is one letter off, but an exact start was found
    assert names(db, "karx") == {"Kari Berg", "Karl Dahl"}  # nothing starts with "karx": both are one letter off


def test_departments_are_searchable(db):
    create_host(db, name="Kari Berg", phone="+4741234001", department="Finance")
    create_host(db, name="Ola Dahl", phone="+4741234002", department="IT")
    assert names(db, "finance") == {"Kari Berg"}
    assert names(db, "ola it") == {"Ola Dahl"}
    assert [host["department"] for host in search_hosts(db, "fin", limit=8)] == ["Finance"]


def test_a_department_change_moves_the_host_in_the_search(db):
    from kiosk.hosts.directory import update_host
    host = create_host(db, name="Kari Berg", phone="+4741234001", department="Finance")
    update_host(db, host.id, {"name": "Kari Berg", "phone": host.phone, "department": "Legal"})
    assert names(db, "finance") == set() and names(db, "legal") == {"Kari Berg"}


def test_a_whole_name_typed_in_full_names_exactly_one_host(db):
    from kiosk.hosts.directory import host_named
    create_host(db, name="Ingvild Haaland", phone="+4741234001")
    create_host(db, name="Ola Berg", phone="+4741234002")
    create_host(db, name="Ola Berg", phone="+4741234003")
    assert host_named(db, "ingvild  HAALAND").name == "Ingvild Haaland"
    assert host_named(db, "Ingvild") is None  # part of a name is not a choice
    assert host_named(db, "Ola Berg") is None  # two hosts have that name: the visitor must choose


def test_the_typo_search_sees_a_host_added_after_it_ran(db):
    create_host(db, name="Kari Berg", phone="+4741234001")
    assert names(db, "fjellhiem") == set()  # the vocabulary of "f" words is now cached
    create_host(db, name="Ola Fjellheim", phone="+4741234002")
    assert names(db, "fjellhiem") == {"Ola Fjellheim"}
    db.execute("DELETE FROM hosts WHERE name = 'Ola Fjellheim'")
    assert names(db, "fjellhiem") == set()
