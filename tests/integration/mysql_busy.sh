# MySQL snapshots on a busy server: while another client commits into
# another database without pause, a copy with two workers and a verify
# with two workers take their snapshots together under FLUSH TABLES WITH
# READ LOCK, so no snapshot is renewed, verify does not stop and the
# target is exact. A source user without the RELOAD privilege gets a
# notice and the binary log comparison instead.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.bash"
. "$HERE/mysql.bash"

my_fresh myb_src
my_fresh myb_churn
my_big myb_src 60000 20000
# The writer: one autocommitted insert after another (each moves the
# binary log) until a row appears in `stop`.
my_sql myb_churn "
CREATE TABLE churn (id int AUTO_INCREMENT PRIMARY KEY, at datetime(6));
CREATE TABLE stop (x int);
DELIMITER //
CREATE PROCEDURE churn() BEGIN
  WHILE (SELECT COUNT(*) FROM stop) = 0 DO INSERT INTO churn (at) VALUES (NOW(6)); END WHILE;
END//
DELIMITER ;"
"${MY[@]}" -D myb_churn -e "CALL churn()" >churn.log 2>&1 &
writer=$!
churned() { my_sql myb_churn "SELECT COUNT(*) FROM churn"; }
# the writer is committing before the copy starts
until [ "$(churned)" -gt 100 ]; do sleep 0.05; done

before=$(churned)
my_fresh myb_dst
expect_exit 0 "copy, 2 jobs, while another client commits" "$BARGE" copy "$(my_url myb_src)" \
	"$(my_url myb_dst)" --state st1.db --jobs 2 --chunk-rows 5000 --batch-rows 1000 \
	--no-progress --report copy.json
check "no snapshot renewed" report_py copy.json "r['snapshot_renewals'] == 0"
check "no warning of a lost snapshot" sh -c '! grep -q "snapshot was lost" last.out'
check "big exact" my_same myb_src myb_dst big id
check "pairs exact" my_same myb_src myb_dst pairs "k1, k2"
expect_exit 0 "verify, 2 jobs, while another client commits" "$BARGE" verify "$(my_url myb_src)" \
	"$(my_url myb_dst)" --jobs 2 --chunk-rows 5000
check "the writer committed during the copy and verify" [ "$(churned)" -gt "$before" ]

# Without RELOAD: the hold is refused with a notice; the copy (writer
# stopped, so the binary log position cannot move) still proves one
# snapshot by the binary log.
my_sql myb_churn "INSERT INTO stop VALUES (1)"
wait "$writer"
check "the writer ended cleanly" [ ! -s churn.log ]
"${MY[@]}" -e "CREATE USER 'noreload'@'127.0.0.1' IDENTIFIED BY '';
	GRANT SELECT, SHOW VIEW ON myb_src.* TO 'noreload'@'127.0.0.1'"
plain_url="${BARGE_MY_URL/barge@/noreload@}/myb_src"
my_fresh myb_dst2
expect_exit 0 "copy from a user without RELOAD" "$BARGE" copy "$plain_url" "$(my_url myb_dst2)" \
	--state st2.db --jobs 2 --chunk-rows 5000 --no-progress --report copy2.json
check "the refused hold is said once per snapshot" grep -q "FLUSH TABLES WITH READ LOCK refused" last.err
check "no snapshot renewed (nothing committed)" report_py copy2.json "r['snapshot_renewals'] == 0"
check "big exact without the hold" my_same myb_src myb_dst2 big id
"${MY[@]}" -e "DROP USER 'noreload'@'127.0.0.1'"
finish
