# sanxiang — `make run` serves the bot, `make test` runs every test, `make bench` measures.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed
PYTHON  ?= python3

.PHONY: run test bench eval browser init-db clean

$(STAMP): requirements.txt
	# A venv left half-made (interrupted install) is made again rather than trusted.
	$(PY) -m pip --version >/dev/null 2>&1 || $(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $(STAMP)

init-db: $(STAMP)
	$(PY) bot.py init-db

run: $(STAMP)
	$(PY) bot.py serve

# Headless Chromium and a CJK font for the page tests (Debian packages).
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi 'noto.*cjk'; then \
	  echo "installing chromium and fonts-noto-cjk"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	fi

test: $(STAMP) browser
	$(PY) -m pytest

# Both parts always run; the exit status is non-zero if either missed a target.
bench: $(STAMP)
	@status=0; $(PY) bench/run.py || status=1; $(PY) bench/ledger_bench.py || status=1; exit $$status

# How many of the residents' questions in tests/wechat/questions.yaml get the right answer; lists the misses.
eval: $(STAMP)
	$(PY) -m tests.wechat.eval_questions

clean:
	rm -rf $(VENV) var .pytest_cache
