#!/usr/bin/env bash
# For the JupyterHub image (Dockerfile): gives each student ~/transfer-kit — their own copy of the notebooks, kept on
# a persistent home across sessions, next to links to the kit installed in the image (package.json, dist/,
# node_modules/, data/), so the notebooks' `import * as kit from '..'` finds the kit. A student's notebook is never
# overwritten: notebooks new in the image are added, existing ones stay (delete your copy and restart the server to
# get the shipped one back). The embedded data come warmed from the image (linked, not copied). Runs at every server start
# (docker-stacks' before-notebook.d hook); idempotent.
set -euo pipefail
kit=${KIT_HOME:-/opt/transfer-kit}
dest=${KIT_STUDENT_DIR:-$HOME/transfer-kit}
mkdir -p "$dest/notebooks"
for item in package.json dist node_modules data; do
  ln -sfn "$kit/$item" "$dest/$item"
done
for nb in "$kit"/notebooks/*.ipynb; do
  [ -e "$dest/notebooks/$(basename "$nb")" ] || cp "$nb" "$dest/notebooks/"
done
# The data cache: the image's warmed copy (read-only, shared) linked into the student's own writable cache folder.
if [ -n "${KIT_CACHE_DIR:-}" ] && [ -d "$kit/cache-seed" ]; then
  mkdir -p "$KIT_CACHE_DIR"
  for entry in "$kit"/cache-seed/*; do
    [ -e "$KIT_CACHE_DIR/$(basename "$entry")" ] || ln -s "$entry" "$KIT_CACHE_DIR/"
  done
fi
