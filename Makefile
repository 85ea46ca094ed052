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
#   make dist       $(BUILD)/dist/hive-VERSION-linux-ARCH.tar.gz and SHA256SUMS (reproducible)
#   make deb        $(BUILD)/dist/hive_VERSION_ARCH.deb (lintian clean) and SHA256SUMS
#   make format-check   clang-format --dry-run -Werror over the C sources (.clang-format)
#   make format     rewrite the C sources in place with clang-format

PREFIX ?= /usr/local
BUILD ?= build
DEPS := build/deps
CC ?= cc

# $(call shq,TEXT): TEXT as one single-quoted shell word, its own quotes escaped ('\'').
# Every value a recipe hands to the shell goes through it (PREFIX, DESTDIR, the install
# folders, BUILD, DEPS, file names): a PREFIX such as "/x;touch f;#" is a path, never shell.
# Flag lists (CC, OPT, EXTRA_CFLAGS, EXTRA_LDFLAGS) are shell words by design.
# (What make itself expands in a value given on its command line is the caller's to
# control: the CI templates refuse a prefix that is not an absolute path of safe characters.)
shq = '$(subst ','\'',$(1))'
# $(call shqall,WORDS): each word as its own quoted word.
shqall = $(foreach w,$(1),$(call shq,$(w)))

TOOLS := hive-init hive-emit hive-check hive-runbook hive-mcp
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

.PHONY: all deps dist deb check unit bats sanitize valgrind fuzz demo install uninstall clean distclean bench \
	format format-check gitlab-component
.SECONDARY:

all: $(BIN) $(BUILD)/hive.bash

# deps always runs the script: it checks in well under a second that everything is there
deps:
	@sh scripts/deps.sh $(call shq,$(DEPS))

$(DEPS)/lib/libgit2.a $(DEPS)/lib/libcjson.a:
	sh scripts/deps.sh $(call shq,$(DEPS))

