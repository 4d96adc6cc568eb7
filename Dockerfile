# Troupe's container image: the `troupe` command (host, control-plane, gateway, ...) on Node 20.
#
#   docker build -t troupe:0.1.0 .
#   docker run --rm troupe:0.1.0 --version
#
# Build stage: all dependencies (the compiler), then scripts/build-image.mjs, the same script
# test/deploy/image.test.ts runs without Docker: compile to dist/, copy bin/ and protos/, install
# the production dependencies only. Run stage: distroless Node 20 (no shell, no package manager),
# as the unprivileged user 65532; the files belong to root and are read-only for the process.
# Base images are pinned to exact versions; pin them by digest too (@sha256:...) in your registry.

FROM node:20.19.5-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN node scripts/build-image.mjs --out /app

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /app
COPY --from=build --chown=0:0 /app /app
ENV NODE_ENV=production
USER 65532:65532
# Health and metrics of `troupe host` / `troupe gateway`, gRPC of `troupe control-plane`.
EXPOSE 8080 8081 9464 7233
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/troupe.js"]
CMD ["help"]
