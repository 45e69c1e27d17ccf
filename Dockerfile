# syntax=docker/dockerfile:1
# lockstep container image. Build: docker build -t lockstep:dev .
# (Not built in this repo's CI: Docker is not available there; see docs/operations.md.)

# ---- build: compile TypeScript with the dev dependencies ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/copy-assets.js ./scripts/
COPY config ./config
COPY src ./src
# tsc, then the run-time assets (Lua scripts) copied beside the compiled code
RUN npm run build

# ---- runtime: production dependencies and the compiled output only ----
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist/src ./dist/src
# config/default.json is read from beside the package; test/scenarios feeds the embedded demo mode
COPY config ./config
COPY test/scenarios ./test/scenarios
# Unprivileged, numeric so Kubernetes runAsNonRoot can verify it; owns nothing in /app, so the
# root filesystem can be mounted read-only. Only /tmp needs to be writable.
USER 10001:10001
EXPOSE 8080
# SIGTERM goes straight to node (no shell in between), which finishes its flush and exits.
CMD ["node", "dist/src/cli/main.js", "run"]