$(BUILD)/obj/lib/%.o: lib/%.c lib/*.h | $(DEPS)/lib/libgit2.a
	@mkdir -p $(call shq,$(@D))
	$(CC) $(CFLAGS_ALL) -c $(call shq,$<) -o $(call shq,$@)

# the built-in hook is hooks/pre-push as a C string: an edit of the hook rebuilds hooks.o
$(GEN)/hook-pre-push.h: hooks/pre-push scripts/embed.sh
	@mkdir -p $(call shq,$(@D))
	sh scripts/embed.sh hooks/pre-push >$(call shq,$@.tmp) && mv $(call shq,$@.tmp) $(call shq,$@)

$(BUILD)/obj/lib/hooks.o: $(GEN)/hook-pre-push.h

# the version --version shows (scripts/version.sh, from git describe): checked on every make,
# rewritten only when it changes, so a new commit recompiles version.o and relinks, no more
.PHONY: FORCE
$(GEN)/version.h: FORCE
	@mkdir -p $(call shq,$(@D))
	@sh scripts/version.sh --header >$(call shq,$@.tmp) && \
		if cmp -s $(call shq,$@.tmp) $(call shq,$@); then rm -f $(call shq,$@.tmp); \
		else mv $(call shq,$@.tmp) $(call shq,$@); fi

$(BUILD)/obj/lib/version.o: $(GEN)/version.h

$(BUILD)/libhive.a: $(LIB_OBJ)
	ar rcs $(call shq,$@) $(call shqall,$^)

$(BUILD)/obj/bin/%.o: bin/%.c lib/*.h | $(DEPS)/lib/libgit2.a
	@mkdir -p $(call shq,$(@D))
	$(CC) $(CFLAGS_ALL) -c $(call shq,$<) -o $(call shq,$@)

$(BUILD)/hive-%: $(BUILD)/obj/bin/hive-%.o $(BUILD)/libhive.a
	$(CC) $(OPT) $(EXTRA_CFLAGS) -o $(call shq,$@) $(call shqall,$^) $(LDLIBS_ALL)

# the bash completion, its option lists read from the tools' own tables (--help-options)
$(BUILD)/hive.bash: completions/hive.bash.in scripts/completion.sh $(BIN)
	sh scripts/completion.sh completions/hive.bash.in $(call shq,$(BUILD)) >$(call shq,$@.tmp) && \
		mv $(call shq,$@.tmp) $(call shq,$@)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/libhive.a
	@mkdir -p $(call shq,$(@D))
	$(CC) $(CFLAGS_ALL) -o $(call shq,$@) $(call shq,$<) $(call shq,$(BUILD)/libhive.a) $(LDLIBS_ALL) -lcmocka

check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BIN)
	@BUILD=$(call shq,$(BUILD)) sh tests/run.sh

# the whole suite on an ASan + UBSan build; tests/sanitize.sh also fails on any sanitizer
# report, even inside a test that expected its tool to fail
sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build/san OPT="-O1 -g -fno-omit-frame-pointer" \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
		all $(UNIT_SRC:tests/unit/%.c=build/san/tests/%)
	@HIVE_SAN_LDLIBS=$(call shq,$(LDLIBS_ALL)) sh tests/sanitize.sh build/san

# each tool's main paths under memcheck: zero leaks, zero errors
valgrind: deps all
	@sh tests/valgrind.sh $(call shq,$(BUILD))

# libFuzzer harnesses (tests/fuzz), FUZZ_SECONDS each
FUZZ_SECONDS ?= 30
fuzz: deps
	@sh tests/fuzz/run.sh $(call shq,$(BUILD)) $(call shq,$(FUZZ_SECONDS))

demo: deps all
	@sh scripts/demo.sh $(call shq,$(BUILD))

bench: deps all
	@sh tests/bench/run.sh $(call shq,$(BUILD))

# The GitLab CI/CD component, templates/hive.yml, is made from the include template: run this
# after changing ci-templates/gitlab/hive.gitlab-ci.yml and commit both (gitlab-component.bats
# fails while they disagree).
gitlab-component:
	sh scripts/gitlab-component.sh ci-templates/gitlab/hive.gitlab-ci.yml >templates/hive.yml.tmp && \
		mv templates/hive.yml.tmp templates/hive.yml

# The house layout is .clang-format's (written for clang-format 14, Debian 12's): format-check
# fails on any file that differs from it, format rewrites them. Generated headers are not
# formatted: they are in $(BUILD).
CLANG_FORMAT ?= clang-format
FORMAT_SRC = $(sort $(wildcard lib/*.c lib/*.h bin/*.c tests/unit/*.c tests/fuzz/*.c))

format-check:
	$(CLANG_FORMAT) --dry-run -Werror $(call shqall,$(FORMAT_SRC))

format:
	$(CLANG_FORMAT) -i $(call shqall,$(FORMAT_SRC))

# Where `make install` puts things (DESTDIR is prepended to each).
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
HIVEDATADIR ?= $(DATADIR)/hive
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
# Installed under HIVEDATADIR with their paths: hooks/pre-push, ci-templates/github/…, schemas/…
DATA_HOOKS = $(sort $(shell find hooks -type f 2>/dev/null))
DATA_TEMPLATES = $(sort $(shell find ci-templates -type f 2>/dev/null))
DATA_SCHEMAS = $(sort $(wildcard schemas/*.json))
# Installed as HIVEDATADIR/sql/… (share/hive/sql/postgres.sql: the events export in PostgreSQL)
DATA_SQL = $(sort $(wildcard share/hive/sql/*.sql))

# Refused before anything is installed or removed: an install folder that is empty or not
# an absolute path (a relative PREFIX would install into the source tree).
define check_dirs
	@for d in $(call shq,$(PREFIX)) $(call shq,$(MANDIR)) $(call shq,$(HIVEDATADIR)) \
		$(call shq,$(BASHCOMPDIR)); do \
		case "$$d" in /*) ;; *) echo "make: install folders must be absolute paths: '$$d'" >&2; \
			exit 2 ;; esac; \
	done
endef

install: all
	$(check_dirs)
	install -d $(call shq,$(DESTDIR)$(PREFIX)/bin) $(call shq,$(DESTDIR)$(MANDIR)/man1) \
		$(call shq,$(DESTDIR)$(MANDIR)/man7) $(call shq,$(DESTDIR)$(HIVEDATADIR)/schemas) \
		$(call shq,$(DESTDIR)$(HIVEDATADIR)/sql) $(call shq,$(DESTDIR)$(BASHCOMPDIR))
	install -m 755 $(call shqall,$(BIN)) $(call shq,$(DESTDIR)$(PREFIX)/bin/)
	install -m 644 $(call shqall,$(wildcard man/*.1)) $(call shq,$(DESTDIR)$(MANDIR)/man1/)
	install -m 644 $(call shqall,$(wildcard man/*.7)) $(call shq,$(DESTDIR)$(MANDIR)/man7/)
	install -m 644 $(call shqall,$(DATA_SCHEMAS)) $(call shq,$(DESTDIR)$(HIVEDATADIR)/schemas/)
	install -m 644 $(call shqall,$(DATA_SQL)) $(call shq,$(DESTDIR)$(HIVEDATADIR)/sql/)
	@set -e; dest=$(call shq,$(DESTDIR)$(HIVEDATADIR)); \
	for f in $(call shqall,$(DATA_HOOKS) $(DATA_TEMPLATES)); do \
		mode=644; if [ -x "$$f" ]; then mode=755; fi; \
		echo "install -D -m $$mode $$f $$dest/$$f"; \
		install -D -m "$$mode" "$$f" "$$dest/$$f"; \
	done
	install -m 644 $(call shq,$(BUILD)/hive.bash) $(call shq,$(DESTDIR)$(BASHCOMPDIR)/hive-init)
	@set -e; dest=$(call shq,$(DESTDIR)$(BASHCOMPDIR)); \
	for t in $(call shqall,$(filter-out hive-init,$(TOOLS))); do \
		echo "ln -sf hive-init $$dest/$$t"; \
		ln -sf hive-init "$$dest/$$t"; \
	done

# Removes what install put there (as the source tree lists it), then hive's own folders
# under HIVEDATADIR once they are empty; the shared folders (bin, man1, …) stay.
uninstall:
	$(check_dirs)
	@set -e; bin=$(call shq,$(DESTDIR)$(PREFIX)/bin); comp=$(call shq,$(DESTDIR)$(BASHCOMPDIR)); \
	for t in $(call shqall,$(TOOLS)); do \
		echo "rm -f $$bin/$$t $$comp/$$t"; rm -f "$$bin/$$t" "$$comp/$$t"; \
	done
	@set -e; man=$(call shq,$(DESTDIR)$(MANDIR)); \
	for m in $(call shqall,$(notdir $(wildcard man/*.1))); do \
		echo "rm -f $$man/man1/$$m"; rm -f "$$man/man1/$$m"; \
	done; \
	for m in $(call shqall,$(notdir $(wildcard man/*.7))); do \
		echo "rm -f $$man/man7/$$m"; rm -f "$$man/man7/$$m"; \
	done
	@set -e; dir=$(call shq,$(DESTDIR)$(HIVEDATADIR)); \
	for f in $(call shqall,$(DATA_HOOKS) $(DATA_TEMPLATES) $(DATA_SCHEMAS)); do \
		rm -f "$$dir/$$f"; \
	done; \
	for f in $(call shqall,$(notdir $(DATA_SQL))); do rm -f "$$dir/sql/$$f"; done; \
	echo "rm -f $$dir/hooks/… $$dir/ci-templates/… $$dir/schemas/… $$dir/sql/…"; \
	if [ -d "$$dir" ]; then find "$$dir" -depth -type d -empty -delete; fi

# Releases (scripts/dist.sh; README, "Installing a release"): the tools built again in
# $(BUILD)/release with paths mapped out of them, staged with `make install`, packed with
# fixed times, owners and order, so two builds of one commit are byte-identical.
dist: deps
	@sh scripts/dist.sh tarball $(call shq,$(BUILD))

deb: deps
	@sh scripts/dist.sh deb $(call shq,$(BUILD))

clean:
	rm -rf $(call shqall,$(BUILD)/obj $(BUILD)/tests $(BUILD)/gen $(BUILD)/hive.bash \
		$(BUILD)/libhive.a $(BIN) $(BUILD)/fuzz $(BUILD)/release $(BUILD)/dist) build/san

distclean:
	rm -rf build
