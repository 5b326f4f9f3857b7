#!/bin/bash
# Install celeryroot's worker on this host, as a systemd service.
#
#   contrib/install.sh --broker URL [--hostname NAME] [--pki DIR] [--source PATH]
#                      [--wheels DIR] [--modules-path DIR]
#
# --pki      the host's identity as `celeryroot pki host NAME` issued it on
#            the controller (hosts/NAME/: host.key, host.crt, ca.crt, and
#            crl.pem if copied there); installed as /etc/celeryroot/pki.
#            Needed on the first install: a worker without it does not start
# --source   the project directory (default: the one holding this script),
#            a wheel or an sdist of celeryroot
# --wheels   a directory of wheels to install from instead of PyPI, for
#            hosts without access to it: `pip wheel -w DIR PROJECT setuptools
#            wheel`, run by the hosts' Python version (environment markers
#            differ between versions)
# --broker   defaults to CELERYROOT_BROKER_URL, else to what an earlier run
#            wrote; --hostname defaults likewise, else to `hostname`
#
# It installs celeryroot into its own virtualenv (/opt/celeryroot), writes
# /etc/celeryroot/celeryroot.env and /etc/celeryroot/pki, installs
# celeryroot-worker.service and the audit log's rotation
# (/etc/logrotate.d/celeryroot), enables the service and (re)starts it when
# something changed. Idempotent: a second run with
# the same inputs changes nothing and says so. Needs root, python3 (>= 3.11)
# with venv, and systemd.
set -euo pipefail

PREFIX=/opt/celeryroot
ENV_FILE=/etc/celeryroot/celeryroot.env
PKI_DIR=/etc/celeryroot/pki
UNIT=celeryroot-worker.service
UNIT_FILE=/etc/systemd/system/$UNIT
LOGROTATE_FILE=/etc/logrotate.d/celeryroot
STAMP=$PREFIX/.celeryroot-installed
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "install.sh: $*" >&2; exit 1; }
changes=0
changed() { echo "changed: $*"; changes=$((changes + 1)); }
ok() { echo "ok: $*"; }

env_value() {  # the value an earlier run wrote for $1, if any
    [ -r "$ENV_FILE" ] && sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1
}

source_path=$HERE/..
wheels=
pki=
broker=${CELERYROOT_BROKER_URL:-$(env_value CELERYROOT_BROKER_URL || true)}
host=$(env_value CELERYROOT_HOSTNAME || true)
modules=$(env_value CELERYROOT_MODULES_PATH || true)
modules=${modules:-/etc/celeryroot/modules}
while [ $# -gt 0 ]; do
    case $1 in
        --source) source_path=${2:?--source needs a path}; shift 2 ;;
        --wheels) wheels=${2:?--wheels needs a directory}; shift 2 ;;
        --pki) pki=${2:?--pki needs a directory}; shift 2 ;;
        --broker) broker=${2:?--broker needs a URL}; shift 2 ;;
        --hostname) host=${2:?--hostname needs a name}; shift 2 ;;
        --modules-path) modules=${2:?--modules-path needs a directory}; shift 2 ;;
        -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
host=${host:-$(hostname)}
[ "$(id -u)" = 0 ] || die "run as root: it installs into $PREFIX, /etc and systemd"
[ -n "$broker" ] || die "no broker: give --broker URL (or set CELERYROOT_BROKER_URL)"
[ -e "$source_path" ] || die "--source $source_path does not exist"
[ -z "$wheels" ] || [ -d "$wheels" ] || die "--wheels $wheels is not a directory"
if [ -n "$pki" ]; then
    for f in host.key host.crt ca.crt; do
        [ -f "$pki/$f" ] || die "--pki $pki has no $f (celeryroot pki host $host issues hosts/$host/)"
    done
elif [ ! -f "$PKI_DIR/host.key" ]; then
    die "no host identity in $PKI_DIR: issue one on the controller with \`celeryroot pki host $host\` and give its directory as --pki"
fi
command -v python3 >/dev/null || die "python3 is not installed"

if [ -n "$wheels" ]; then
    # Every pip call, the isolated build of the wheel included, stays offline.
    export PIP_NO_INDEX=1 PIP_FIND_LINKS=$wheels
fi
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_WARN_SCRIPT_LOCATION=1

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# -- the virtualenv
if [ -x "$PREFIX/bin/python" ]; then
    ok "virtualenv $PREFIX"
else
    python3 -m venv "$PREFIX" 2>"$scratch/venv.err" \
        || die "python3 -m venv failed (on Debian: apt-get install python3-venv): $(cat "$scratch/venv.err")"
    changed "virtualenv $PREFIX"
fi

