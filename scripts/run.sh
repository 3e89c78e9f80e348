#!/usr/bin/env bash
# Installs what is missing, builds the release preset and runs the console:
#   ./scripts/run.sh [CONFIG.ini] [more switchboard options]
# Without a display it runs headless (JSON lines on stdout, commands on stdin; Ctrl-D
# or {"cmd":"quit"} ends it). CONFIG defaults to resources/switchboard.sample.ini.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/packages.sh
. scripts/packages.sh

sb_install_packages "${SB_BUILD_PACKAGES[@]}"

build=${SB_BUILD_ROOT:-build}/release
cmake --preset release -B "$build"
cmake --build "$build" --target switchboard -j 2

config=resources/switchboard.sample.ini
if [ $# -gt 0 ] && [ -f "$1" ]; then
    config=$1
    shift
fi

has_display() {
    case "${QT_QPA_PLATFORM:-}" in
        offscreen*|minimal*|vnc*|linuxfb*|eglfs*) return 0 ;;
    esac
    [ -n "${WAYLAND_DISPLAY:-}" ] || [ -n "${DISPLAY:-}" ]
}

if has_display; then
    exec "$build/app/switchboard" --config "$config" "$@"
fi
echo "run.sh: no display (DISPLAY and WAYLAND_DISPLAY are unset): running headless with $config." >&2
echo "run.sh: events are JSON lines (docs/headless.md); type {\"cmd\":\"quit\"} or press Ctrl-D to end." >&2
exec "$build/app/switchboard" --headless --config "$config" "$@"
