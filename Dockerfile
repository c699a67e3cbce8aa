# syntax=docker/dockerfile:1
#
# The image that `kubectl snapshot schedule create --image …` runs: the single executable
# from `npm run package` (dist/kubectl-snapshot-linux-<x64|arm64>.tar.gz) and nothing else, on
# a slim Debian base (glibc, libstdc++, libgcc and libatomic: what Node's official Linux binary links to;
# a distroless "cc" image works too: --build-arg BASE_IMAGE=…), as the unprivileged user
# 65532. The CronJob runs it with command ["/kubectl-snapshot"]: keep that path.
#
#   npm ci && npm run package -- --targets linux-x64,linux-arm64
#   docker buildx build --platform linux/amd64,linux/arm64 \
#     -t kubectl-snapshot/kubectl-snapshot:v0.1.0 --push .
#
# Nothing is compiled here, and besides the two base images only Debian's libatomic1 package
# of the target architecture is downloaded (Node 26's binaries link libatomic.so.1, which slim
# Debian images lack; it is unpacked on the build platform, so no emulation is needed): the
# binary is the one the release archives (and krew) ship.

ARG BASE_IMAGE=debian:12-slim

FROM --platform=$BUILDPLATFORM debian:12-slim AS unpack
ARG TARGETARCH
COPY dist/kubectl-snapshot-linux-*.tar.gz /dist/
RUN set -eu; \
    case "${TARGETARCH:-amd64}" in \
      amd64) arch=x64 triplet=x86_64-linux-gnu ;; \
      arm64) arch=arm64 triplet=aarch64-linux-gnu ;; \
      *) echo "no kubectl-snapshot build for linux/${TARGETARCH}" >&2; exit 1 ;; \
    esac; \
    archive="/dist/kubectl-snapshot-linux-${arch}.tar.gz"; \
    [ -f "$archive" ] || { echo "$archive is missing: run npm run package first" >&2; exit 1; }; \
    mkdir /out; \
    tar -xzf "$archive" -C /out kubectl-snapshot LICENSE; \
    chmod 0555 /out/kubectl-snapshot; \
    chmod 0444 /out/LICENSE; \
    dpkg --add-architecture "${TARGETARCH:-amd64}"; \
    apt-get update -qq; \
    cd /tmp && apt-get download -qq "libatomic1:${TARGETARCH:-amd64}"; \
    dpkg-deb -x /tmp/libatomic1_*.deb /atomic; \
    mkdir -p "/out/rootfs/usr/lib/$triplet"; \
    cp -L "/atomic/usr/lib/$triplet/libatomic.so.1" "/out/rootfs/usr/lib/$triplet/"

FROM ${BASE_IMAGE}
LABEL org.opencontainers.image.title="kubectl-snapshot" \
      org.opencontainers.image.description="Scheduled Kubernetes namespace backups to S3 (kubectl snapshot schedule)" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=unpack /out/rootfs/ /
COPY --from=unpack /out/kubectl-snapshot /kubectl-snapshot
COPY --from=unpack /out/LICENSE /usr/share/doc/kubectl-snapshot/LICENSE
USER 65532:65532
ENTRYPOINT ["/kubectl-snapshot"]
CMD ["--help"]
