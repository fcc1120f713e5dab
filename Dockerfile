# Production image of the anomaly platform (issue 8). See docs/production.md.
#
#   docker build -t anomaly-platform .
#   docker run --rm -p 3000:3000 anomaly-platform            # embedded mode (PGlite in /app/data)
#
# Stages: build (all deps, compile TypeScript with swc) -> runtime (prod deps only, dist/, models/, migrations/).
# The same image runs the API, the workers (ROLE=worker) and the CLI (node dist/src/cli/main.js ...).

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
# .npmrc first: ignore-scripts=true (onnxruntime-node's post-install would download GPU binaries) and
# legacy-peer-deps=true (kysely-pglite-dialect declares an older pglite peer).
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY . .
RUN npm run build \
 && test -f dist/src/main.js

# ---------------------------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    ROLE=all \
    HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/app/data \
    MODELS_DIR=/app/models \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false

COPY package.json package-lock.json .npmrc ./
# onnxruntime-node ships CPU binaries for every OS and CPU (~290 MB): keep only this platform's.
RUN npm ci --omit=dev \
 && npm cache clean --force \
 && case "$(uname -m)" in x86_64) ort_arch=x64 ;; aarch64) ort_arch=arm64 ;; *) ort_arch=keep-all ;; esac \
 && for dir in node_modules/onnxruntime-node/bin/napi-v*/*; do \
      [ -d "$dir" ] || continue; \
      [ "$(basename "$dir")" = linux ] || rm -rf "$dir"; \
    done \
 && for dir in node_modules/onnxruntime-node/bin/napi-v*/linux/*; do \
      [ -d "$dir" ] && [ "$ort_arch" != keep-all ] && [ "$(basename "$dir")" != "$ort_arch" ] && rm -rf "$dir"; \
      true; \
    done \
 && mkdir -p /app/data \
 && chown node:node /app/data

# Code, models and migrations stay owned by root (read-only for the app); only /app/data is writable.
COPY --from=build /app/dist ./dist
COPY models ./models
COPY migrations ./migrations

# The node images ship an unprivileged "node" user (uid 1000).
USER node

EXPOSE 3000

# Readiness of this process (event store, database, NATS, models). No curl in slim: node's fetch.
HEALTHCHECK --interval=15s --timeout=5s --start-period=300s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# Exec form: node is the process that receives SIGTERM (compose adds tini via `init: true`), so the
# graceful shutdown (stop intake, finish the batch, commit checkpoints, close pools) runs.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
