#!/usr/bin/env bash
# Fetches the built-in world's art packages (pinned in harness/world/assets/assets.lock)
# from the npm registry with `npm pack`, checks each tarball's SHA-256 against the lock,
# and caches them in .cache/assets/ (or $TIVE_ASSETS_DIR). Nothing else is downloaded.
# Already-cached tarballs with the right hash are kept; a wrong hash is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
lock=harness/world/assets/assets.lock
dest=${TIVE_ASSETS_DIR:-.cache/assets}
mkdir -p "$dest"
tmp=$(mktemp -d "$dest/.fetch-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
grep -v '^#' "$lock" | while read -r pkg ver file sum; do
	[ -n "$pkg" ] || continue
	if [ -f "$dest/$file" ] && echo "$sum  $dest/$file" | sha256sum --check --status; then
		continue
	fi
	if ! command -v npm >/dev/null; then
		echo "fetch-assets: npm is needed to fetch $pkg@$ver (Debian: apt-get install npm)" >&2
		exit 1
	fi
	echo "fetch-assets: npm pack $pkg@$ver" >&2
	(cd "$tmp" && npm pack --silent "$pkg@$ver" >/dev/null)
	if ! echo "$sum  $tmp/$file" | sha256sum --check --status; then
		echo "fetch-assets: $pkg@$ver: SHA-256 $(sha256sum "$tmp/$file" | cut -d' ' -f1) differs from $sum in $lock" >&2
		exit 1
	fi
	mv "$tmp/$file" "$dest/$file"
done
echo "fetch-assets: $(grep -vc '^#' "$lock") packages verified in $dest" >&2
