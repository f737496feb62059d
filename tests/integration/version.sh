# barge --version: the project version, the git revision of the source it
# was built from, and each linked library's version as Debian installed it.
. "$(dirname "$0")/lib.bash"

expect_exit 0 "barge --version" "$BARGE" --version
cp "$WORK/last.out" version.out
want=$(sed -n 's/^project(barge VERSION \([0-9.]*\).*/\1/p' "$BARGE_SRC/CMakeLists.txt")
check "first line: barge $want (git REV)" grep -qE "^barge $want \(git [0-9a-f]{7,}(-dirty)?\)$" version.out
if git -C "$BARGE_SRC" rev-parse HEAD >/dev/null 2>&1; then
	rev=$(sed -n 's/^barge [^ ]* (git \([0-9a-f]*\).*/\1/p' version.out)
	# the build may be of an older commit than HEAD (a test run after a
	# commit, before a rebuild), never of something unknown to git
	check "the revision is a commit of this repository" git -C "$BARGE_SRC" cat-file -e "$rev^{commit}"
fi
expect_exit 0 "barge version" "$BARGE" version
check "the same as --version" cmp -s "$WORK/last.out" version.out

# each library as installed: the Debian package's upstream version
lib_version() { # lib_version NAME PACKAGE: ok when barge names NAME/<its version>
	local v
	v=$(dpkg-query -W -f='${Version}' "$2" 2>/dev/null) || { bad "no package $2"; return; }
	v=${v#*:}
	v=${v%%-*}
	v=${v%%+*}
	v=${v%.dfsg*}
	check "$1 $v (from $2)" grep -qE "(^| )$1/$v( |$)" version.out
}
lib_version libpq libpq5
lib_version sqlite libsqlite3-0
lib_version libyaml libyaml-0-2
lib_version xxhash libxxhash0
lib_version pcre2 libpcre2-8-0
lib_version zlib zlib1g
lib_version zstd libzstd1
lib_version libsodium libsodium23
# the MySQL driver is built when libmariadb is there (CMakeLists.txt)
# (Connector/C's own version, which Debian's package number, the server's,
# does not carry: its pkg-config file does)
if pkg-config --exists libmariadb; then
	v=$(pkg-config --modversion libmariadb)
	check "libmariadb $v" grep -qE "(^| )libmariadb/$v( |$)" version.out
fi
finish
