# Image for the trackflow workers and one-off scripts (docker-compose.yml): compiled JavaScript only.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
# postinstall applies patches/ to dependencies (patch-package)
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY . .
# tsc -> dist/ and the workflow bundle, then the build tools (typescript, tsx, ...) leave the image.
RUN npm run build && npm prune --omit=dev --no-audit --no-fund
ENV NODE_ENV=production
# Workers run as the image's unprivileged `node` user: the code is root-owned and read-only to it; it may
# read the landing volume and write nothing but its temp directory.
USER node
CMD ["node", "--max-old-space-size=256", "dist/workers/pipeline.js"]
