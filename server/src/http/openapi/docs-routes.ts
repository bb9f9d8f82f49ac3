import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { swaggerUI } from '@hono/swagger-ui';
import { Hono } from 'hono';
import { generateSpecs } from 'hono-openapi';
import { asyncApiDocument } from '@app/shared/asyncapi';
import type { HonoEnv } from '../context.js';
import { doc, media } from './describe.js';
import { OPENAPI_DOCUMENTATION } from './documentation.js';

const TAGS = ['docs'];
/** The Swagger UI files the reference page loads, from the swagger-ui-dist package: nothing from the internet. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
};
const assetDir = () => dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));

/**
 * The served descriptions, generated from the routes and the shared schemas, never written by hand:
 * OpenAPI 3.1 (REST and SSE), AsyncAPI 3 (the WebSocket channel), and a reference page. Public, like
 * /healthz: they describe the API, they give no access to it.
 */
export function docsRoutes(root: () => Hono<HonoEnv>): Hono<HonoEnv> {
  const app = new Hono<HonoEnv>();
  let openapi: Promise<unknown> | null = null;
  const assets = new Map<string, Promise<Buffer>>();

  app.get(
    '/openapi.json',
    doc({
      summary: 'This document: OpenAPI 3.1 of the REST and SSE endpoints',
      tags: TAGS,
      public: true,
      bodyLimit: false,
      responses: { 200: media({ 'application/json': null }, 'The OpenAPI document.') },
    }),
    async (c) =>
      c.json(
        await (openapi ??= generateSpecs(root(), {
          documentation: OPENAPI_DOCUMENTATION,
          excludeStaticFile: false,
        })),
      ),
  );

  app.get(
    '/asyncapi.json',
    doc({
      summary: 'AsyncAPI 3 of the WebSocket channel /api/v1/ws',
      tags: TAGS,
      public: true,
      bodyLimit: false,
      responses: { 200: media({ 'application/json': null }, 'The AsyncAPI document.') },
    }),
    (c) => {
      const url = new URL(c.req.url);
      return c.json(asyncApiDocument({ host: url.host, secure: url.protocol === 'https:' }));
    },
  );

  app.get(
    '/reference',
    doc({
      summary: 'A readable reference of the REST and SSE endpoints (Swagger UI, served from here)',
      tags: TAGS,
      public: true,
      bodyLimit: false,
      responses: { 200: media({ 'text/html': null }, 'The page.') },
    }),
    // Relative URLs: the page works behind a proxy that mounts the API under another prefix.
    swaggerUI({
      url: 'openapi.json',
      baseUrl: 'reference/assets',
      validatorUrl: 'none',
      title: 'event-stream API',
    }),
  );

  app.get(
    '/reference/assets/swagger-ui-dist/:file',
    doc({
      summary: 'Files of the reference page',
      tags: TAGS,
      public: true,
      bodyLimit: false,
      responses: {
        200: media({ 'text/css': null, 'text/javascript': null }, 'The file.'),
        404: { description: 'No such file.' },
      },
    }),
    async (c) => {
      const file = c.req.param('file');
      const type = ASSETS[file];
      if (!type) return c.notFound();
      let body = assets.get(file);
      if (!body) assets.set(file, (body = readFile(join(assetDir(), file))));
      c.header('Content-Type', type);
      c.header('Cache-Control', 'public, max-age=3600');
      return c.body(new Uint8Array(await body));
    },
  );

  return app;
}
