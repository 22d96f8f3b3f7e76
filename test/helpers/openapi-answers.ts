/**
 * Every JSON answer the integration tests receive through `api()` is checked against the schema the
 * served `/openapi.json` documents for it (ajv, JSON Schema draft 2020-12, as OpenAPI 3.1 uses):
 * an answer that does not match, a status the operation does not document, or a JSON answer to a
 * route the document does not list fails the test that received it.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

interface MediaType {
  schema?: object;
}
interface Operation {
  operationId?: string;
  responses?: Record<string, { content?: Record<string, MediaType> }>;
}
export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats.default(ajv);
/** The document is the same for every test server: validators are compiled once per process. */
const compiled = new Map<string, ValidateFunction>();

/**
 * The path template (`/v1/nodes/{id}`) that `path` matches, the most literal one first. A parameter
 * may be empty (`/v1/nodes//commands`): the router matches that too, and answers it.
 */
function templateFor(doc: OpenApiDocument, path: string): string | undefined {
  const candidates = Object.keys(doc.paths).filter((template) => {
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]*');
    return new RegExp(`^${pattern}$`).test(path);
  });
  return candidates.sort((a, b) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0))[0];
}

export interface Answer {
  method: string;
  url: string;
  status: number;
  contentType: string | null;
  body: unknown;
}

/** Why the answer breaks the document, or undefined when it keeps to it. */
export function answerProblem(doc: OpenApiDocument, answer: Answer): string | undefined {
  const path = answer.url.split('?')[0] ?? '';
  const method = answer.method.toLowerCase();
  const json = answer.contentType?.startsWith('application/json') ?? false;
  const where = `${answer.method} ${path} → ${answer.status}`;
  const template = templateFor(doc, path);
  const operation = template ? doc.paths[template]?.[method] : undefined;
  if (!template || !operation) {
    // Only the router's own 404 for a path that exists nowhere is allowed to be undocumented.
    if (!path.startsWith('/v1/') || (answer.status === 404 && !template)) return undefined;
    return `${where}: the OpenAPI document has no ${answer.method} ${template ?? path}`;
  }
  const responses = operation.responses ?? {};
  const documented = responses[String(answer.status)] ?? responses[`${String(answer.status)[0]}XX`];
  if (!documented) {
    return `${where}: status ${answer.status} is not documented for ${operation.operationId ?? template} (documented: ${Object.keys(responses).join(', ')})`;
  }
  if (!json || answer.body === undefined) return undefined;
  const schema = documented.content?.['application/json']?.schema;
  if (!schema) {
    return `${where}: the answer is JSON but the document gives ${Object.keys(documented.content ?? {}).join(', ') || 'no content'}`;
  }
  const key = `${method} ${template} ${answer.status}`;
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(schema);
    compiled.set(key, validate);
  }
  if (validate(answer.body)) return undefined;
  const errors = (validate.errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    .join('; ');
  return `${where}: the answer does not match its documented schema: ${errors}\nanswer: ${JSON.stringify(answer.body).slice(0, 600)}`;
}
