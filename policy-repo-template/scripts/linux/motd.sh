#!/bin/sh
# Writes the lab's message of the day. The demo writes under $PSWM_STATE_DIR (or /tmp) so it runs
# as an ordinary user; a production copy would write /etc/motd and need the agent to run as root.
# When you change the text, bump the version in the first line and in motd-check.sh.
set -eu
target_dir="${PSWM_STATE_DIR:-/tmp}/pswm-demo"
mkdir -p "$target_dir"
# Write then rename, so a reader never sees a half-written file.
cat > "$target_dir/motd.new" <<'MOTD'
# pswm-managed motd v1
Fabrikam engineering lab — managed by pswm.
Changes made by hand are reverted; change the policy repository instead.
Support: lab-support@fabrikam.example
MOTD
mv "$target_dir/motd.new" "$target_dir/motd"
echo "wrote $target_dir/motd"
