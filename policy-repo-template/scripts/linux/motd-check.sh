#!/bin/sh
# Compliance check for motd.sh: exit 0 when the managed motd, at the current version, is in place.
motd="${PSWM_STATE_DIR:-/tmp}/pswm-demo/motd"
[ -f "$motd" ] || { echo "missing: $motd"; exit 1; }
head -n 1 "$motd" | grep -qx '# pswm-managed motd v1' || { echo "drift: $motd is not motd v1"; exit 1; }
exit 0
