#!/usr/bin/env sh
# Register the bundle (dist/relbook) with the Linux desktop for the current user.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
apps="${XDG_DATA_HOME:-$HOME/.local/share}/applications"
icons="${XDG_DATA_HOME:-$HOME/.local/share}/icons/hicolor/scalable/apps"
mkdir -p "$apps" "$icons"
sed "s|^Exec=relbook|Exec=$here/dist/relbook/relbook|" "$here/packaging/relbook.desktop" > "$apps/relbook.desktop"
cp "$here/resources/icons/relbook.svg" "$icons/relbook.svg" 2>/dev/null || cp "$here/resources/icons/book.svg" "$icons/relbook.svg"
echo "installed $apps/relbook.desktop"
