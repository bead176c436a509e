# The one deployable. Roles switch on by configuration (see README). Node 26, the current LTS
# line (the suite also runs on 20.19, the oldest supported: package.json#engines).
FROM node:26-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:26-slim
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
# --heap-growing-percent=100: see docs/benchmarks.md "RSS" (peak 575 -> 345 MB, same rate)
CMD ["node", "--enable-source-maps", "--heap-growing-percent=100", "dist/apps/monitor/src/main.js"]
