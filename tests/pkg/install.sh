#!/bin/sh
# install.sh BUILD_DIR SANITIZE CC SOURCE_DIR: `meson install --destdir` of the build
# into a scratch directory (removed afterwards), then checks what an
# embedder gets: every file in its place, the library's soname, that the
# library and the Lua module export only mw_* and luaopen_moonwatch, that
# moonwatch.h stands alone and declares only mw_ names, and that a small
# C program builds with `pkg-config --cflags --libs moonwatch` against the
# installed files and runs, and so do examples/host's two programs (from
# SOURCE_DIR), each finding the anomaly of the shipped series. SANITIZE is the build's b_sanitize: the test
# program is built with the same flags so that it can load the library.
# Exit 77 (skipped) without meson, pkg-config, nm or readelf on the PATH.
set -u
build=$1 sanitize=$2 cc=$3 src=$4
for tool in meson pkg-config nm readelf python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "skipped: no $tool"
        exit 77
    fi
done

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
words() { printf '%s' "$1" | tr '\n' ' '; }

dest=$(mktemp -d "${TMPDIR:-/tmp}/mw-install.XXXXXX") || exit 1
trap 'rm -rf "$dest"' EXIT
if ! meson install -C "$build" --no-rebuild --destdir "$dest" >"$dest.log" 2>&1; then
    cat "$dest.log"; rm -f "$dest.log"
    echo "FAIL: meson install"
    exit 1
fi
rm -f "$dest.log"

# The install directories of this build, as PREFIX LIBDIR INCLUDEDIR ...
# (absolute paths without spaces: word splitting wanted)
# shellcheck disable=SC2046
set -- $(python3 - "$build" <<'PY'
import json, os, sys
with open(os.path.join(sys.argv[1], 'meson-info', 'intro-buildoptions.json')) as f:
    opts = {o['name']: o['value'] for o in json.load(f)}
prefix = opts['prefix']
print(prefix, *(os.path.join(prefix, opts[k])
                 for k in ('libdir', 'includedir', 'bindir', 'datadir', 'mandir')))
PY
)
prefix=$1 libdir=$dest$2 includedir=$dest$3 bindir=$dest$4 datadir=$dest$5 mandir=$dest$6
# The Lua module's directory comes from Lua's pkg-config (INSTALL_CMOD).
module=$(python3 - "$build" <<'PY'
import json, os, sys
with open(os.path.join(sys.argv[1], 'meson-info', 'intro-installed.json')) as f:
    print(*[p for p in json.load(f).values() if p.endswith('/moonwatch.so')])
PY
)
case $module in
    "$prefix"/*/moonwatch.so) module=$dest$module ;;
    *) fail "the Lua module is installed outside the prefix $prefix: '$module'" ;;
esac

echo "installed into $dest$prefix:"
for f in "$libdir/libmoonwatch.so.0.1.0" "$libdir/libmoonwatch.a" \
         "$includedir/moonwatch.h" "$libdir/pkgconfig/moonwatch.pc" \
         "$bindir/moonwatch" "$module" \
         "$datadir/moonwatch/pipelines/default.lua" \
         "$datadir/moonwatch/pipelines/gaussian.lua" \
         "$mandir/man1/moonwatch.1" \
         "$datadir/doc/moonwatch/README.md" "$datadir/doc/moonwatch/docs/guide.md" \
         "$datadir/doc/moonwatch/docs/lua-api.md" "$datadir/doc/moonwatch/docs/cli.md" "$datadir/doc/moonwatch/docs/internals.md" \
         "$datadir/doc/moonwatch/docs/PERFORMANCE.md" "$datadir/doc/moonwatch/docs/c-api.md" "$datadir/doc/moonwatch/docs/embedding.md" "$datadir/doc/moonwatch/docs/RELIABILITY.md" "$datadir/doc/moonwatch/docs/img/quickstart.svg"; do
    if [ -f "$f" ]; then echo "  ${f#"$dest"}"; else fail "missing ${f#"$dest"}"; fi
done
for link in libmoonwatch.so.0 libmoonwatch.so; do
    target=$(readlink "$libdir/$link")
    case $target in
        libmoonwatch.so.0*) echo "  ${libdir#"$dest"}/$link -> $target" ;;
        *) fail "$link is not a link to libmoonwatch.so.0*: '$target'" ;;
    esac
done

soname=$(readelf -d "$libdir/libmoonwatch.so.0.1.0" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libmoonwatch.so.0 ] || fail "soname is '$soname', not libmoonwatch.so.0"
if readelf -d "$module" | grep -q 'NEEDED.*liblua'; then
    fail "the Lua module links a Lua library (two Lua copies in one interpreter)"
fi

# Exports: mw_* and luaopen_moonwatch only, and at least the header's.
for so in "$libdir/libmoonwatch.so.0.1.0" "$module"; do
    exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sort)
    echo "exports of ${so##*/}: $(words "$exported")"
    stray=$(printf '%s\n' "$exported" | grep -v -e '^mw_' -e '^luaopen_moonwatch$')
    [ -z "$stray" ] || fail "${so##*/} exports non-mw_ symbols: $(words "$stray")"
    for sym in mw_version mw_strerror luaopen_moonwatch mw_runtime_new mw_runtime_call \
               mw_det_new mw_det_update; do
        printf '%s\n' "$exported" | grep -qx "$sym" || fail "${so##*/} does not export $sym"
    done
