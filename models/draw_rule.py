#!/usr/bin/env python3
"""双随机抽查的抽取规则与核验脚本 — the draw rule of the 双随机、一公开 inspections, and its checker.

This file is the rule itself: the server draws with it (models/draws.py) and anyone may download it
from the draw's public page and run it, with Python 3.8+ and nothing else, on the published files:

    python3 verify_draw.py 下载的文件夹/ [--commitment 事先公布的承诺值]

It says, line by line, whether the files agree with the commitment published before the draw and
whether the published result is what the rule gives. Exit status 0: everything matches; 1: not.

The rule (version sanxiang-draw-v1):
1. Every file is hashed as canonical JSON (keys sorted, no spaces, UTF-8): H(x) = SHA-256(canonical(x)).
2. Before the draw the bureau publishes commitment.json: H of each pool (targets, inspectors, conflicts)
   and of the plan, SHA-256 of a secret (32 random bytes), the public value it will wait for (e.g. a
   福彩双色球 draw not yet held) and the draw day; the commitment is H(commitment.json).
3. After that value is published: seed = SHA-256(secret bytes ‖ public value as UTF-8), hex.
4. Targets: strata are (category, risk) when the plan has a risk ratio, else category; strata in order
   of (category, risk). Ratio r% of a stratum of N targets draws n = ceil(N·r/100) of them: those with
   the smallest SHA-256(seed ‖ "|target|" ‖ uscc).
5. Inspectors: for each drawn target in that order, the eligible inspectors are those whose
   certificate is 有效 on the draw day (status 有效, valid_from ≤ day ≤ valid_to) and who have no
   recorded conflict (回避) with the target. The k named by the plan are those with the fewest targets
   so far, ties broken by the smallest SHA-256(seed ‖ "|inspector|" ‖ uscc ‖ "|" ‖ cert_no). A target
   with fewer than k eligible inspectors gets none and is listed under "unassigned" with the reason.
"""
import hashlib
import json
import sys
from pathlib import Path

ALGORITHM = "sanxiang-draw-v1"
FILES = ("plan", "targets", "inspectors", "conflicts", "commitment", "reveal", "result")
POOL_FILES = ("plan", "targets", "inspectors", "conflicts")


def canonical(obj):
    """Canonical JSON bytes: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def digest(obj):
    """H(x): SHA-256 of canonical JSON, hex."""
    return hashlib.sha256(canonical(obj)).hexdigest()


def commitment_document(draw_id, plan, targets, inspectors, conflicts, secret_sha256, public_value_source,
                        draw_on):
    """What is published before the draw (commitment.json)."""
    return {"algorithm": ALGORITHM, "draw": draw_id, "plan_sha256": digest(plan), "targets_sha256": digest(targets),
            "inspectors_sha256": digest(inspectors), "conflicts_sha256": digest(conflicts),
            "secret_sha256": secret_sha256,
            "public_value_source": public_value_source, "draw_on": draw_on}


def normalize_public_value(value):
    """The public value as hashed: spaces of any kind collapsed to one, trimmed (typing must not matter)."""
    return " ".join(str(value or "").split())


def derive_seed(secret_hex, public_value):
    """seed = SHA-256(secret ‖ public value), hex."""
    return hashlib.sha256(bytes.fromhex(secret_hex) + normalize_public_value(public_value).encode("utf-8")).hexdigest()


def _rank(seed, *parts):
    return hashlib.sha256(bytes.fromhex(seed) + "|".join(("",) + parts).encode("utf-8")).hexdigest()


def eligible(inspector, day):
    """Whether an inspector's certificate may be used on `day` (ISO date strings compare as dates)."""
    return inspector["status"] == "有效" and inspector["valid_from"] <= day <= inspector["valid_to"]


def strata(plan, targets):
    """[(category, risk or None, ratio %, [targets])] in drawing order."""
    with_risk = plan.get("risk_ratio") is not None
    groups = {}
    for target in targets:
        if target["category"] not in plan["ratios"]:
            continue
        key = (target["category"], bool(target["risk"]) if with_risk else None)
        groups.setdefault(key, []).append(target)
    result = []
    for (category, risk), members in sorted(groups.items(), key=lambda kv: (kv[0][0], bool(kv[0][1]))):
        ratio = plan["risk_ratio"] if risk else plan["ratios"][category]
        result.append((category, risk, ratio, members))
    return result


