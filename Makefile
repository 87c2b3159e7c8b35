# sanxiang — `make run` serves the bot, `make test` runs every test, `make bench` measures.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PYTHON  ?= python3

.PHONY: run demo test bench bench-scale eval soak browser doc-tools init-db clean

$(STAMP): requirements.txt
	# A venv left half-made (interrupted install) is made again rather than trusted.
	$(PY) -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	# The third-party Open311 client the tests drive (issue 16): it pins an older xmltodict than ours, which it
	# does not need for what the tests use, so it is installed without its dependencies.
	$(PY) -m pip install --quiet --no-deps georeport==0.3.1
	touch $(STAMP)

init-db: $(STAMP)
	$(PY) bot.py init-db

run: $(STAMP)
	$(PY) bot.py serve

# The demonstration: four 示例 cases in a database, records and signing key of their own (var/demo/),
# never in the bureau's real case file.
demo: $(STAMP)
	mkdir -p var/demo
	DATABASE_URL=sqlite:///var/demo/sanxiang.db LEDGER_KEY_PATH=var/demo/ledger_ed25519.pem \
	  RECORDS_PATH=var/demo/records $(PY) bot.py serve --demo

# Headless Chromium and a CJK font for the page tests (Debian packages).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then \
	  echo "installing chromium and fonts-noto-cjk"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

# A TrueType CJK font the PDF documents embed (subset), and Graphviz for the review flowchart (Debian packages).
doc-tools:
	@if [ ! -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || [ ! -x /usr/bin/dot ]; then \
	  echo "installing fonts-wqy-microhei and graphviz"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei graphviz >/dev/null; \
	fi

test: $(STAMP) browser doc-tools
	$(PY) -m pytest

# Every part always runs; the exit status is non-zero if any missed a target.
bench: $(STAMP)
	@status=0; $(PY) bench/run.py || status=1; $(PY) bench/ledger_bench.py || status=1; \
	  $(PY) bench/disclosure_bench.py || status=1; exit $$status

# Cost against history (issue 19): databases of N complaints, N case-file entries and two years of daily
# heads, built once through the models' own calls and cached under var/bench-scale/; prints p50/p95.
# BENCH_SCALE_ARGS="--n 1000 --n 100000 --db both" by default; PostgreSQL from BENCH_DATABASE_URL/TEST_DATABASE_URL.
bench-scale: $(STAMP)
	$(PY) bench/scale.py $(BENCH_SCALE_ARGS)

# The production setup (deploy/) on PostgreSQL under load, a killed worker and a PostgreSQL restart
# (of this machine's cluster: do not run it where others' tests use that PostgreSQL). About 3 minutes.
soak: $(STAMP)
	@pg_isready -q -h 127.0.0.1 || pg_ctlcluster --skip-systemctl-redirect "$$(ls /etc/postgresql)" main start
	$(PY) bench/soak.py --duration 60 --connections 32 --workers 4 --pg-restart

# How many of the residents' questions in tests/wechat/questions.yaml get the right answer; lists the misses.
eval: $(STAMP)
	$(PY) -m tests.wechat.eval_questions

clean:
	rm -rf $(VENV) var .pytest_cache
