import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Validator } from '@seriousme/openapi-schema-validator';
import type { Express } from 'express';
import request from 'supertest';
import { createFixture, type Fixture } from '../testing/api-fixture.ts';
import { toOpenApiPath } from './routes.ts';

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
});
afterAll(() => fx.close());

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}
type Document = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

/** Method and path of every route registered on the app, read from express's own router. */
function servedRoutes(app: Express): string[] {
  const router = app.router as unknown as { stack: { route?: { path: string; methods: Record<string, boolean> } }[] };
  return router.stack.flatMap((layer) =>
    layer.route ? Object.keys(layer.route.methods).map((method) => `${method} ${toOpenApiPath(layer.route!.path)}`) : [],
  );
}

async function fetchDocument(): Promise<Document> {
  const res = await request(fx.app).get('/openapi.json').expect(200).expect('Content-Type', /application\/json/);
  return res.body as Document;
}

describe('/openapi.json', () => {
  it('is an OpenAPI 3.1 document with a bearer security scheme and the error shape', async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.title).toEqual(expect.any(String));
    expect(doc.components.securitySchemes['bearerAuth']).toEqual({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(doc.components.schemas).toEqual(expect.objectContaining({ ErrorBody: expect.any(Object), Session: expect.any(Object), ChatMessage: expect.any(Object) }));
    // Every $ref points at a component that exists.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((match) => match[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(Object.keys(doc.components.schemas)).toContain(ref);
  });

  it('passes an OpenAPI 3.1 schema validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(await fetchDocument());
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('lists exactly the routes the app serves', async () => {
    const doc = await fetchDocument();
    const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    expect(documented.sort()).toEqual(servedRoutes(fx.app).sort());
    expect(documented).toHaveLength(21);
  });

  it('secures every /api operation with the bearer token and documents its parameters and errors', async () => {
    const doc = await fetchDocument();
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const where = `${method} ${path}`;
        if (!path.startsWith('/api/')) {
          expect([where, operation.security]).toEqual([where, []]);
          continue;
        }
        expect([where, operation.security]).toEqual([where, [{ bearerAuth: [] }]]);
        expect([where, Object.keys(operation.responses)]).toEqual([where, expect.arrayContaining(['400', '401', '503'])]);
        expect(operation.responses['401']?.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/ErrorBody' });
        for (const name of path.match(/\{(\w+)\}/g) ?? []) {
          expect(operation.parameters).toContainEqual(expect.objectContaining({ name: name.slice(1, -1), in: 'path', required: true }));
        }
        if (method === 'post' || method === 'put') expect(operation.requestBody?.content['application/json']?.schema).toBeDefined();
      }
    }
    const history = doc.paths['/api/chat/history/{session_id}']!['get']!;
    expect(history.parameters?.filter((p) => p.in === 'query').map((p) => p.name).sort()).toEqual(['after', 'before', 'limit']);
    expect(Object.keys(doc.paths['/api/chat/sessions/{session_id}/messages']!['post']!.responses)).toEqual(expect.arrayContaining(['201', '403', '404', '413', '429']));
  });
});
