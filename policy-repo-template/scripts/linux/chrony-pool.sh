#!/bin/sh
# Writes a chrony drop-in naming Fabrikam's NTP pool. The demo writes under $PSWM_STATE_DIR (or
# /tmp) so it runs as an ordinary user; in production write /etc/chrony/conf.d/ and then run
# `chronyc reload sources` (needs root).
set -eu
conf_dir="${PSWM_STATE_DIR:-/tmp}/pswm-demo/chrony"
mkdir -p "$conf_dir"
cat > "$conf_dir/pswm-pool.conf.new" <<'CONF'
# Managed by pswm (policy: chrony-pool). Local edits are overwritten.
pool time.fabrikam.example iburst maxsources 3
pool 2.debian.pool.ntp.org iburst
makestep 1.0 3
CONF
mv "$conf_dir/pswm-pool.conf.new" "$conf_dir/pswm-pool.conf"
echo "wrote $conf_dir/pswm-pool.conf"
