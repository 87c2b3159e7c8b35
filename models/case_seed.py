"""The demonstration case files of data/cases.yaml, loaded once into a database that has none.

Steps go through models/cases.py like any other (order, officers, AV rules, the legal review all apply),
in time order across cases. `attach` indexes refer to the case's own evidence, in the order listed;
`measure` (of a 保全处理) to the case's own steps after 立案, in the order listed.
"""
import datetime as dt
import io
import logging
import math
import struct
import tempfile
import wave
import zlib
from pathlib import Path

import yaml

from models import cases, ledger, treehead
from models.disclosure import Officer
from models.staff import OFFICER_ONLY, Staff

SEED_PATH = Path(__file__).resolve().parent.parent / "data" / "cases.yaml"
log = logging.getLogger(__name__)


def _when(text):
    return dt.datetime.fromisoformat(text).replace(tzinfo=ledger.CHINA_TZ)


def placeholder_media(name):
    """Small but real files: a JPEG photo or a WAV recording, different for every name."""
    seed = zlib.crc32(name.encode())
    if name.endswith(".jpg"):
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (320, 240), (seed % 200, (seed >> 8) % 200, (seed >> 16) % 200))
        ImageDraw.Draw(image).text((12, 12), f"placeholder {name}", fill=(255, 255, 255))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=70)
        return out.getvalue()
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        tone = 300 + seed % 500
        w.writeframes(b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * tone * i / 8000)))
                               for i in range(8000)))
    return out.getvalue()


def seed_cases_if_empty(config, path=SEED_PATH, sign=True):
    """Load the demonstration cases into a database without cases; sign a head. Returns how many."""
    if cases.Case.select().exists() or ledger.size():
        return 0
    with open(path, encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    for person in data.get("staff", []):
        # Who records what is not their own case (审核) needs the role for it (models/staff.py).
        if Staff.acting_as(person["officer"]).role == OFFICER_ONLY:
            staff = Staff.add(None, person["name"], person["role"], Officer.by_cert_no(person["officer"]))
            if person.get("legal_qualification"):
                staff.qualify(person["legal_qualification"], person.get("reviewing_since"))
    events = []
    for spec in data["cases"]:
        events.append((_when(spec["open"]["at"]), spec, None))
        events += [(_when(step["at"]), spec, step) for step in spec["steps"]]
    numbers, evidence, steps = {}, {}, {}
    with tempfile.TemporaryDirectory() as tmp:
        for at, spec, step in sorted(events, key=lambda e: e[0]):
            key = spec["key"]
            if step is None:
                opening = dict(spec["open"], demo=True)  # 示例: never mistaken for a real case
                by, _ = opening.pop("by"), opening.pop("at")
                numbers[key] = cases.open_case(config, party=spec["party"], handlers=spec["handlers"], by=by,
                                               data=opening, at=at).number
            elif "evidence" in step:
                file = Path(tmp) / step["file"]
                file.write_bytes(placeholder_media(step["file"]))
                entry = cases.add_evidence(config, numbers[key], file, filename=step["file"], step=step["evidence"],
                                           device=step["device"], recorded_by=step["recorded_by"],
                                           recorded_at=step["recorded_at"], by=step["recorded_by"], at=at,
                                           note="演示数据（占位文件）")
                evidence.setdefault(key, []).append(entry.seq)
            else:
                attachments = [evidence[key][i] for i in step.get("attach", [])]
                data = dict(step["data"])
                if "measure" in step:
                    data["measure_seq"] = steps[key][step["measure"]]
                entry = cases.record_step(config, numbers[key], step["step"], data, by=step["by"],
                                          attachments=attachments, at=at)
                steps.setdefault(key, []).append(entry.seq)
    if sign:
        treehead.sign_head(config)
    return len(numbers)


def seed_demo_cases(config):
    """Load data/cases.yaml into a database without cases (make run, init-db); returns how many.

    The demonstration must never stop the server from starting: a failure is logged, not raised."""
    from models.evidence import EvidenceError

    try:
        return seed_cases_if_empty(config)
    except (cases.CaseError, EvidenceError, ledger.LedgerError, OSError):
        log.exception("demonstration cases not loaded")
        return 0
