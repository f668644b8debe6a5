#!/bin/sh
# host_example.sh HOST PIPELINE CSV: runs examples/host/host.c's program
# on CSV and checks that it reports the anomaly at 2014-04-15 15:44:00
# (the one `moonwatch detect` finds with the default pipeline) and exits 0.
set -u
host=$1 pipeline=$2 csv=$3
out=$("$host" "$pipeline" <"$csv") || { echo "FAIL: host exited with $?"; exit 1; }
printf '%s\n' "$out"
printf '%s\n' "$out" | grep -q '^2014-04-15 15:44:00,76.874,' ||
    { echo "FAIL: no anomaly at 2014-04-15 15:44:00"; exit 1; }
echo "host_example: ok"
