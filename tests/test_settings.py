"""settings.py, the one reader of the environment: every variable lands in the configuration."""
import settings


def test_public_base_url_defaults_to_the_address_served():
    assert settings.load_config(environ={})["server"]["public_base_url"] == "http://127.0.0.1:8080"
    moved = settings.load_config(environ={"PORT": "9123"})
    assert moved["server"]["port"] == 9123 and moved["server"]["public_base_url"] == "http://127.0.0.1:9123"
    public = settings.load_config(environ={"PORT": "9123", "PUBLIC_BASE_URL": "https://zhifa.example.cn/"})
    assert public["server"]["public_base_url"] == "https://zhifa.example.cn"


def test_secrets_and_paths_come_from_the_environment():
    config = settings.load_config(environ={
        "BADGE_SECRET": "s", "BADGE_PHOTO_DIR": "/srv/photos", "BADGE_FONT": "/f.ttc", "STAFF_TOKEN": "t",
        "OPEN311_API_KEYS": " k1, k2 ,,", "LEDGER_KEY_PATH": "/k.pem", "RECORDS_PATH": "/r",
        "COMPLAINT_EVIDENCE_PATH": "/e", "DATABASE_URL": "postgresql://db/x", "REDIS_URL": "redis://r"})
    badges = config["badges"]
    assert (badges["secret"], badges["photo_dir"], badges["font"], badges["staff_token"]) == ("s", "/srv/photos",
                                                                                              "/f.ttc", "t")
    assert config["complaints"]["open311"]["api_keys"] == ["k1", "k2"]
    assert config["ledger"]["private_key_path"] == "/k.pem" and config["evidence"]["store_path"] == "/r"
    assert config["complaints"]["evidence_dir"] == "/e" and config["database"]["url"] == "postgresql://db/x"
    assert config["redis"]["url"] == "redis://r"


def test_nothing_set_leaves_the_defaults():
    config = settings.load_config(environ={})
    assert "secret" not in config["badges"] and config["complaints"]["open311"]["api_keys"] == []
    assert config["database"]["url"] == "sqlite:///var/sanxiang.db"
