# rtm: Routing Table Manager on System V IPC.  `make help` lists targets.
#
# B is the build prefix: empty for the default in-tree build, so the
# programs land in rtm/rtm, admin/rtm-admin and client/rtm-client;
# variant builds (asan, portable) use build/<name>/.

VERSION =	0.1.0
PREFIX =	/usr/local
DESTDIR =
BINDIR =	$(PREFIX)/bin
SBINDIR =	$(PREFIX)/sbin
LIBDIR =	$(PREFIX)/lib
INCLUDEDIR =	$(PREFIX)/include
MANDIR =	$(PREFIX)/share/man
PKGCONFIGDIR =	$(LIBDIR)/pkgconfig
B =

CC =		cc
OPT =		-O2 -g
CSTD =		-std=c11
WARNINGS =	-Wall -Wextra -Werror -Wshadow -Wpointer-arith \
		-Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
		-Wformat=2 -Wundef -Wwrite-strings -Wvla
CPPFLAGS =	-D_POSIX_C_SOURCE=200809L -D_XOPEN_SOURCE=700 \
		-Iipc -Iclient -DRTM_VERSION=\"$(VERSION)\" $(EXTRA_CPPFLAGS)
CFLAGS =	$(CSTD) $(OPT) $(WARNINGS) $(EXTRA_CFLAGS)
LDFLAGS =	$(EXTRA_LDFLAGS)
LDLIBS =
CUNIT_LIBS =	-lcunit

SAN_FLAGS =	-O1 -g -fno-omit-frame-pointer \
		-fsanitize=address,undefined -fno-sanitize-recover=all

