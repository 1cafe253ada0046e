# One image for every service; SERVICE picks which one runs. Node 24 runs the TypeScript
# sources directly (type stripping), so the image needs no compile step for the services.
FROM node:24-slim AS deps
WORKDIR /app
RUN npm install -g pnpm@10.34.9
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json .npmrc ./
COPY libs ./libs
COPY services ./services
COPY apps ./apps
COPY load-tests/package.json ./load-tests/package.json
RUN pnpm install --frozen-lockfile

FROM deps AS web
RUN pnpm --filter @chat/web build

FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app ./
COPY --from=web /app/apps/web/dist ./apps/web/dist
ARG SERVICE=gateway
ENV SERVICE=${SERVICE}
USER node
CMD ["sh", "-c", "exec node services/${SERVICE}/src/main.ts"]
