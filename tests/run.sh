#!/bin/bash
# Run every test program and end-to-end script; print one total line:
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

for t in build/test_*; do
	[ -x "$t" ] && run_one "$(basename "$t")" "$t"
done
for t in tests/e2e/*.sh; do
	[ "$(basename "$t")" = lib.sh ] && continue
	run_one "$(basename "$t" .sh)" bash "$t"
done
echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
