# Porchlight in a container: build with the Rust toolchain, run from a small Debian image as a
# non-root user. Data lives in the /data volume.
#
#   docker build -t porchlight .
#   docker run -p 8080:8080 -v porchlight-data:/data porchlight

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY assets ./assets
COPY config.example.toml ./
COPY tests ./tests
COPY bench ./bench
RUN cargo build --release --locked --bin porchlight \
 && strip target/release/porchlight

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin porchlight \
 && mkdir -p /data && chown porchlight:porchlight /data
COPY --from=build /src/target/release/porchlight /usr/local/bin/porchlight
USER porchlight
ENV PORCHLIGHT_LISTEN=0.0.0.0:8080 \
    PORCHLIGHT_DATA_DIR=/data
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/porchlight"]
CMD ["serve"]
