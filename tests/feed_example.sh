#!/bin/sh
# feed_example.sh FEED CSV: runs examples/host/feed.c's program (samples
# pushed through the C API, no Lua) on CSV (timestamp,value) and checks
# that it reports the anomaly at 2014-04-15 15:44:00 that `moonwatch
# detect` finds with the default pipeline; then on the same rows as two
# interleaved series, each of which must report exactly the anomalies of
# the single run; then that a bad pipeline parameter is an error naming it.
set -u
feed=$1 csv=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mw-feed.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

"$feed" <"$csv" >"$tmp/one" || { echo "FAIL: feed exited with $?"; exit 1; }
cat "$tmp/one"
grep -q '^value,2014-04-15 15:44:00,76.874,' "$tmp/one" ||
    { echo "FAIL: no anomaly at 2014-04-15 15:44:00"; exit 1; }

awk -F, 'NR > 1 { print "a," $0; print "b," $0 }' "$csv" | "$feed" >"$tmp/two" ||
    { echo "FAIL: feed exited with $? on two series"; exit 1; }
for s in a b; do
    sed -n "s/^$s,//p" "$tmp/two" >"$tmp/$s"
    sed 's/^value,//' "$tmp/one" | cmp -s - "$tmp/$s" ||
        { echo "FAIL: series $s does not give the anomalies of the single run"; exit 1; }
done

if "$feed" default colour=red <"$csv" >/dev/null 2>"$tmp/err"; then
    echo "FAIL: an unknown parameter was accepted"; exit 1
fi
grep -q "has no parameter 'colour'" "$tmp/err" || { echo "FAIL: error text: $(cat "$tmp/err")"; exit 1; }
echo "feed_example: ok ($(wc -l <"$tmp/one") anomalies, the same for two interleaved series)"
