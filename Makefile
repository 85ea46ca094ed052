# Makefile - hive: build, test, demo, install
#
#   make            build build/hive-* (runs scripts/deps.sh first if the static libraries are missing)
#   make deps       install missing Debian packages, build the static libgit2 and cJSON
#   make check      every test suite; ends with "tests: N passed, N failed"
#   make sanitize   the same suites on an ASan + UBSan build
#   make valgrind   each tool's main paths under valgrind memcheck
#   make fuzz       the libFuzzer harnesses, FUZZ_SECONDS each (default 30)
#   make bench      the benchmarks and their table
#   make demo       the main job on a throwaway repository
#   make install    PREFIX=/usr/local DESTDIR=
#   make format-check   clang-format --dry-run -Werror over the C sources (.clang-format)
#   make format     rewrite the C sources in place with clang-format

PREFIX ?= /usr/local
BUILD ?= build
DEPS := build/deps
CC ?= cc

TOOLS := hive-init hive-emit hive-check hive-runbook
LIB_SRC := $(wildcard lib/*.c)
LIB_OBJ := $(LIB_SRC:lib/%.c=$(BUILD)/obj/lib/%.o)
BIN := $(TOOLS:%=$(BUILD)/%)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

WARN := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif
OPT ?= -O2 -g
# Generated sources (scripts/embed.sh, scripts/completion.sh) go to $(GEN): never in the tree.
GEN := $(BUILD)/gen
CFLAGS_ALL = $(WARN) $(OPT) $(EXTRA_CFLAGS) -D_GNU_SOURCE -I$(DEPS)/include -I$(GEN) \
	$(shell pkg-config --cflags yaml-0.1 libcrypto 2>/dev/null)
# Everything but libc is linked statically: no TLS library, no CA bundle, few relocations.
LDLIBS_ALL = -L$(DEPS)/lib -Wl,-Bstatic -lgit2 -lhttp_parser -lz -lyaml -lcrypto -lcjson -lpcre2-8 \
	-Wl,-Bdynamic -lpthread -ldl -lrt $(EXTRA_LDFLAGS)

.PHONY: all deps check unit bats sanitize valgrind fuzz demo install uninstall clean distclean bench \
	format format-check
.SECONDARY:

all: $(BIN) $(BUILD)/hive.bash

# deps always runs the script: it checks in well under a second that everything is there
deps:
	@sh scripts/deps.sh $(DEPS)

$(DEPS)/lib/libgit2.a $(DEPS)/lib/libcjson.a:
	sh scripts/deps.sh $(DEPS)

$(BUILD)/obj/lib/%.o: lib/%.c lib/*.h | $(DEPS)/lib/libgit2.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

# the built-in hook is hooks/pre-push as a C string: an edit of the hook rebuilds hooks.o
$(GEN)/hook-pre-push.h: hooks/pre-push scripts/embed.sh
	@mkdir -p $(@D)
	sh scripts/embed.sh hooks/pre-push >$@.tmp && mv $@.tmp $@

$(BUILD)/obj/lib/hooks.o: $(GEN)/hook-pre-push.h

$(BUILD)/libhive.a: $(LIB_OBJ)
	ar rcs $@ $^

$(BUILD)/obj/bin/%.o: bin/%.c lib/*.h | $(DEPS)/lib/libgit2.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -c $< -o $@

$(BUILD)/hive-%: $(BUILD)/obj/bin/hive-%.o $(BUILD)/libhive.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $@ $^ $(LDLIBS_ALL)

# the bash completion, its option lists read from the tools' own tables (--help-options)
$(BUILD)/hive.bash: completions/hive.bash.in scripts/completion.sh $(BIN)
	sh scripts/completion.sh completions/hive.bash.in $(BUILD) >$@.tmp && mv $@.tmp $@

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libhive.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS_ALL) -o $@ $< $(BUILD)/libhive.a $(LDLIBS_ALL) -lcmocka

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@BUILD=$(BUILD) sh tests/run.sh

# the whole suite on an ASan + UBSan build; tests/sanitize.sh also fails on any sanitizer
# report, even inside a test that expected its tool to fail
sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build/san OPT="-O1 -g -fno-omit-frame-pointer" \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
		all $(UNIT_SRC:tests/unit/%.c=build/san/tests/%)
	@sh tests/sanitize.sh build/san

# each tool's main paths under memcheck: zero leaks, zero errors
valgrind: deps all
	@sh tests/valgrind.sh $(BUILD)

# libFuzzer harnesses (tests/fuzz), FUZZ_SECONDS each
FUZZ_SECONDS ?= 30
fuzz: deps
	@sh tests/fuzz/run.sh $(BUILD) $(FUZZ_SECONDS)

demo: deps all
	@sh scripts/demo.sh $(BUILD)

bench: deps all
	@sh tests/bench/run.sh $(BUILD)

# The house layout is .clang-format's (written for clang-format 14, Debian 12's): format-check
# fails on any file that differs from it, format rewrites them. Generated headers are not
# formatted: they are in $(BUILD).
CLANG_FORMAT ?= clang-format
FORMAT_SRC = $(sort $(wildcard lib/*.c lib/*.h bin/*.c tests/unit/*.c tests/fuzz/*.c))

format-check:
	$(CLANG_FORMAT) --dry-run -Werror $(FORMAT_SRC)

format:
	$(CLANG_FORMAT) -i $(FORMAT_SRC)

# Where `make install` puts things (DESTDIR is prepended to each).
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
HIVEDATADIR ?= $(DATADIR)/hive
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
# Installed under HIVEDATADIR with their paths: hooks/pre-push, ci-templates/github/…, schemas/…
DATA_HOOKS = $(sort $(shell find hooks -type f 2>/dev/null))
DATA_TEMPLATES = $(sort $(shell find ci-templates -type f 2>/dev/null))
DATA_SCHEMAS = $(sort $(wildcard schemas/*.json))

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(HIVEDATADIR)/schemas $(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/*.7 $(DESTDIR)$(MANDIR)/man7/
	install -m 644 $(DATA_SCHEMAS) $(DESTDIR)$(HIVEDATADIR)/schemas/
	@set -e; for f in $(DATA_HOOKS) $(DATA_TEMPLATES); do \
		mode=644; if [ -x "$$f" ]; then mode=755; fi; \
		echo "install -D -m $$mode $$f $(DESTDIR)$(HIVEDATADIR)/$$f"; \
		install -D -m $$mode "$$f" "$(DESTDIR)$(HIVEDATADIR)/$$f"; \
	done
	install -m 644 $(BUILD)/hive.bash $(DESTDIR)$(BASHCOMPDIR)/hive-init
	@set -e; for t in $(filter-out hive-init,$(TOOLS)); do \
		echo "ln -sf hive-init $(DESTDIR)$(BASHCOMPDIR)/$$t"; \
		ln -sf hive-init "$(DESTDIR)$(BASHCOMPDIR)/$$t"; \
	done

# Removes what install put there (as the source tree lists it), then hive's own folders
# under HIVEDATADIR once they are empty; the shared folders (bin, man1, …) stay.
uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(PREFIX)/bin/%)
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man1/%,$(wildcard man/*.1))
	rm -f $(patsubst man/%,$(DESTDIR)$(MANDIR)/man7/%,$(wildcard man/*.7))
	rm -f $(TOOLS:%=$(DESTDIR)$(BASHCOMPDIR)/%)
	rm -f $(addprefix $(DESTDIR)$(HIVEDATADIR)/,$(DATA_HOOKS) $(DATA_TEMPLATES) $(DATA_SCHEMAS))
	if [ -d $(DESTDIR)$(HIVEDATADIR) ]; then \
		find $(DESTDIR)$(HIVEDATADIR) -depth -type d -empty -delete; fi

clean:
	rm -rf $(BUILD)/obj $(BUILD)/tests $(BUILD)/gen $(BUILD)/hive.bash $(BUILD)/libhive.a $(BIN) \
		$(BUILD)/fuzz build/san

distclean:
	rm -rf build
