#!/usr/bin/env bash
# Installs what is missing, builds the release preset and runs the console:
#   ./scripts/run.sh [CONFIG.ini] [more switchboard options]
# Without a display it runs headless (JSON lines on stdout, commands on stdin; Ctrl-D
# or {"cmd":"quit"} ends it). CONFIG defaults to ~/.config/switchboard/switchboard.ini,
# created from resources/switchboard.sample.ini on the first run: the built-in SIP
# server on 127.0.0.1:5060 with the demo users 201-204 (passwords demo201-demo204).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=scripts/packages.sh
. scripts/packages.sh

sb_install_packages "${SB_BUILD_PACKAGES[@]}"

build=${SB_BUILD_ROOT:-build}/release
cmake --preset release -B "$build"
cmake --build "$build" --target switchboard -j 2

config_dir=${XDG_CONFIG_HOME:-$HOME/.config}/switchboard
config=$config_dir/switchboard.ini
if [ $# -gt 0 ] && [ -f "$1" ]; then
    config=$1
    shift
elif [ ! -f "$config" ]; then
    # A copy of its own: the server keeps its registrations beside it (bindings.json)
    # and --add-user rewrites it.
    mkdir -p "$config_dir"
    cp resources/switchboard.sample.ini "$config"
    chmod 600 "$config"
    echo "run.sh: created $config from resources/switchboard.sample.ini" >&2
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
