"""The draw rule itself (models/draw_rule.py), without a database: fair, deterministic, never assigning an
excluded inspector, and any change to a published input is caught by the check."""
import copy
import hashlib
import random

import pytest

from models import draw_rule
from models.draws import uscc_check_char, uscc_problem

DAY = "2026-12-02"
SECRET = "11" * 32


def uscc(n):
    base = f"92150525MA{n:07d}"
    return base + uscc_check_char(base)


def make_targets(counts, risky=()):
    targets, n = [], 0
    for category, count in counts.items():
        for _ in range(count):
            targets.append({"uscc": uscc(n), "name": f"{category}{n}", "category": category, "address": "",
                            "risk": n in risky})
            n += 1
    return targets


def make_inspectors(count, bad=()):
    return [{"cert_no": f"150525{i:05d}", "name": f"人员{i}", "status": "暂扣" if i in bad else "有效",
             "valid_from": "2024-01-01", "valid_to": "2027-12-31"} for i in range(count)]


def plan(ratios, risk_ratio=None, k=2):
    return {"plan": "测试计划", "items": ["旅行社经营活动检查"], "ratios": ratios, "risk_ratio": risk_ratio,
            "inspectors_per_target": k, "period": ["2026-12-01", "2026-12-31"]}


def seeds(count):
    return [hashlib.sha256(f"seed-{i}".encode()).hexdigest() for i in range(count)]


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L"])
def test_valid_unified_social_credit_codes(code):
    assert uscc_problem(code) is None
    assert uscc_problem(code.lower()) is None  # typed in lower case: the same code


@pytest.mark.parametrize("code, words", [
    ("91350100M000100Y44", "校验位"), ("91350100M000100Y4", "18位"), ("91350100M000100O43", "不允许的字符"),
    ("", "18位"),
])
def test_invalid_unified_social_credit_codes(code, words):
    assert words in uscc_problem(code)


def test_every_generated_code_checks_and_one_changed_character_does_not():
    rng = random.Random(7)
    for n in range(300):
        code = uscc(rng.randrange(10**7))
        assert uscc_problem(code) is None
        at = rng.randrange(18)
        other = rng.choice([c for c in draw_rule_chars() if c != code[at]])
        assert uscc_problem(code[:at] + other + code[at + 1:]) is not None


def draw_rule_chars():
    from models.draws import USCC_CHARS
    return USCC_CHARS


def test_the_rule_is_pinned():
    """Published draws are checked with this rule for years: a change to it must be deliberate (a new
    ALGORITHM name), never an accident. The digest below is of the result on fixed inputs."""
    targets = make_targets({"网吧": 9, "旅行社": 4, "娱乐场所": 7}, risky={2, 15})
    result = draw_rule.result_document(seeds(1)[0], plan({"网吧": 50, "旅行社": 100, "娱乐场所": 25}, 100),
                                       targets, make_inspectors(6, bad={4}), [["15052500001", uscc(0)]], DAY)
    assert draw_rule.ALGORITHM == "sanxiang-draw-v1"
    assert draw_rule.digest(result) == "f93a76b3d2976e067ee659ec804047bb832ebfa5ec2952c8212051fa4b897e10"


def chi_square(counts, trials, p):
    expected, variance = trials * p, trials * p * (1 - p)
    return sum((c - expected) ** 2 / variance for c in counts)


# chi-square critical values at p = 0.001: seeds are fixed, so a pass is no accident and never flaky.
CRITICAL = {19: 43.82, 7: 24.32, 11: 31.26}


def test_selection_frequency_matches_the_ratio():
    targets = make_targets({"网吧": 20, "娱乐场所": 8})
    rules = plan({"网吧": 50, "娱乐场所": 25})
    counts = {t["uscc"]: 0 for t in targets}
    trials = 3000
    for seed in seeds(trials):
        for chosen in draw_rule.draw(seed, rules, targets, make_inspectors(4), [], DAY)["selected"]:
            counts[chosen["uscc"]] += 1
    netbars = [counts[t["uscc"]] for t in targets if t["category"] == "网吧"]
    halls = [counts[t["uscc"]] for t in targets if t["category"] == "娱乐场所"]
    assert sum(netbars) == trials * 10 and sum(halls) == trials * 2  # exactly the ratio, every time
    assert chi_square(netbars, trials, 0.5) < CRITICAL[19]
    assert chi_square(halls, trials, 0.25) < CRITICAL[7]


def test_risk_flagged_targets_are_drawn_at_their_own_ratio():
    targets = make_targets({"网吧": 12}, risky={0, 1, 2, 3})
    rules = plan({"网吧": 25}, risk_ratio=100)
    trials = 1000
    counts = {t["uscc"]: 0 for t in targets}
    for seed in seeds(trials):
        for chosen in draw_rule.draw(seed, rules, targets, make_inspectors(4), [], DAY)["selected"]:
            counts[chosen["uscc"]] += 1
    assert all(counts[t["uscc"]] == trials for t in targets if t["risk"])
    plain = [counts[t["uscc"]] for t in targets if not t["risk"]]
    assert sum(plain) == trials * 2  # 25% of 8
    assert chi_square(plain, trials, 0.25) < CRITICAL[7]


def test_inspector_assignment_is_spread_evenly():
    targets = make_targets({"旅行社": 12})
    counts = {i["cert_no"]: 0 for i in make_inspectors(12)}
    trials = 500
    for seed in seeds(trials):
        for chosen in draw_rule.draw(seed, plan({"旅行社": 100}), targets, make_inspectors(12), [], DAY)["selected"]:
            for cert in chosen["inspectors"]:
                counts[cert] += 1
    # 12 targets x 2 inspectors over 12 people: the fewest-load rule gives each exactly 2 per draw
    assert set(counts.values()) == {trials * 2}


