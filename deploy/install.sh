#!/usr/bin/env bash
# Installs Herald as a systemd service: the binary, config, templates and unit under a root
# (default /), and checks the unit with systemd-analyze. It starts nothing: the last lines say
# what to run. Run from the repository after `swift build -c release` (it builds if needed).
#
#   sudo deploy/install.sh                 # /opt/herald, /etc/herald, /etc/systemd/system
#   deploy/install.sh --root /tmp/scratch  # the same tree under a scratch root (no user created;
#                                          # the unit's paths point into the scratch root)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=$(realpath -m "$2"); shift 2 ;;
    *) echo "usage: deploy/install.sh [--root DIR]" >&2; exit 2 ;;
  esac
done
PREFIX="$ROOT/opt/herald"
ETC="$ROOT/etc/herald"
UNITS="$ROOT/etc/systemd/system"

# HERALD_BINARY: install this build instead (the deploy test uses the debug build it has).
BINARY=${HERALD_BINARY:-.build/release/herald}
[ -x "$BINARY" ] || swift build -c release --product herald

if [ -z "$ROOT" ]; then
  [ "$(id -u)" = 0 ] || { echo "install.sh: run as root (or pass --root DIR)" >&2; exit 1; }
  id herald >/dev/null 2>&1 || useradd --system --home-dir /opt/herald --shell /usr/sbin/nologin herald
  OWNER=(-o herald -g herald)
else
  OWNER=()
fi

echo "install.sh: installing into ${ROOT:-/}"
install -d -m 0755 "$PREFIX" "$PREFIX/bin" "$ETC" "$UNITS"
install -d -m 0750 "${OWNER[@]}" "$PREFIX/var"
install -m 0755 "$BINARY" "$PREFIX/bin/herald"
rm -rf "$PREFIX/Config" "$PREFIX/Templates"
cp -r Config Templates "$PREFIX/"
cp README.md "$PREFIX/README.md"
if [ ! -e "$ETC/herald.env" ]; then
  install -m 0600 deploy/herald.env.example "$ETC/herald.env"
  echo "install.sh: wrote $ETC/herald.env: fill in the secrets"
else
  echo "install.sh: kept the existing $ETC/herald.env"
fi
# Under a scratch root the unit points into it, so it can be verified (and run) from there.
sed -e "s|/opt/herald|$PREFIX|g" -e "s|/etc/herald|$ETC|g" deploy/herald.service > "$UNITS/herald.service"
chmod 0644 "$UNITS/herald.service"

echo "install.sh: systemd-analyze verify $UNITS/herald.service"
systemd-analyze verify "$UNITS/herald.service"

cat <<NEXT
install.sh: done. Next:
  1. edit $ETC/herald.env (secrets) and $PREFIX/Config/herald.yaml (channels: transport network)
  2. sudo -u herald $PREFIX/bin/herald config check --config $PREFIX/Config/herald.yaml
  3. systemctl daemon-reload && systemctl enable --now herald
  4. journalctl -u herald -f;  $PREFIX/bin/herald status --config $PREFIX/Config/herald.yaml
NEXT
