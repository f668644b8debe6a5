#!/bin/sh
# c_api_docs.sh LIBRARY DOC: every function LIBRARY (libmoonwatch.so)
# exports has its own heading in DOC (docs/c-api.md), "### `... name(...)`",
# and is called in one of its C examples (```c blocks); so are the inline
# helpers moonwatch.h defines. Exit 77 (skipped) without nm.
set -u
lib=$1 doc=$2
command -v nm >/dev/null 2>&1 || { echo "skipped: no nm"; exit 77; }
names=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
names="$names
mw_val_number
mw_val_string
mw_val_series"
examples=$(awk '/^```c$/ { on = 1; next } /^```/ { on = 0 } on' "$doc")
headings=$(grep '^###' "$doc")
missing=0 total=0
for name in $names; do
    total=$((total + 1))
    printf '%s\n' "$headings" | grep -q "[ \`*]$name(" ||
        { echo "no heading for $name"; missing=$((missing + 1)); }
    printf '%s\n' "$examples" | grep -q "\\b$name(" ||
        { echo "no example calls $name"; missing=$((missing + 1)); }
done
[ "$missing" -eq 0 ] || { echo "FAIL: $missing gaps in $doc"; exit 1; }
echo "c_api_docs: all $total functions have a heading and an example in $doc"
