# Shared by tests/packages/<lang>/check (sourced): the repository's root, its
# version, a copy of the checkout as git sees it, and a cache folder.
# shellcheck shell=bash
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
version="$(tr -d '[:space:]' <"$root/VERSION")"

# skip REASON: the toolchain is missing (the test skips, or fails in CI).
skip() { echo "$*" >&2; exit 77; }

# checkout DEST PATH...: copies the files of PATH... that git tracks (and new
# ones it does not ignore), as a clean checkout has them, into DEST; nothing
# built or generated in this work tree comes along.
checkout() {
  local dest="$1"
  shift
  mkdir -p "$dest"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard -- "$@" \
     | xargs -0 -r sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\0" "$f"; done' sh \
     | tar --null -cf - -T -) | tar -xf - -C "$dest"
}

# inputs_digest PATH...: a digest of the tracked (and new) files of PATH...,
# names and contents, to key a cache of what they build.
inputs_digest() {
  (cd "$root" && git ls-files -z --cached --others --exclude-standard -- "$@" \
     | xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh \
     | LC_ALL=C sort -z | xargs -0 -r sha256sum | sha256sum | cut -d' ' -f1)
}

# The cache of this language's package builds (ignored by git, like .tools/).
cache_dir() { mkdir -p "$root/.tools/package-tests/$1" && echo "$root/.tools/package-tests/$1"; }
