# The container image that runs `reloader serve` (the Helm chart and webhook-config/ deploy
# it). Two stages: a Rust build, then a distroless runtime holding only the binary. Build it
# with `make image`; `make image-check` checks this file statically (docs/image.md).

# Matches the toolchain CI uses (rustc 1.95.0): `make image-check` builds with the exact
# RUN cargo line below on CI's toolchain and fails if this pin drifts from it.
ARG RUST_VERSION=1.95.0

FROM rust:${RUST_VERSION}-bookworm AS build
WORKDIR /src
# What the workspace needs to resolve: every member (".", src/core, e2e/apiserver-sim, the
# last one a dev-dependency that --locked still resolves) and the declared benches.
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY e2e/apiserver-sim ./e2e/apiserver-sim
RUN cargo build --locked --release -p reloader --bin reloader

# Distroless "cc": glibc, libgcc_s and CA certificates, no shell or package manager. The
# binary links glibc dynamically, and bookworm above is Debian 12 like this image, so the
# glibc it was built against is the one it runs on. The :nonroot tag's user is 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
ARG VERSION=dev
ARG SOURCE=https://github.com/reloader/reloader
LABEL org.opencontainers.image.title="reloader" \
      org.opencontainers.image.description="Rolls Kubernetes workloads when a Secret or ConfigMap they depend on changes, driven by admission webhooks" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /src/target/release/reloader /usr/local/bin/reloader
# Numeric, so the kubelet can verify runAsNonRoot without an /etc/passwd lookup.
USER 65532:65532
# Read-only root filesystem friendly: serve writes nothing to disk. It reads the serving
# certificate from files (the chart mounts its Secret read-only at /certs) and keeps all
# state in memory, so readOnlyRootFilesystem: true needs no writable volume.
ENTRYPOINT ["reloader"]
CMD ["serve"]