def draw(seed, plan, targets, inspectors, conflicts, draw_on):
    """The result of the rule (result.json without the seed): strata, selected targets, unassigned."""
    k = plan["inspectors_per_target"]
    barred = {(cert, uscc) for cert, uscc in conflicts}
    pool = sorted((i for i in inspectors if eligible(i, draw_on)), key=lambda i: i["cert_no"])
    load = {i["cert_no"]: 0 for i in pool}
    summary, selected, unassigned = [], [], []
    for category, risk, ratio, members in strata(plan, targets):
        wanted = -(-len(members) * ratio // 100)
        ranked = sorted(members, key=lambda t: (_rank(seed, "target", t["uscc"]), t["uscc"]))[:wanted]
        summary.append({"category": category, "risk": risk, "ratio": ratio, "pool": len(members),
                        "drawn": len(ranked)})
        for target in ranked:
            uscc = target["uscc"]
            free = [i["cert_no"] for i in pool if (i["cert_no"], uscc) not in barred]
            entry = {"uscc": uscc, "name": target["name"], "category": category, "inspectors": []}
            if len(free) < k:
                unassigned.append({"uscc": uscc, "name": target["name"], "eligible": len(free),
                                   "reason": f"可派执法人员{len(free)}人，少于{k}人（其余回避或证件无效）"})
            else:
                chosen = sorted(free, key=lambda c: (load[c], _rank(seed, "inspector", uscc, c), c))[:k]
                for cert in chosen:
                    load[cert] += 1
                entry["inspectors"] = sorted(chosen)
            selected.append(entry)
    return {"algorithm": ALGORITHM, "strata": summary, "selected": selected, "unassigned": unassigned}


def result_document(seed, plan, targets, inspectors, conflicts, draw_on):
    return {**draw(seed, plan, targets, inspectors, conflicts, draw_on), "seed": seed}


# -- checking the published files -------------------------------------------------------------------

def check(files, commitment=None):
    """[(ok, message)] for the published `files` (name -> parsed JSON); `commitment`: the value seen
    published before the draw, if the checker kept it."""
    lines = []
    doc = files["commitment"]
    value = digest(doc)
    lines.append((commitment is None or commitment.lower() == value,
                  f"承诺值 commitment = {value}" + ("" if commitment is None else
                                                  ("，与事先公布的一致" if commitment.lower() == value else
                                                   f"，与事先公布的 {commitment} 不一致"))))
    for name in POOL_FILES:
        ok = digest(files[name]) == doc.get(f"{name}_sha256")
        lines.append((ok, f"{name}.json 的哈希{'与承诺一致' if ok else '与承诺不符：文件被改动'}"))
    reveal = files["reveal"]
    ok = hashlib.sha256(bytes.fromhex(reveal["secret"])).hexdigest() == doc.get("secret_sha256")
    lines.append((ok, "密钥与承诺中的密钥哈希一致" if ok else "密钥与承诺中的密钥哈希不符"))
    seed = derive_seed(reveal["secret"], reveal["public_value"])
    ok = seed == reveal.get("seed") == files["result"].get("seed")
    lines.append((ok, f"种子 = SHA-256(密钥 ‖ “{normalize_public_value(reveal['public_value'])}”) = {seed}"
                      + ("" if ok else "，与公布的种子不符")))
    expected = result_document(seed, files["plan"], files["targets"], files["inspectors"], files["conflicts"],
                               doc["draw_on"])
    ok = canonical(expected) == canonical(files["result"])
    lines.append((ok, "按规则重新抽取，结果与公布的完全一致" if ok else "按规则重新抽取，结果与公布的不一致"))
    return lines


def load_folder(folder):
    folder = Path(folder)
    return {name: json.loads((folder / f"{name}.json").read_text(encoding="utf-8")) for name in FILES}


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    commitment = None
    if "--commitment" in argv:
        at = argv.index("--commitment")
        commitment = argv[at + 1] if at + 1 < len(argv) else ""
        del argv[at:at + 2]
    if len(argv) != 1:
        print("用法：python3 verify_draw.py 文件夹 [--commitment 事先公布的承诺值]\n"
              f"文件夹中应有：{'、'.join(n + '.json' for n in FILES)}（均可在抽查公示页下载）")
        return 2
    try:
        files = load_folder(argv[0])
        lines = check(files, commitment)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"FAIL 文件缺失或格式不对：{exc.__class__.__name__} {exc}")
        return 1
    for ok, message in lines:
        print(("OK   " if ok else "FAIL ") + message)
    good = all(ok for ok, _ in lines)
    print("核验通过：抽取结果由事先承诺的数据和规则得出。" if good else "核验未通过：见上面标 FAIL 的行。")
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
