#!/bin/bash
# Run the test programs and end-to-end scripts; print one total line:
#   N passed, N failed, N skipped
# A test that dies without reporting counts as one failure.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0 skipped=0

run_one() {
	local name=$1 out rc p f s; shift
	echo "== $name"
	out=$(timeout 600 "$@" 2>&1); rc=$?
	echo "$out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed'
	p=$(grep -c '^ok - ' <<<"$out")
	f=$(grep -c '^not ok - ' <<<"$out")
	s=$(grep -c '^skip - ' <<<"$out")
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "not ok - $name exited with status $rc"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

# Arguments pick tests (programs or e2e scripts); none means all of them.
if [ $# = 0 ]; then
	set -- build/test_* tests/e2e/*.sh
fi
for t in "$@"; do
	case $t in
	*/lib.sh) ;;
	*.sh) run_one "$(basename "$t" .sh)" bash "$t" ;;
	*) [ -x "$t" ] && run_one "$(basename "$t")" "$t" ;;
	esac
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
