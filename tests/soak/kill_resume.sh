#!/bin/sh
# kill_resume.sh MOONWATCH SOAK_LUA SAMPLES [SAVE_EVERY]
#
# The soak's promise that a killed run loses nothing (issue #12): runs
# tests/soak/soak.lua uninterrupted, then again with kill -9 at a random
# moment after its first save, resumes the killed run from its state
# file, and requires the same anomalies (count and checksum) as the
# uninterrupted run. Fails too if the kill came too late to interrupt
# anything, twice in a row (the run was too short to test).
#
# The kill comes at a random moment in the first MW_SOAK_KILL_WINDOW
# seconds after the first save (default 0.25; "auto", as scripts/soak sets
# it, is 90% of the uninterrupted run's duration, so a long run dies
# anywhere).
set -eu

moonwatch=$1
soak=$2
samples=$3
save_every=${4:-16}

dir=$(mktemp -d "${TMPDIR:-/tmp}/mw-soak.XXXXXX")
trap 'rm -rf "$dir"' EXIT

start=$(date +%s.%N)
"$moonwatch" "$soak" "$samples" "$dir/reference.state" "$save_every" >"$dir/reference.out"
seconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
sed 's/^/uninterrupted: /' "$dir/reference.out"
echo "uninterrupted: ${seconds}s"
want=$(grep '^anomalies ' "$dir/reference.out")
window=${MW_SOAK_KILL_WINDOW:-0.25}
if [ "$window" = auto ]; then
    window=$(awk -v s="$seconds" 'BEGIN { printf "%.1f", s * 0.9 }')
fi

attempt=0
while :; do
    attempt=$((attempt + 1))
    rm -f "$dir/killed.state" "$dir/killed.state.tmp"
    "$moonwatch" "$soak" "$samples" "$dir/killed.state" "$save_every" >"$dir/killed.out" 2>&1 &
    pid=$!
    # wait for the first save, then a random moment (0 to 0.25 s) more
    n=0
    while [ ! -e "$dir/killed.state" ] && kill -0 "$pid" 2>/dev/null && [ "$n" -lt 2000 ]; do
        sleep 0.01
        n=$((n + 1))
    done
    delay=$(awk -v seed="$$$attempt" -v window="$window" \
                'BEGIN { srand(seed); printf "%.3f", rand() * window }')
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    status=0
    { wait "$pid"; } 2>/dev/null || status=$?
    if [ "$status" -eq 137 ]; then
        echo "killed with kill -9 after the first save and ${delay}s more (attempt $attempt)"
        break
    fi
    if [ "$attempt" -ge 2 ]; then
        echo "kill_resume.sh: the run ended (status $status) before it could be killed;" \
             "give it more samples" >&2
        exit 1
    fi
done

start=$(date +%s.%N)
"$moonwatch" "$soak" "$samples" "$dir/killed.state" "$save_every" >"$dir/resumed.out"
sed 's/^/resumed: /' "$dir/resumed.out"
echo "resumed: $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')s"
got=$(grep '^anomalies ' "$dir/resumed.out")
echo "killed and resumed: $got"
if [ "$got" != "$want" ]; then
    echo "kill_resume.sh: the resumed run found other anomalies" >&2
    exit 1
fi
echo "kill_resume.sh: same anomalies"
