"""A fictional directory for the demo (`flask --app app demo`), and its removal (`demo --remove`)."""

import json

from sqlite_utils import Database

from kiosk.hosts.directory import delete_hosts, save_hosts

DEMO_HOSTS = [
    ("Kari Ødegård", "+4741234501", "Reception", "nb"),
    ("Ola Nordmann", "+4741234502", "Finance", "nb"),
    ("Åse Aasen", "+4741234503", "HR", "nn"),
    ("Lars Ærø", "+4741234504", "IT", "nb"),
    ("Sofia Öberg", "+46701234505", "Sales", "sv"),
    ("José Martínez", "+4741234506", "Engineering", "en"),
    ("Siobhan O'Brien", "+4741234507", "Legal", "en"),
    ("Mette Kristiansen", "+4541234508", "Marketing", "da"),
    ("Jukka Virtanen", "+358401234509", "Engineering", "fi"),
    ("Ingrid Berg-Hansen", "+4741234510", "Management", "nb"),
]


def seed(db: Database) -> int:
    """Add the demo hosts to an empty directory; returns how many were added."""
    if db["hosts"].count:
        return 0
    hosts = [
        {"name": name, "phone": phone, "department": department, "language": language}
        for name, phone, department, language in DEMO_HOSTS
    ]
    return save_hosts(db, hosts).added


def remove(db: Database) -> int:
    """Delete the demo hosts (by their fictional numbers), leaving every other host; returns how many."""
    numbers = [phone for _, phone, _, _ in DEMO_HOSTS]
    ids = [row["id"] for row in db.query(
        "SELECT id FROM hosts WHERE phone IN (SELECT value FROM json_each(?))", [json.dumps(numbers)])]
    return delete_hosts(db, ids)
