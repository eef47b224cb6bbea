#!/bin/sh
# Builds the contentapp binary for each version (static, version stamped)
# and the images appfactory/contentapp:<version> from them. Idempotent and
# cache-friendly: the Go build cache and Docker's layer cache make a rerun
# with unchanged sources a no-op.
#
# Environment:
#   CONTENTAPP_VERSIONS  versions to build (default "1.0 2.0")
#   CONTENTAPP_IMAGE     image repository (default appfactory/contentapp)
#   CONTENTAPP_LABELS    extra "key=value" labels for the images, space separated
#   CONTENTAPP_OUT       where build contexts go (default <root>/bin/contentapp)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
versions=${CONTENTAPP_VERSIONS:-"1.0 2.0"}
image=${CONTENTAPP_IMAGE:-appfactory/contentapp}
out=${CONTENTAPP_OUT:-$root/bin/contentapp}
export PATH="$PATH:/usr/local/go/bin"

# The classic builder is what Debian's docker.io 20.10 always has.
if [ -z "${DOCKER_BUILDKIT:-}" ] && ! docker buildx version >/dev/null 2>&1; then
	export DOCKER_BUILDKIT=0
fi

labels=""
for l in ${CONTENTAPP_LABELS:-}; do
	labels="$labels --label $l"
done

for v in $versions; do
	ctx="$out/$v"
	mkdir -p "$ctx/data" "$ctx/tmp"
	chmod 0755 "$ctx/data" "$ctx/tmp"
	echo "contentapp $v: go build -> $ctx/contentapp"
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -buildvcs=false \
		-ldflags "-s -w -X main.version=$v" -o "$ctx/contentapp" ./platforms/contentapp)
	cp "$here/Dockerfile" "$ctx/Dockerfile"
	echo "contentapp $v: docker build -> $image:$v"
	# shellcheck disable=SC2086 # labels are split on purpose
	docker build -q --build-arg "VERSION=$v" $labels -t "$image:$v" "$ctx"
done
docker image ls --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}' "$image"