IPC_SRC :=	$(sort $(wildcard ipc/*.c))
RTMD_SRC :=	$(filter-out rtm/main.c,$(sort $(wildcard rtm/*.c)))
ADMIN_SRC :=	$(filter-out admin/main.c,$(sort $(wildcard admin/*.c)))
CLIENT_SRC :=	$(filter-out client/main.c client/example.c,$(sort $(wildcard client/*.c)))
TEST_SRC :=	$(sort $(wildcard tests/test_*.c))
BENCH_SRC :=	$(sort $(wildcard tests/bench/*.c))

LIBIPC =	$(B)ipc/libipc.a
LIBRTMD =	$(B)rtm/librtmd.a
LIBADMIN =	$(B)admin/libadmin.a
LIBRTMC =	$(B)client/librtmc.a

PROGS =		$(B)rtm/rtm $(B)admin/rtm-admin $(B)client/rtm-client \
		$(if $(wildcard client/example.c),$(B)client/rtmc-example)
TESTS :=	$(TEST_SRC:%.c=$(B)%)
TEST_LIBS =	$(LIBRTMD) $(LIBADMIN) $(LIBRTMC) $(LIBIPC)

ALL_SRC :=	$(IPC_SRC) $(RTMD_SRC) $(ADMIN_SRC) $(CLIENT_SRC) \
		$(wildcard rtm/main.c admin/main.c client/main.c client/example.c) \
		$(TEST_SRC) tests/testutil.c tests/sweep.c $(BENCH_SRC)

.PHONY: all check tests asan portable clang musl demo bench clean help cunit \
	fuzz install uninstall valgrind

all: $(PROGS)

$(B)%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(CPPFLAGS) -MMD -MP -c -o $@ $<

$(LIBIPC): $(IPC_SRC:%.c=$(B)%.o)
$(LIBRTMD): $(RTMD_SRC:%.c=$(B)%.o)
$(LIBADMIN): $(ADMIN_SRC:%.c=$(B)%.o)
# The client library carries the ipc objects it needs, so a program
# links with -lrtmc alone.
$(LIBRTMC): $(CLIENT_SRC:%.c=$(B)%.o) $(IPC_SRC:%.c=$(B)%.o)
$(LIBIPC) $(LIBRTMD) $(LIBADMIN) $(LIBRTMC):
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $^

$(B)rtm/rtm: $(B)rtm/main.o $(LIBRTMD) $(LIBIPC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)admin/rtm-admin: $(B)admin/main.o $(LIBADMIN) $(LIBIPC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)client/rtm-client: $(B)client/main.o $(LIBRTMC) $(LIBIPC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(B)client/rtmc-example: $(B)client/example.o $(LIBRTMC) $(LIBIPC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)tests/test_%: $(B)tests/test_%.o $(B)tests/testutil.o $(TEST_LIBS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(B)tests/testutil.o \
	    $(TEST_LIBS) $(CUNIT_LIBS) $(LDLIBS)
$(B)tests/sweep: $(B)tests/sweep.o $(LIBIPC)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Test objects need CUnit's headers: make sure it is there first.
$(TEST_SRC:%.c=$(B)%.o) $(B)tests/testutil.o: | cunit
cunit:
	@sh tests/ensure-cunit.sh

tests: all $(TESTS) $(B)tests/sweep

check: tests
	@sh tests/run.sh "$(B)"

asan:
	$(MAKE) B=build/asan/ OPT="$(SAN_FLAGS)" \
	    EXTRA_LDFLAGS="-fsanitize=address,undefined" check

# The suite under valgrind: test programs and the daemon, leaks are errors.
valgrind: tests
	@RTM_VALGRIND=1 sh tests/run.sh "$(B)"

portable:
	$(MAKE) B=build/portable/ EXTRA_CPPFLAGS=-DRTM_PORTABLE check

clang:
	$(MAKE) B=build/clang/ CC=clang all tests

# musl: the programs and libraries only (CUnit is built against glibc).
musl:
	$(MAKE) B=build/musl/ CC=musl-gcc CSTD="-std=c11 -pedantic" all

install: all
	mkdir -p $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man8
	cp $(B)rtm/rtm $(B)admin/rtm-admin $(DESTDIR)$(SBINDIR)/
	cp $(B)client/rtm-client $(DESTDIR)$(BINDIR)/
	cp $(LIBRTMC) $(DESTDIR)$(LIBDIR)/librtmc.a
	cp client/rtmc.h $(DESTDIR)$(INCLUDEDIR)/rtmc.h
	chmod 755 $(DESTDIR)$(SBINDIR)/rtm $(DESTDIR)$(SBINDIR)/rtm-admin \
	    $(DESTDIR)$(BINDIR)/rtm-client
	chmod 644 $(DESTDIR)$(LIBDIR)/librtmc.a $(DESTDIR)$(INCLUDEDIR)/rtmc.h
	printf '%s\n' 'prefix=$(PREFIX)' 'libdir=$(LIBDIR)' \
	    'includedir=$(INCLUDEDIR)' '' 'Name: rtmc' \
	    'Description: rtm client library: mirrored route and ARP tables' \
	    'Version: $(VERSION)' 'Libs: -L$${libdir} -lrtmc' \
	    'Cflags: -I$${includedir}' > $(DESTDIR)$(PKGCONFIGDIR)/rtmc.pc
	for m in docs/man/*.[138]; do \
	    [ -f "$$m" ] || continue; \
	    s=$${m##*.}; cp "$$m" $(DESTDIR)$(MANDIR)/man$$s/; \
	    chmod 644 $(DESTDIR)$(MANDIR)/man$$s/$${m##*/}; \
	done
	for f in $$(sh docs/man/functions.sh client/rtmc.h); do \
	    echo '.so man3/rtmc.3' > $(DESTDIR)$(MANDIR)/man3/$$f.3; \
	done

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/rtm $(DESTDIR)$(SBINDIR)/rtm-admin \
	    $(DESTDIR)$(BINDIR)/rtm-client $(DESTDIR)$(LIBDIR)/librtmc.a \
	    $(DESTDIR)$(INCLUDEDIR)/rtmc.h $(DESTDIR)$(PKGCONFIGDIR)/rtmc.pc \
	    $(DESTDIR)$(MANDIR)/man8/rtm.8 $(DESTDIR)$(MANDIR)/man8/rtm-admin.8 \
	    $(DESTDIR)$(MANDIR)/man1/rtm-client.1 $(DESTDIR)$(MANDIR)/man3/rtmc.3
	for f in $$(sh docs/man/functions.sh client/rtmc.h); do \
	    rm -f $(DESTDIR)$(MANDIR)/man3/$$f.3; \
	done

demo: all
	@sh tests/demo.sh "$(B)"

# The benchmark of docs/performance.md (not part of check): builds its
# harness against the libraries and prints rtm next to raw baselines.
bench: all
	@sh tests/bench/run.sh "$(B)"

# libFuzzer targets (clang): the wire decoder, the admin parser, the
# route table and rtm's state file loader, each run for FUZZ_TIME
# seconds from a seed corpus (the table's from nothing); crashes land in
# build/fuzz.
FUZZ_CC =	clang
FUZZ_TIME =	60
FUZZ_BASE =	-std=c11 -g -O1 -fno-sanitize-recover=all $(CPPFLAGS) -Iadmin
FUZZ_FLAGS =	$(FUZZ_BASE) -fsanitize=fuzzer,address,undefined
fuzz:
	@mkdir -p build/fuzz/corpus/msg build/fuzz/corpus/parser \
	    build/fuzz/corpus/rtable build/fuzz/corpus/state
	$(FUZZ_CC) $(FUZZ_BASE) -fsanitize=address,undefined \
	    -o build/fuzz/mkseeds tests/fuzz/mkseeds.c $(IPC_SRC)
	build/fuzz/mkseeds build/fuzz/corpus/msg
	cp tests/fuzz/corpus/parser/* build/fuzz/corpus/parser/
	cp tests/fuzz/corpus/state/* build/fuzz/corpus/state/
	$(FUZZ_CC) $(FUZZ_FLAGS) -o build/fuzz/fuzz_msg tests/fuzz/fuzz_msg.c \
	    $(IPC_SRC)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o build/fuzz/fuzz_parser \
	    tests/fuzz/fuzz_parser.c $(ADMIN_SRC) $(IPC_SRC)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o build/fuzz/fuzz_rtable \
	    tests/fuzz/fuzz_rtable.c $(IPC_SRC)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o build/fuzz/fuzz_state \
	    tests/fuzz/fuzz_state.c $(filter-out rtm/persist.c,$(RTMD_SRC)) \
	    $(IPC_SRC)
	cd build/fuzz && ./fuzz_msg -max_total_time=$(FUZZ_TIME) \
	    -max_len=65536 -print_final_stats=1 corpus/msg
	cd build/fuzz && ./fuzz_parser -max_total_time=$(FUZZ_TIME) \
	    -max_len=4096 -print_final_stats=1 corpus/parser
	cd build/fuzz && ./fuzz_rtable -max_total_time=$(FUZZ_TIME) \
	    -max_len=2048 -print_final_stats=1 corpus/rtable
	cd build/fuzz && ./fuzz_state -max_total_time=$(FUZZ_TIME) \
	    -max_len=4096 -print_final_stats=1 corpus/state

clean:
	rm -rf build
	find ipc rtm admin client tests -name '*.[oad]' -exec rm -f {} +
	rm -f $(PROGS) $(TESTS) tests/sweep

help:
	@echo "Targets:"
	@echo "  all (default)  build rtm/rtm, admin/rtm-admin, client/rtm-client"
	@echo "  check          build and run the CUnit and end-to-end tests"
	@echo "  asan           run the tests under AddressSanitizer + UBSan"
	@echo "  portable       run the tests with the POSIX fallbacks forced"
	@echo "  valgrind       run the tests, and rtm, under valgrind (leaks fail)"
	@echo "  clang          build everything with clang"
	@echo "  musl           build the programs with musl-gcc -pedantic"
	@echo "  install        install programs, library, header, pkg-config, man pages"
	@echo "  uninstall      remove what install installed"
	@echo "  demo           start rtm, two clients and an admin session"
	@echo "  bench          run the performance benchmark"
	@echo "  fuzz           libFuzzer on the decoder, parser, route table (FUZZ_TIME=s)"
	@echo "  clean          remove build products"
	@echo "Variables: CC, OPT, PREFIX ($(PREFIX)), DESTDIR, B (build prefix),"
	@echo "           FUZZ_TIME (seconds per fuzz target)"

-include $(ALL_SRC:%.c=$(B)%.d)
