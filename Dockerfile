# Build stage: compile the release binary on the official Rust image.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release

# Runtime stage: a small Debian with just the binary, run as a non-root user.
FROM debian:bookworm-slim
RUN useradd --system --uid 999 --home /data redis && mkdir -p /data && chown redis /data
COPY --from=build /src/target/release/ferredis /usr/local/bin/ferredis
USER redis
WORKDIR /data
VOLUME /data
EXPOSE 6379
HEALTHCHECK --interval=10s --timeout=3s CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\\r\\n' >&3 && head -c 5 <&3 | grep -q PONG"]
CMD ["ferredis", "--port", "6379", "--dir", "/data", "--bind", "0.0.0.0", "--protected-mode", "no"]