done

work=$dest/work
mkdir -p "$work"
san=
[ "$sanitize" = none ] || [ -z "$sanitize" ] || san="-fsanitize=$sanitize"

# The header stands alone (no other include needed), in C and C++, and
# names nothing but mw_ / MW_ things (and luaopen_moonwatch).
printf '#include <moonwatch.h>\n' >"$work/alone.c"
"$cc" -std=c99 -Wall -Wextra -Wpedantic -Werror -I"$includedir" -c "$work/alone.c" \
    -o "$work/alone.o" || fail "moonwatch.h does not compile alone (C99)"
if command -v c++ >/dev/null 2>&1; then
    cp "$work/alone.c" "$work/alone.cc"
    c++ -Wall -Wextra -Wpedantic -Werror -I"$includedir" -c "$work/alone.cc" \
        -o "$work/alone_cc.o" || fail "moonwatch.h does not compile alone (C++)"
fi
# The names it declares at file scope (functions, typedefs, struct and
# enum tags, enum constants), from its own lines only: the standard
# headers it includes (stddef.h) and the names of parameters and struct
# fields are not its namespace.
names=$("$cc" -E -I"$includedir" "$work/alone.c" | python3 -c '
import re, sys
own, text = False, []
for line in sys.stdin:
    m = re.match(r"# \d+ \"([^\"]*)\"", line)
    if m:
        own = m.group(1).endswith("moonwatch.h")
    elif own:
        text.append(line)
src = re.sub(r"__attribute__\s*\(\(.*?\)\)", "", "".join(text))
declared = set(re.findall(r"\b(?:struct|enum)\s+(\w+)", src))
declared |= set(re.findall(r"(\w+)\s*\((?!\s*\*)", re.sub(r"\([^()]*\)\s*;", "(", src)))
declared |= set(re.findall(r"\(\s*\*\s*(\w+)\s*\)", src))
declared |= set(re.findall(r"\}\s*(\w+)\s*;", src))
declared |= set(re.findall(r"typedef[^;{}]*?(\w+)\s*;", src))
for body in re.findall(r"enum\s+\w*\s*\{([^}]*)\}", src):
    declared |= set(re.findall(r"^\s*(\w+)", body, re.M))
print("\n".join(sorted(declared)))
' | grep -vE '^(mw_|MW_)' | grep -vxE 'luaopen_moonwatch|lua_State')
[ -z "$names" ] || fail "moonwatch.h declares names without the mw_ prefix: $(words "$names")"
# Its own #defines (not those of the headers it includes).
macros=$(sed -n 's/^[[:space:]]*#[[:space:]]*define[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' \
             "$includedir/moonwatch.h" | grep -vE '^(MW_|MOONWATCH_H$)')
[ -z "$macros" ] || fail "moonwatch.h defines macros without the MW_ prefix: $(words "$macros")"

# pkg-config against the installed .pc, its prefix moved into the scratch
# directory (in a copy: --define-variable would move Lua's too), then a
# program that links and runs.
mkdir -p "$work/pkgconfig"
sed "s|^prefix=.*|prefix=$dest$prefix|" "$libdir/pkgconfig/moonwatch.pc" >"$work/pkgconfig/moonwatch.pc"
export PKG_CONFIG_PATH="$work/pkgconfig"
flags=$(pkg-config --cflags --libs moonwatch) || fail "pkg-config --cflags --libs moonwatch"
echo "pkg-config --cflags --libs moonwatch: $flags"
cat >"$work/hello.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <moonwatch.h>

int main(void)
{
    if (strcmp(mw_version(), MW_VERSION) != 0)
        return 1;
    if (strcmp(mw_strerror(MW_EBUDGET), "memory limit exceeded") != 0)
        return 2;
    printf("moonwatch %s: %s\n", mw_version(), mw_strerror(MW_EBUDGET));

    /* the runtime: a script using mw.detect, called with numbers */
    mw_runtime *rt = mw_runtime_new(NULL);
    if (rt == NULL)
        return 3;
    if (mw_runtime_load_string(rt, "local d = mw.detect.zscore{window = 20}\n"
                                   "function score(x) return d:update(x) end", "=host") != MW_OK)
        return 4;
    double x = 0.0, lua_score = 0.0;
    mw_det *det = mw_det_new("zscore", "window=20", NULL, 0);
    if (det == NULL)
        return 5;
    for (int i = 0; i < 100; i++) {
        x = (i % 7) + (i == 90 ? 50.0 : 0.0);
        if (mw_runtime_call(rt, "score", &x, 1, &lua_score) != MW_OK)
            return 6;
        if (memcmp(&lua_score, &(double){mw_det_update(det, x)}, sizeof x) != 0)
            return 7;
    }
    if (mw_runtime_load_string(rt, "error('x')", NULL) != MW_ESCRIPT ||
        strstr(mw_runtime_error(rt), "stack traceback") == NULL)
        return 8;
    printf("runtime and detector agree: last score %.3f\n", lua_score);
    mw_det_free(det);
    mw_runtime_free(rt);
    return 0;
}
C
# shellcheck disable=SC2086  # flags are words
if "$cc" $san -std=c11 -Wall -Wextra -Werror "$work/hello.c" $flags -o "$work/hello"; then
    LD_LIBRARY_PATH="$libdir" "$work/hello" || fail "the program linked with -lmoonwatch fails ($?)"
    LD_LIBRARY_PATH="$libdir" ldd "$work/hello" 2>/dev/null | grep -q "$libdir/libmoonwatch.so.0" ||
        fail "the program does not load the installed libmoonwatch.so.0"
else
    fail "a program including moonwatch.h does not build with pkg-config's flags"
fi

# examples/host, built as a user would against the installed copy: the
# anomaly at 2014-04-15 15:44:00 of the shipped series, found by host.c
# (a Lua pipeline) and by feed.c (samples pushed, no Lua).
csv=$src/examples/data/ec2_cpu_utilization_825cc2.csv
for prog in host feed; do
    # shellcheck disable=SC2086  # flags are words
    if ! "$cc" $san -std=c11 -Wall -Wextra -Werror "$src/examples/host/$prog.c" $flags \
             -o "$work/$prog"; then
        fail "examples/host/$prog.c does not build against the installed copy"
        continue
    fi
    case $prog in
        host) LD_LIBRARY_PATH="$libdir" "$work/host" "$src/examples/host/pipeline.lua" \
                  <"$csv" >"$work/$prog.out" 2>"$work/$prog.err" ;;
        feed) LD_LIBRARY_PATH="$libdir" "$work/feed" <"$csv" >"$work/$prog.out" 2>"$work/$prog.err" ;;
    esac || fail "examples/host/$prog built against the installed copy fails: $(cat "$work/$prog.err")"
    if grep -q '2014-04-15 15:44:00,76.874,' "$work/$prog.out"; then
        echo "examples/host/$prog (installed copy): $(wc -l <"$work/$prog.out") anomalies," \
             "2014-04-15 15:44:00 among them"
    else
        fail "examples/host/$prog (installed copy) misses the anomaly at 2014-04-15 15:44:00"
    fi
done

[ "$failures" -eq 0 ] || exit 1
echo "install: ok"
