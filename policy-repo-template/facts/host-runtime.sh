#!/bin/sh
# Prints kernel release, uptime and 1-minute load as one JSON object. Reads /proc only: no root.
set -eu
read -r uptime _ < /proc/uptime
read -r load_1m _ < /proc/loadavg
printf '{"kernel":"%s","uptime_seconds":%s,"load_1m":%s}\n' "$(uname -r)" "${uptime%.*}" "$load_1m"
