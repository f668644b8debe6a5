# shellcheck shell=bash
# shellcheck disable=SC2034  # variables here are used by the sourcing scripts
#
# Shared set-up code for scripts/run, scripts/test, scripts/bench and .ci/run.
# Source it; do not execute it.  Callers are expected to `set -euo pipefail`.
#
# After sourcing:
#   MW_ROOT       absolute path of the repository root (the cwd is now MW_ROOT)
#   MW_ORIG_PWD   the directory the user ran the script from
#   MW_BUILD_DIR  absolute path of the default build dir
#                 ($MOONWATCH_BUILD_DIR, relative to the repo root; default build)
#
# Environment knobs:
#   MOONWATCH_BUILD_DIR       build dir used by scripts/run and scripts/test
#   MOONWATCH_SKIP_DEPS=1     do not check/install Debian packages
#   MOONWATCH_EXTRA_PACKAGES  extra Debian packages to require (space separated;
#                             mainly a hook for testing the install code path)
#   CI=true                   configure new build dirs with -Dwerror=true

MW_ORIG_PWD=$PWD
MW_ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd -- "$MW_ROOT" || exit 1

case ${MOONWATCH_BUILD_DIR:-build} in
    /*) MW_BUILD_DIR=${MOONWATCH_BUILD_DIR} ;;
    *)  MW_BUILD_DIR=$MW_ROOT/${MOONWATCH_BUILD_DIR:-build} ;;
esac

# Debian packages per job.  libc6-dev is listed explicitly because gcc only
# *recommends* it and we install with --no-install-recommends.
MW_PKGS_BUILD=(meson ninja-build pkg-config gcc libc6-dev liblua5.4-dev libedit-dev libhiredis-dev)
MW_PKGS_TEST=(libcmocka-dev lua5.4 valgrind redis-server)
MW_PKGS_BENCH=(python3 hyperfine)

MW_PROG=${MW_PROG:-$(basename -- "$0")}

mw_log()  { printf '%s: %s\n' "$MW_PROG" "$*" >&2; }
mw_die()  { mw_log "error: $*"; exit 1; }

# mw_now: seconds since the epoch with sub-second precision.
mw_now() { printf '%s\n' "${EPOCHREALTIME:-$(date +%s.%N)}"; }
# mw_elapsed START: seconds since START, one decimal.
mw_elapsed() { awk -v s="$1" -v e="$(mw_now)" 'BEGIN { printf "%.1f", e - s }'; }

# Scratch files live in one private dir, removed when the main shell exits
# (also covers files made in subshells, which do not run the EXIT trap).
MW_TMPDIR=$(mktemp -d "${TMPDIR:-/tmp}/moonwatch.XXXXXX")
_mw_cleanup() { rm -rf -- "$MW_TMPDIR"; }
trap _mw_cleanup EXIT
mw_tmpfile() { mktemp "$MW_TMPDIR/tmp.XXXXXX"; }

# ---------------------------------------------------------------------------
# Debian packages

_mw_apt_lists_present() {
    compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null
}

# mw_require_packages PKG...: make sure the Debian packages are installed.
# As root, installs what is missing; otherwise prints the apt-get command
# and exits 1.  Does nothing (and runs no apt command) when all are present.
mw_require_packages() {
    [[ ${MOONWATCH_SKIP_DEPS:-} == 1 ]] && return 0
    local -a want=("$@")
    if [[ -n ${MOONWATCH_EXTRA_PACKAGES:-} ]]; then
        local -a extra
        read -r -a extra <<<"$MOONWATCH_EXTRA_PACKAGES"
        want+=("${extra[@]}")
    fi
    ((${#want[@]})) || return 0

    if ! command -v dpkg-query >/dev/null 2>&1; then
        mw_log "warning: not a Debian-based system; cannot check for packages."
        mw_log "warning: make sure the equivalents of these are installed: ${want[*]}"
        return 0
    fi

    # One dpkg-query for all packages; unknown packages only produce a
    # message on stderr, which we discard.
    local status installed=" "
    status=$(dpkg-query -W -f='${Package} ${Status}\n' "${want[@]}" 2>/dev/null || true)
    local pkg rest
    while read -r pkg rest; do
        [[ $rest == "install ok installed" ]] && installed+="$pkg "
    done <<<"$status"

    local -a missing=()
    for pkg in "${want[@]}"; do
        [[ $installed == *" $pkg "* ]] || missing+=("$pkg")
    done
    ((${#missing[@]})) || return 0

    if ((EUID != 0)); then
        mw_log "missing Debian packages: ${missing[*]}"
        mw_log "install them with:"
        printf '\n    sudo apt-get install %s\n\n' "${missing[*]}" >&2
        mw_log "(or set MOONWATCH_SKIP_DEPS=1 if you provide them some other way)"
        exit 1
    fi

    mw_log "installing missing Debian packages: ${missing[*]}"
    local updated=0
    if ! _mw_apt_lists_present; then
        apt-get update >&2 || mw_die "apt-get update failed"
        updated=1
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            "${missing[@]}" >&2; then
        ((updated)) && mw_die "apt-get install ${missing[*]} failed"
        mw_log "apt-get install failed; refreshing package lists and retrying"
        apt-get update >&2 || mw_die "apt-get update failed"
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
            "${missing[@]}" >&2 || mw_die "apt-get install ${missing[*]} failed"
    fi
}

# ---------------------------------------------------------------------------
# Meson build directories

# Options every build dir gets in CI.
mw_ci_options() {
    if [[ ${CI:-} == true ]]; then
        printf '%s\n' -Dwerror=true
    fi
}

# _mw_option_mismatches DIR -Dkey=value...: print the -Dkey=value arguments
# whose current value in the configured DIR differs.
_mw_option_mismatches() {
    local dir=$1; shift
    local info=$dir/meson-info/intro-buildoptions.json
    if [[ ! -f $info ]]; then
        printf '%s\n' "$@"      # unknown state: (re)apply all of them
        return 0
    fi
    python3 - "$info" "$@" <<'EOF'
import json, sys
with open(sys.argv[1], encoding='utf-8') as f:
    current = {o['name']: o['value'] for o in json.load(f)}
for arg in sys.argv[2:]:
    key, _, want = arg[2:].partition('=')
    cur = current.get(key)
    if isinstance(cur, bool):
        cur = 'true' if cur else 'false'
    elif isinstance(cur, list):
        cur = ','.join(str(v) for v in cur)
    else:
        cur = str(cur)
    if cur != want:
        print(arg)
EOF
}

_mw_setup_fresh() {
    local dir=$1; shift
    mw_log "configuring: meson setup $(mw_rel "$dir") $*"
    meson setup "$dir" "$@" >&2 || mw_die "meson setup $(mw_rel "$dir") failed"
}

# Arguments of the last mw_configure call, for _mw_repair.
_MW_LAST_DIR=
_MW_LAST_SETUP=()
_MW_LAST_ENFORCED=()

# _mw_repair DIR: regenerate a configured-but-broken build dir: reconfigure,
# else wipe (keeps the dir's options), else - only if it really is a Meson
# build dir - delete it and set it up from scratch.
_mw_repair() {
    local dir=$1
    local -a setup=() enforced=()
    if [[ $dir == "$_MW_LAST_DIR" ]]; then
        setup=("${_MW_LAST_SETUP[@]}")
        enforced=("${_MW_LAST_ENFORCED[@]}")
    fi
    mw_log "build dir $(mw_rel "$dir") needs regenerating: meson setup --reconfigure"
    if meson setup --reconfigure "$dir" "${enforced[@]}" >&2; then
        return 0
    fi
    mw_log "reconfigure failed; wiping: meson setup --wipe $(mw_rel "$dir")"
    if meson setup --wipe "$dir" "${enforced[@]}" >&2; then
        return 0
    fi
    [[ -d $dir/meson-private ]] || mw_die "cannot repair $dir; remove it and try again"
    mw_log "wipe failed; deleting $(mw_rel "$dir") and starting over"
    rm -rf -- "$dir"
    _mw_setup_fresh "$dir" "${setup[@]}" "${enforced[@]}"
}

mw_rel() {
    local p=$1
    if [[ $p == "$MW_ROOT"/* ]]; then printf '%s\n' "${p#"$MW_ROOT"/}"; else printf '%s\n' "$p"; fi
}

# mw_configure DIR [SETUP_ARGS...] [-- ENFORCED...]
#   Make sure DIR is a configured Meson build dir of this project.
#   SETUP_ARGS are only used when the dir is set up from scratch (the user may
#   have changed them since with `meson configure`).  ENFORCED are -Dkey=value
#   options that must hold even on an existing dir (e.g. -Dbuildtype=release
#   for benchmarks); the CI options are always enforced.
mw_configure() {
    local dir=$1; shift
    local -a setup=() enforced=()
    while (($#)); do
        if [[ $1 == -- ]]; then shift; enforced=("$@"); break; fi
        setup+=("$1"); shift
    done
    local opt
    while IFS= read -r opt; do
        [[ -n $opt && " ${enforced[*]} " != *" $opt "* ]] && enforced+=("$opt")
    done < <(mw_ci_options)

    _MW_LAST_DIR=$dir
    _MW_LAST_SETUP=("${setup[@]}")
    _MW_LAST_ENFORCED=("${enforced[@]}")

    [[ -e $dir && ! -d $dir ]] && mw_die "$dir exists and is not a directory"

    if [[ ! -f $dir/meson-private/coredata.dat ]]; then
        # Absent, empty, or a setup that never completed.
        _mw_setup_fresh "$dir" "${setup[@]}" "${enforced[@]}"
        return 0
    fi
    if [[ ! -f $dir/build.ninja ]]; then
        _mw_repair "$dir"
        return 0
    fi
    if ((${#enforced[@]})); then
        local -a change=()
        while IFS= read -r opt; do [[ -n $opt ]] && change+=("$opt"); done \
            < <(_mw_option_mismatches "$dir" "${enforced[@]}")
        if ((${#change[@]})); then
            mw_log "updating $(mw_rel "$dir"): meson configure ${change[*]}"
            meson configure "$dir" "${change[@]}" >&2 || _mw_repair "$dir"
        fi
    fi
}

# mw_build DIR: build everything in DIR.  Output goes to stderr; a no-op
# build prints nothing.  If Meson's regeneration step fails (e.g. after a
# Meson upgrade) the dir is reconfigured/wiped and the build retried once.
mw_build() {
    local dir=$1 log
    log=$(mw_tmpfile)
    local -a cmd
    if command -v ninja >/dev/null 2>&1; then
        cmd=(ninja -C "$dir")
    else
        cmd=(meson compile -C "$dir")
    fi
    local attempt
    for attempt in 1 2; do
        if "${cmd[@]}" 2>&1 | tee "$log" \
                | sed -u -e '/^ninja: Entering directory/d' -e '/^ninja: no work to do/d' \
                         -e '/^INFO: autodetecting backend/d' -e '/^INFO: calculating backend command/d' >&2
        then
            return 0
        fi
        if ((attempt == 1)) && grep -q '^FAILED: build.ninja' "$log"; then
            _mw_repair "$dir"
            continue
        fi
        break
    done
    mw_die "build failed in $(mw_rel "$dir")"
}

# mw_prepare DIR [mw_configure args...]: configure (if needed) and build.
mw_prepare() {
    mw_configure "$@"
    mw_build "$1"
}
