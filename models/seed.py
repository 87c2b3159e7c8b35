"""What a new installation starts with: the schema, the bureau's published lists (data/bureau.yaml),
and, for `make run`, the demonstration case files (data/cases.yaml)."""
from pathlib import Path

import yaml

from models import migrations
from models.database import connection, db
from models.disclosure import Bureau, EnforcementItem, FlowStep, InspectionItem, Officer

SEED_PATH = Path(__file__).resolve().parent.parent / "data" / "bureau.yaml"


def prepare_database(config, demo_cases=False):
    """Apply pending migrations, fill an empty database with the bureau's lists and, if asked, load
    the demonstration cases. Returns (migrations applied, whether the lists were loaded, demo cases)."""
    from models.answers import seed_answers_if_empty
    from models.case_seed import seed_demo_cases
    from models.cases import refresh_limits

    with connection():
        applied = migrations.upgrade()
        refresh_limits(config)  # the open cases' stored limits, after migration 0018 or a change of rules
        seeded = seed_if_empty()
        seed_answers_if_empty()  # also for a database made before the FAQ existed
        demo = seed_demo_cases(config) if demo_cases else 0
    return applied, seeded, demo


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
        create_inspections_and_flows(data)
    return True


def create_inspections_and_flows(data):
    """The 随机抽查事项清单 and the flows of `data`, into tables the caller emptied; returns the step count."""
    for seq, inspection in enumerate(data["inspections"], start=1):
        InspectionItem.create(seq=seq, **inspection)
    steps = 0
    for category, flow in data["flows"].items():
        for seq, (title, detail, *basis) in enumerate(flow, start=1):
            FlowStep.create(category=category, seq=seq, title=title, detail=detail, basis="".join(basis))
            steps += 1
    return steps


def update_lists(path=SEED_PATH):
    """Bring the published lists of an existing database to data/bureau.yaml: items are added or
    updated by code (all or nothing, as an Excel import), the inspection list and the flows are
    replaced. Returns (items created, items updated, inspections, flow steps). Each changed list then
    shows as not yet reviewed until its 合法性审核 is entered (ListReview)."""
    from models.catalogue import import_items

    data = load_seed(path)
    defaults = data.get("item_defaults", {})
    rows = [(number, {**defaults, **item}) for number, item in enumerate(data["items"], start=1)]
    with db.atomic():
        created, updated, _ = import_items(rows)
        InspectionItem.delete().execute()
        FlowStep.delete().execute()
        steps = create_inspections_and_flows(data)
    return created, updated, len(data["inspections"]), steps
