# syntax=docker/dockerfile:1
# secret-export-controller: build with Node 24, run on distroless Node 24 as a non-root numeric user,
# with production dependencies and the compiled dist/ only (no shell, no npm, no sources at run time).
#   docker build -t <registry>/secret-export-controller:<tag> .
# e2e/production-layout.test.ts runs exactly what the final stage copies, as a plain process.

# Compile src/ to dist/ (TypeScript and the other dev dependencies stay in this stage).
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only, from the lock file, in a clean stage.
FROM node:24-bookworm-slim AS production-dependencies
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# Run time: the distroless image has node and nothing else. Files stay owned by root, read-only to
# the controller's user (65532, "nonroot"), so the Deployment can mount the root filesystem read-only.
FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=production-dependencies /src/package.json ./package.json
COPY --from=production-dependencies /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
USER 65532:65532
EXPOSE 8080
# `node dist/cli.js` is the entrypoint, so Kubernetes `args` are the subcommand and its flags
# (config/deployment.yaml: args: [run]); with no arguments the image runs the controller.
ENTRYPOINT ["/nodejs/bin/node", "--enable-source-maps", "/app/dist/cli.js"]
CMD ["run"]
