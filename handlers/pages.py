"""Public disclosure pages (placeholder until the pages land)."""
from flask import Blueprint

bp = Blueprint("pages", __name__)


def install(app):
    app.register_blueprint(bp)
