# Multi-stage build of the sluice binary on Debian bookworm. The build stage builds as CI does
# (scripts/install-deps.sh --build, the release CMake preset); the runtime stage holds only the
# binary, its shared libraries and a non-root user.

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/install-deps.sh
RUN scripts/install-deps.sh --build && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake --preset release && cmake --build --preset release --target sluice

FROM debian:bookworm-slim AS runtime
COPY scripts/install-deps.sh /tmp/install-deps.sh
RUN /tmp/install-deps.sh --runtime && rm -rf /var/lib/apt/lists/* /tmp/install-deps.sh \
    && useradd --system --uid 10001 --home-dir /var/lib/sluice --create-home sluice
COPY --from=build /src/build/release/sluice /usr/local/bin/sluice
COPY deploy/examples /etc/sluice/examples
USER sluice
WORKDIR /var/lib/sluice
ENTRYPOINT ["/usr/local/bin/sluice"]
CMD ["--help"]
