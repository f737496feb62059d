# cmake --install into a temporary prefix, then the public API's example
# (examples/copy_verify.c) built against the installed library with
# `pkg-config --cflags --libs barge` alone, linked with the shared library
# and then the static one, and run: a copy and a verify.
BARGE=${BARGE:-unused}
. "$BARGE_SRC/tests/integration/lib.bash"
: "${BUILD_DIR:?}" "${LIBDIR:?}"
T="$WORK/prefix"

expect_exit 0 "cmake --install" cmake --install "$BUILD_DIR" --prefix "$T"
check "barge installed" [ -x "$T/bin/barge" ]
check "headers installed" [ -f "$T/include/barge/barge.h" ] && [ -f "$T/include/barge/driver.h" ]
check "man pages installed" [ -f "$T/share/man/man1/barge-copy.1" ] && [ -f "$T/share/man/man5/barge-plan.5" ]
check "static library installed" [ -f "$T/$LIBDIR/libbarge.a" ]
soname=$(objdump -p "$T/$LIBDIR/libbarge.so" 2>/dev/null | awk '$1 == "SONAME" { print $2 }')
check "shared library has a SONAME ($soname)" [ "$soname" = "libbarge.so.0" ]
check "SONAME link installed" [ -L "$T/$LIBDIR/libbarge.so.0" ]
version=$("$T/bin/barge" --version | head -1 | awk '{ print $2 }')
check "the real file carries the version ($version)" [ -f "$T/$LIBDIR/libbarge.so.$version" ]

export PKG_CONFIG_PATH="$T/$LIBDIR/pkgconfig"
check "pkg-config knows barge" pkg-config --exists barge
check "pkg-config version is barge's" [ "$(pkg-config --modversion barge)" = "$version" ]
flags=$(pkg-config --cflags --libs barge)
check "cflags point into the prefix" bash -c "pkg-config --cflags barge | grep -q -- '-I$T'"

# shared: only the installed library (no build tree on the path)
expect_exit 0 "example builds against the shared library" \
	cc ${EXAMPLE_CFLAGS:-} -o example-shared "$BARGE_SRC/examples/copy_verify.c" $flags
check "linked with libbarge.so.0" bash -c "LD_LIBRARY_PATH='$T/$LIBDIR' ldd example-shared | grep -q 'libbarge.so.0 => $T'"

# static: libbarge.a, and its private dependencies (shared: libpq's own
# --static list wants libpgcommon.a, which Debian does not ship)
sflags="$(pkg-config --cflags barge) $(pkg-config --variable=libdir barge)/libbarge.a $(pkg-config --libs $(pkg-config --print-requires-private barge)) -lpthread -lm"
expect_exit 0 "example builds against the static library" \
	cc ${EXAMPLE_CFLAGS:-} -o example-static "$BARGE_SRC/examples/copy_verify.c" $sflags
check "static build does not need libbarge.so" bash -c "! ldd example-static | grep -q libbarge"

sqlite3 src.db <<'SQL'
CREATE TABLE people(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120)
INSERT INTO people SELECT i, 'person ' || i FROM n;
SQL
for kind in shared static; do
	rm -f dst-$kind.db st-$kind.db
	expect_exit 0 "$kind example copies and verifies" env LD_LIBRARY_PATH="$T/$LIBDIR" \
		./example-$kind sqlite:src.db sqlite:dst-$kind.db --state st-$kind.db
	check "$kind: copied" grep -qx 'copied people: 120 rows' "$WORK/last.out"
	check "$kind: equal" grep -qx 'verify: equal' "$WORK/last.out"
done
finish
