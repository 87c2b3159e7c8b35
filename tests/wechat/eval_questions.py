"""`make eval`: how many of the residents' questions in questions.yaml get the right answer.

Each question goes through the router as a real text message would (the keyword table, the
understanders, the search); what it resolved to is compared with the expected answer. Prints the score
and every miss; exits 1 below the target. tests/wechat/test_questions.py runs the same on SQLite and
PostgreSQL.

    .venv/bin/python -m tests.wechat.eval_questions [--quiet]
"""
import sys
import tempfile
from pathlib import Path

import yaml
from wechatpy import parse_message

ROOT = Path(__file__).resolve().parent.parent.parent
sys.path.insert(0, str(ROOT))

from handlers.cli.chat import inbound_xml  # noqa: E402
from handlers.wechat import answers  # noqa: E402
from handlers.wechat.router import Context, router  # noqa: E402

QUESTIONS = Path(__file__).with_name("questions.yaml")
TARGET = 0.9
# What a handler reached by keyword or intent means, in the corpus's words.
HANDLER_KEYS = {"help_menu": "help", "help_text": "help", "start": "complaint", "query": "progress",
                "complaint_channels": "channels", "legal_basis": "basis"}


def corpus(path=QUESTIONS):
    """(question, [acceptable answers]) pairs."""
    with open(path, encoding="utf-8") as fh:
        entries = yaml.safe_load(fh)["questions"]
    return [(str(q), [a.strip() for a in str(expected).split("|")]) for q, expected in entries]


def outcome(ctx):
    """The answer keys the message of `ctx` resolves to: a document's key for a searched answer (all of
    them for a list of items), a name for a conversation (help, complaint …), suggest/none when unsure."""
    handler, args = router.resolve(ctx)
    name = getattr(handler, "__name__", "")
    if handler in (answers.ask, answers.unanswered):
        result = answers.understood(ctx, args[0])
        if result.mode == "answer":
            return [result.hits[0].doc.key]
        if result.mode == "list":
            return result.keys
        return [result.mode]
    return [HANDLER_KEYS.get(name, name)]


def right(got, expected):
    return any(g == e or g.startswith(e + ":") for g in got for e in expected)


def evaluate(app, questions=None):
    """(share right, [(question, expected, got) for each miss])."""
    questions = questions or corpus()
    config = app.config["SANXIANG"]
    misses = []
    with app.app_context():
        for n, (question, expected) in enumerate(questions):
            message = parse_message(inbound_xml(f"o_eval_{n}", text=question))
            ctx = Context(message=message, config=config, cache=app.extensions["answer_cache"])
            got = outcome(ctx)
            if not right(got, expected):
                misses.append((question, expected, got))
    return 1 - len(misses) / len(questions), misses


def report(score, misses, total, out=sys.stdout):
    for question, expected, got in misses:
        print(f"MISS  {question!r:30}  expected {' | '.join(expected)}  got {', '.join(got[:4])}", file=out)
    print(f"{total - len(misses)}/{total} right = {score:.1%} (target {TARGET:.0%})", file=out)


def main():
    import bot
    from models.seed import prepare_database

    with tempfile.TemporaryDirectory() as tmp:
        app = bot.create_app({"SANXIANG": {"database": {"url": f"sqlite:///{tmp}/eval.db"}}, "TESTING": True})
        prepare_database(app.config["SANXIANG"])
        questions = corpus()
        score, misses = evaluate(app, questions)
        report(score, misses, len(questions))
    return 0 if score >= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
