"""The bureau's published lists a new installation starts with (data/bureau.yaml)."""
from pathlib import Path

import yaml

from models.base import db
from models.disclosure import Bureau, EnforcementItem, FlowStep, InspectionItem, Officer

SEED_PATH = Path(__file__).resolve().parent.parent / "data" / "bureau.yaml"


def load_seed(path=SEED_PATH):
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def seed_if_empty(path=SEED_PATH):
    """Fill an empty database with the bureau's lists; leave a used one alone. Returns True if seeded."""
    if Bureau.select().exists():
        return False
    data = load_seed(path)
    with db.atomic():
        Bureau.create(**data["bureau"])
        for officer in data["officers"]:
            Officer.create(**officer)
        defaults = data.get("item_defaults", {})
        for item in data["items"]:
            EnforcementItem.create(**{**defaults, **item})
        for seq, inspection in enumerate(data["inspections"], start=1):
            InspectionItem.create(seq=seq, **inspection)
        for category, steps in data["flows"].items():
            for seq, (title, detail) in enumerate(steps, start=1):
                FlowStep.create(category=category, seq=seq, title=title, detail=detail)
    return True