def test_exclusions_are_never_violated():
    rng = random.Random(15)
    for seed in seeds(300):
        targets = make_targets({"网吧": rng.randrange(1, 8), "旅行社": rng.randrange(1, 5)})
        inspectors = make_inspectors(rng.randrange(2, 7), bad={rng.randrange(7)})
        inspectors[rng.randrange(len(inspectors))]["valid_to"] = "2026-12-01"  # expired the day before
        conflicts = sorted({(rng.choice(inspectors)["cert_no"], rng.choice(targets)["uscc"]) for _ in range(rng.randrange(6))})
        result = draw_rule.draw(seed, plan({"网吧": 50, "旅行社": 100}), targets, inspectors, conflicts, DAY)
        valid = {i["cert_no"] for i in inspectors if draw_rule.eligible(i, DAY)}
        unassigned = {t["uscc"] for t in result["unassigned"]}
        for chosen in result["selected"]:
            certs = chosen["inspectors"]
            assert set(certs) <= valid
            assert not any((c, chosen["uscc"]) in set(conflicts) for c in certs)
            free = [c for c in valid if (c, chosen["uscc"]) not in set(conflicts)]
            if len(free) >= 2:
                assert len(set(certs)) == 2 and chosen["uscc"] not in unassigned
            else:  # reported, never silently dropped
                assert certs == [] and chosen["uscc"] in unassigned


def test_a_target_everyone_is_excluded_from_is_reported():
    targets = make_targets({"旅行社": 2})
    inspectors = make_inspectors(3, bad={2})
    conflicts = [[inspectors[0]["cert_no"], targets[0]["uscc"]]]
    result = draw_rule.draw(seeds(1)[0], plan({"旅行社": 100}), targets, inspectors, conflicts, DAY)
    assert {t["uscc"] for t in result["selected"]} == {t["uscc"] for t in targets}
    assert [t["uscc"] for t in result["unassigned"]] == [targets[0]["uscc"]]
    assert "少于2人" in result["unassigned"][0]["reason"]


def published(seed_value="03 07 12 19 25 31 + 08"):
    files = {"plan": plan({"网吧": 50, "旅行社": 100}), "targets": make_targets({"网吧": 6, "旅行社": 2}),
             "inspectors": make_inspectors(5), "conflicts": [["15052500001", uscc(0)]]}
    files["commitment"] = draw_rule.commitment_document(1, files["plan"], files["targets"], files["inspectors"],
                                                        files["conflicts"], hashlib.sha256(bytes.fromhex(SECRET)).hexdigest(),
                                                        "双色球2026140期开奖号码", DAY)
    seed = draw_rule.derive_seed(SECRET, seed_value)
    files["reveal"] = {"secret": SECRET, "public_value": seed_value, "seed": seed}
    files["result"] = draw_rule.result_document(seed, files["plan"], files["targets"], files["inspectors"],
                                                files["conflicts"], DAY)
    return files


def test_the_published_files_check():
    files = published()
    lines = draw_rule.check(files, draw_rule.digest(files["commitment"]))
    assert all(ok for ok, _ in lines), lines


def drop_target(f):
    f["targets"].pop()


def add_conflict(f):
    f["conflicts"].append(["15052500002", uscc(1)])


def other_value(f):
    f["reveal"]["public_value"] = "03 07 12 19 25 31 + 09"


def other_seed(f):
    f["reveal"]["seed"] = f["result"]["seed"] = hashlib.sha256(b"chosen later").hexdigest()


def other_secret(f):
    f["reveal"]["secret"] = "22" * 32


def swap_inspector(f):
    chosen = f["result"]["selected"][0]
    chosen["inspectors"] = sorted({"15052500004", "15052500003"} - set(chosen["inspectors"]) | {chosen["inspectors"][0]})[:2]


def other_ratio(f):
    f["plan"]["ratios"]["网吧"] = 60


def recommit_to_new_targets(f):
    # Whoever changes a pool and its hash in the commitment changes the commitment value itself.
    drop_target(f)
    f["commitment"]["targets_sha256"] = draw_rule.digest(f["targets"])


@pytest.mark.parametrize("change", [drop_target, add_conflict, other_value, other_seed, other_secret, swap_inspector,
                                    other_ratio])
def test_changing_any_input_fails_the_check(change):
    files = published()
    commitment = draw_rule.digest(files["commitment"])
    changed = copy.deepcopy(files)
    change(changed)
    assert not all(ok for ok, _ in draw_rule.check(changed, commitment))


def test_a_new_commitment_does_not_match_the_one_published_before():
    files = published()
    commitment = draw_rule.digest(files["commitment"])
    changed = copy.deepcopy(files)
    recommit_to_new_targets(changed)
    changed["result"] = draw_rule.result_document(changed["reveal"]["seed"], changed["plan"], changed["targets"],
                                                  changed["inspectors"], changed["conflicts"], DAY)
    lines = draw_rule.check(changed, commitment)
    assert [ok for ok, _ in lines][0] is False and all(ok for ok, _ in lines[1:])


def test_typing_the_public_value_differently_gives_the_same_seed():
    assert draw_rule.derive_seed(SECRET, " 03 07  12 19 25 31 + 08 ") == draw_rule.derive_seed(SECRET, "03 07 12 19 25 31 + 08")