# -- the package: always built into a wheel, whose RECORD (a hash of every
# file it installs) tells whether what is installed is already this.
case $source_path in
    *.whl) cp "$source_path" "$scratch/" ;;
    *)
        if [ -d "$source_path" ]; then
            # Built from a copy: the source may be read-only (a bind mount), and
            # setuptools writes build/ and *.egg-info next to the sources.
            mkdir "$scratch/src"
            tar -C "$source_path" --exclude-vcs --exclude-vcs-ignores --exclude-tag-all=pyvenv.cfg \
                --exclude=__pycache__ -cf - . | tar -C "$scratch/src" -xf -
            source_path=$scratch/src
        fi
        "$PREFIX/bin/python" -m pip wheel -q --no-deps -w "$scratch" "$source_path" >"$scratch/build.log" 2>&1 \
            || die "building celeryroot from $source_path failed: $(tail -n 20 "$scratch/build.log")"
        ;;
esac
wheel=$(ls "$scratch"/celeryroot-*.whl 2>/dev/null | head -n 1 || true)
[ -n "$wheel" ] || die "$source_path gave no celeryroot wheel"
fingerprint=$("$PREFIX/bin/python" - "$wheel" <<'EOF'
import hashlib, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as whl:
    record = next(n for n in whl.namelist() if n.endswith(".dist-info/RECORD"))
    print(hashlib.sha256(whl.read(record)).hexdigest())
EOF
)
if [ -r "$STAMP" ] && [ "$(cat "$STAMP")" = "$fingerprint" ]; then
    ok "celeryroot $(basename "$wheel") already installed"
else
    "$PREFIX/bin/python" -m pip install -q "$wheel" >"$scratch/pip.log" 2>&1 \
        && "$PREFIX/bin/python" -m pip install -q --force-reinstall --no-deps "$wheel" >>"$scratch/pip.log" 2>&1 \
        || die "pip install failed: $(tail -n 20 "$scratch/pip.log")"
    echo "$fingerprint" >"$STAMP.new" && mv "$STAMP.new" "$STAMP"
    changed "celeryroot $(basename "$wheel") installed into $PREFIX"
fi

# same SOURCE DEST MODE: DEST already has SOURCE's content and this mode.
same() { [ -f "$2" ] && cmp -s "$1" "$2" && [ "$(stat -c %a "$2")" = "$3" ]; }
# put SOURCE DEST MODE: replace DEST atomically.
put() { mkdir -p "$(dirname "$2")"; install -m "$3" "$1" "$2.new"; mv "$2.new" "$2"; }

# -- the configuration
{
    echo "# Written by contrib/install.sh; see contrib/celeryroot.env.example."
    echo "CELERYROOT_BROKER_URL=$broker"
    echo "CELERYROOT_HOSTNAME=$host"
    echo "CELERYROOT_MODULES_PATH=$modules"
} >"$scratch/env"
if same "$scratch/env" "$ENV_FILE" 600; then
    ok "$ENV_FILE"
else
    put "$scratch/env" "$ENV_FILE" 600
    changed "$ENV_FILE (host $host, broker $broker)"
fi

# -- the host's identity: its key readable by root alone
if [ -n "$pki" ]; then
    mkdir -p "$PKI_DIR" && chmod 700 "$PKI_DIR"
    for f in host.key host.crt ca.crt crl.pem; do
        [ -f "$pki/$f" ] || continue
        mode=644; [ "$f" != host.key ] || mode=600
        if same "$pki/$f" "$PKI_DIR/$f" $mode; then
            ok "$PKI_DIR/$f"
        else
            put "$pki/$f" "$PKI_DIR/$f" $mode
            changed "$PKI_DIR/$f"
        fi
    done
fi

# -- the unit
if same "$HERE/$UNIT" "$UNIT_FILE" 644; then
    ok "$UNIT_FILE"
else
    put "$HERE/$UNIT" "$UNIT_FILE" 644
    [ ! -d /run/systemd/system ] || systemctl daemon-reload
    changed "$UNIT_FILE"
fi
# -- the audit log's rotation
if same "$HERE/logrotate/celeryroot" "$LOGROTATE_FILE" 644; then
    ok "$LOGROTATE_FILE"
else
    put "$HERE/logrotate/celeryroot" "$LOGROTATE_FILE" 644
    changed "$LOGROTATE_FILE"
fi
if systemctl is-enabled -q "$UNIT" 2>/dev/null; then
    ok "$UNIT enabled"
else
    systemctl enable -q "$UNIT"
    changed "$UNIT enabled"
fi

# -- the service: restarted when anything above changed, so it runs what
# was just installed (SIGTERM first: a running task finishes).
if [ ! -d /run/systemd/system ]; then
    echo "systemd is not running here: $UNIT will start at the next boot"
elif ! systemctl is-active -q "$UNIT"; then
    systemctl start "$UNIT"
    changed "$UNIT started"
elif [ "$changes" -gt 0 ]; then
    systemctl restart "$UNIT"
    changed "$UNIT restarted"
else
    ok "$UNIT running"
fi

if [ "$changes" -eq 0 ]; then
    echo "celeryroot: nothing to change"
else
    echo "celeryroot: $changes change(s)"
fi
