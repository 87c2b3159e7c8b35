"""0004 — 公众问答: the FAQ of common questions with their sourced answers, the synonym list that maps
residents' words to the bureau's, and the questions that got no good answer (text only, no openid)."""
from peewee import CharField, DateTimeField, IntegerField, Model, TextField


def up(migrator, db):
    class Faq(Model):
        key = CharField(unique=True)
        question = CharField()
        phrasings = TextField(default="")
        keywords = CharField(default="")
        answer = TextField()
        source = TextField()
        kind = CharField(default="问答")
        seq = IntegerField(default=0)

        class Meta:
            database = db
            table_name = "faq"

    class Synonym(Model):
        term = CharField(unique=True)
        means = CharField()

        class Meta:
            database = db
            table_name = "synonym"

    class UnansweredQuestion(Model):
        text = CharField(max_length=200)
        outcome = CharField()
        guess = CharField(default="")
        asked_at = DateTimeField(index=True)

        class Meta:
            database = db
            table_name = "unanswered_question"

    db.create_tables([Faq, Synonym, UnansweredQuestion])


def down(migrator, db):
    for table in ("unanswered_question", "synonym", "faq"):
        db.execute_sql(f"DROP TABLE {table}")
