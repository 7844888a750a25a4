# Latchkey in a container: one binary (the browser bundles embedded), run as a non-root
# user from a small Debian base, its SQLite database on a volume. Not built in CI (there
# is no registry for base images there); the build stage runs only the Makefile's own
# targets, so it builds exactly what `make run` builds.
#
#   docker build -t latchkey .
#   docker run -p 8080:8080 -v latchkey-data:/var/lib/latchkey \
#     -e LATCHKEY_BASE_URL=https://unlock.example.org latchkey
#
# For PostgreSQL set LATCHKEY_DATABASE and LATCHKEY_SECRET_KEY (see README and
# deploy/compose.yml).

FROM rust:1.95-bookworm AS build
# npm: the pinned wasm-opt (binaryen) comes from package-lock.json.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nodejs npm \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# `make release` installs Trunk, wasm-bindgen-cli (pinned to Cargo.lock) and wasm-opt as
# `make run` does, builds the bundles, then the server with them embedded.
RUN make release

FROM debian:12-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/latchkey --create-home latchkey
COPY --from=build /src/target/release/latchkey /usr/local/bin/latchkey
USER latchkey
WORKDIR /var/lib/latchkey
ENV LATCHKEY_LISTEN=0.0.0.0:8080 \
    LATCHKEY_DATABASE=sqlite:///var/lib/latchkey/latchkey.sqlite3 \
    LATCHKEY_LOG__FORMAT=json
VOLUME ["/var/lib/latchkey"]
EXPOSE 8080
# No curl in the image: bash asks /healthz itself.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["/usr/local/bin/latchkey"]
CMD ["serve"]
