# The Autopilot worker, the webhook receiver (`node dist/webhook/main.js`), the codec server
# (`node dist/codec/main.js`) and the fleet server with its built status page
# (`node dist/fleet-server/main.js`) as one image, with the `autopilot` CLI on PATH
# (`docker compose run worker autopilot status`). Node.js is the LTS line and patch that
# scripts/setup-tools.sh pins for CI, so the suite has passed on the Node this image runs.
FROM node:24.22.3-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

FROM node:24.22.3-bookworm-slim
ENV NODE_ENV=production
# The SDK's Rust threads each took a malloc arena of their own, ~200 MB between them in a roll-out;
# two arenas hold the same for ~80 MB less.
ENV MALLOC_ARENA_MAX=2
# openssl verifies the OneAgent installer signature; the directories back the compose volumes and
# must belong to the unprivileged user before the volume is first created from them.
RUN apt-get update \
  && apt-get install -y --no-install-recommends openssl ca-certificates \
  && rm -rf /var/lib/apt/lists/* \
  && mkdir -p /var/cache/autopilot /var/lib/autopilot \
  && chown node:node /var/cache/autopilot /var/lib/autopilot
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# bin/autopilot runs dist/cli/main.js when it is there, so the CLI needs no dev dependency (tsx).
COPY bin ./bin
RUN ln -s /app/bin/autopilot /usr/local/bin/autopilot
USER node
EXPOSE 8090 8091 8092 9464
CMD ["node", "dist/workers/main.js"]
