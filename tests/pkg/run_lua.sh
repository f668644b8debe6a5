#!/bin/sh
# run_lua.sh LUA MODULE_DIR SANITIZE CC SCRIPT: runs SCRIPT with the stock
# Lua interpreter LUA, LUA_CPATH pointing at the built moonwatch.so in
# MODULE_DIR, and a scratch directory (removed afterwards) as arg[1].
#
# Exit 77 (skipped) without the interpreter. Under a sanitizer build the
# module needs the sanitizer's run-time loaded first, which an
# uninstrumented interpreter does not do: it is preloaded when the
# compiler CC names a shared one (gcc), else the test is skipped. Leak
# checking stays on: lua.c closes its state, so every block is freed.
lua=$1 module_dir=$2 sanitize=$3 cc=$4 script=$5
preload=
if ! command -v "$lua" >/dev/null 2>&1; then
    echo "skipped: no stock Lua interpreter ($lua)"
    exit 77
fi
if [ "$sanitize" != none ] && [ -n "$sanitize" ]; then
    for part in $(echo "$sanitize" | tr ',' ' '); do
        case $part in
            address) lib=libasan.so ;;
            undefined) lib=libubsan.so ;;
            *) echo "skipped: no preload known for -fsanitize=$part"; exit 77 ;;
        esac
        path=$($cc -print-file-name=$lib 2>/dev/null)
        case $path in
            /*) preload="$preload${preload:+ }$path" ;;
            *) echo "skipped: $cc has no shared $lib to preload into $lua"; exit 77 ;;
        esac
    done
fi
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mw-module.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT
# the preload for the interpreter alone, not for mktemp or rm
LD_PRELOAD=${preload:-${LD_PRELOAD:-}} LUA_CPATH="$module_dir/?.so" "$lua" "$script" "$scratch"
