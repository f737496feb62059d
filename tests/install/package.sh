# scripts/package on the build under test: the .deb's name and control
# (Depends covering the package of every library barge and libbarge.so
# link), its files, and the package at work from a root it is extracted
# into with dpkg -x: every library resolves, barge --version, the demo's
# copy of a sample shop, the installed man page and completion.
BARGE=${BARGE:-unused}
. "$BARGE_SRC/tests/integration/lib.bash"
: "${BUILD_DIR:?}" "${MKSHOP:?}"

expect_exit 0 "scripts/package" env BUILD_DIR="$BUILD_DIR" "$BARGE_SRC/scripts/package" "$WORK/out"
version=$("$BUILD_DIR/barge" --version | sed -n '1s/^barge \([^ ]*\) .*/\1/p')
arch=$(dpkg --print-architecture)
deb="$WORK/out/barge_${version}_${arch}.deb"
check "barge_${version}_${arch}.deb made" [ -f "$deb" ]
check "its path printed" grep -qxF "$deb" "$WORK/last.out"
field() { dpkg-deb -f "$deb" "$1"; }
check "Package: barge" [ "$(field Package)" = barge ]
check "Version: $version" [ "$(field Version)" = "$version" ]
check "Architecture: $arch" [ "$(field Architecture)" = "$arch" ]

# Depends names the package behind each NEEDED library of barge and
# libbarge.so, as dpkg -S finds them on this machine
depends=$(field Depends)
root="$WORK/root"
rm -rf "$root"
dpkg -x "$deb" "$root"
for obj in "$root/usr/bin/barge" "$root"/usr/lib/libbarge.so.*.*; do
	for lib in $(objdump -p "$obj" | awk '$1 == "NEEDED" { print $2 }'); do
		path=$(LD_LIBRARY_PATH="$root/usr/lib" ldd "$obj" | awk -v l="$lib" '$1 == l { print $3 }')
		[ -n "$path" ] || { bad "$lib of $(basename "$obj") not found"; continue; }
		pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
		[ -n "$pkg" ] || pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
		check "Depends has $pkg (for $lib of $(basename "$obj"))" \
			grep -qE "(^|, )$pkg( |,|$)" <<<"$depends"
	done
done
check "Depends has libpq5 and libsqlite3-0" grep -q 'libpq5.*libsqlite3-0' <<<"$depends"

for f in usr/bin/barge usr/include/barge/barge.h usr/lib/libbarge.a usr/lib/pkgconfig/barge.pc \
	usr/share/man/man1/barge.1 usr/share/man/man1/barge-copy.1 usr/share/man/man5/barge-plan.5 \
	usr/share/bash-completion/completions/barge usr/share/zsh/vendor-completions/_barge; do
	check "the package has /$f" [ -e "$root/$f" ]
done
check "libbarge.so.0 in the package" [ -e "$root/usr/lib/libbarge.so.0" ]
check "nothing outside /usr" [ "$(ls "$root")" = usr ]
check "every library of barge resolves" bash -c "! ldd '$root/usr/bin/barge' | grep -q 'not found'"
check "every library of libbarge.so resolves" bash -c "! ldd '$root'/usr/lib/libbarge.so.0 | grep -q 'not found'"

# the packaged barge at work: the demo's copy
expect_exit 0 "packaged barge --version" "$root/usr/bin/barge" --version
check "it is version $version" grep -q "^barge $version " "$WORK/last.out"
"$MKSHOP" shop.db --customers 2000 --orders 3000 >/dev/null 2>&1 || bad "mkshop"
expect_exit 0 "packaged barge copies the shop" "$root/usr/bin/barge" copy sqlite:shop.db sqlite:shop-copy.db \
	--state state.db --jobs 2
for t in customers orders order_items audit_log; do
	check "$t copied exactly" same_table shop.db shop-copy.db $t
done
expect_exit 0 "packaged barge verifies the copy" "$root/usr/bin/barge" verify sqlite:shop.db sqlite:shop-copy.db
check "the packaged man page renders" bash -c "groff -man -Tascii -P-cbou '$root/usr/share/man/man1/barge-copy.1' | grep -q -- '--jobs'"
finish
