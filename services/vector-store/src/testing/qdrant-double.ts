import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A protocol test double of Qdrant's REST API: no Qdrant server runs on the test machines (no
// Docker, no binary release), so the adapter's CI tests speak the wire protocol to this. It
// serves the endpoints the adapter calls, with Qdrant's documented answers: the `{ result,
// status, time }` envelope, `{ status: { error } }` bodies, 409 when a collection exists, 404
// for a missing collection and for a payload or vector update naming a missing point, 400 for
// a wrong vector dimension or an `order_by`/facet key without the index it needs. Search is
// exact (no HNSW); a sparse query scores points sharing a term by dot product, times Qdrant's
// IDF `ln((N − n + 0.5)/(n + 0.5) + 1)` with the `idf` modifier.
// One file on purpose (over 400 lines): one server whose endpoints share its collections' state.

/** One request as received (the body parsed). */
export interface QdrantDoubleRequest {
  method: string;
  /** Path without the query string, e.g. `/collections/c/points/query`. */
  path: string;
  body: unknown;
  /** Bytes of the answer's body, once sent. */
  responseBytes?: number;
}

export interface QdrantDouble extends AsyncDisposable {
  /** e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: QdrantDoubleRequest[];
  /**
   * Runs before each request is answered; the answer waits for it. Tests use it to act between
   * two requests (another replica's write) or to hold requests until several have arrived.
   */
  beforeAnswer: ((request: QdrantDoubleRequest) => void | Promise<void>) | undefined;
  /** The stored points of a collection (id → payload), for assertions. */
  points(collection: string): Map<string, Record<string, unknown>>;
  /** Deletes a point as another client would. */
  deletePoint(collection: string, id: string): void;
  /** Sets payload keys of a point as another client would (`set_payload`). */
  setPayload(collection: string, id: string, payload: Record<string, unknown>): void;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
type SparseVector = { indices: number[]; values: number[] };

interface Point {
  id: string | number;
  dense?: number[];
  sparse: Map<string, SparseVector>;
  payload: Json;
}

interface Collection {
  config: Json;
  size: number;
  sparseNames: Set<string>;
  payloadSchema: Map<string, Json>;
  points: Map<string, Point>;
  operationId: number;
}

class QdrantError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startQdrantDouble(options: { version?: string } = {}): Promise<QdrantDouble> {
  const collections = new Map<string, Collection>();
  const requests: QdrantDoubleRequest[] = [];
  const server = createServer((request, response) => {
    void handle(request, response);
  });
  const double: QdrantDouble = {
    url: '',
    requests,
    beforeAnswer: undefined,
    points: (name) =>
      new Map(
        [...(collections.get(name)?.points ?? new Map<string, Point>())].map(([id, point]) => [
          id,
          point.payload,
        ]),
      ),
    deletePoint: (name, id) => {
      collections.get(name)?.points.delete(pointKey(id));
    },
    setPayload: (name, id, payload) => {
      const point = collections.get(name)?.points.get(pointKey(id));
      if (point !== undefined) Object.assign(point.payload, structuredClone(payload));
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    [Symbol.asyncDispose]: () => double.close(),
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const started = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const url = new URL(request.url ?? '/', 'http://double');
    const logged: QdrantDoubleRequest = {
      method: request.method ?? 'GET',
      path: url.pathname,
      body: text === '' ? undefined : JSON.parse(text),
    };
    requests.push(logged);
    try {
      await double.beforeAnswer?.(logged);
      if (logged.method === 'GET' && logged.path === '/') {
        logged.responseBytes = send(response, 200, {
          title: 'qdrant - vector search engine',
          version: options.version ?? '1.17.0',
          commit: 'protocol-double',
        });
        return;
      }
      const result = route(logged.method, logged.path, (logged.body ?? {}) as Json);
      logged.responseBytes = send(response, 200, {
        result,
        status: 'ok',
        time: (performance.now() - started) / 1000,
      });
    } catch (error) {
      const status = error instanceof QdrantError ? error.status : 500;
      const message =
        error instanceof QdrantError
          ? error.message
          : `Service internal error: ${error instanceof Error ? error.message : String(error)}`;
      logged.responseBytes = send(response, status, {
        status: { error: message },
        time: (performance.now() - started) / 1000,
      });
    }
  }

  function route(method: string, path: string, body: Json): unknown {
    const match = /^\/collections\/([^/]+)(\/.*)?$/.exec(path);
    if (match === null) throw new QdrantError(404, `Not found: ${path}`);
    const name = decodeURIComponent(match[1] as string);
    const rest = match[2] ?? '';
    if (rest === '' && method === 'PUT') return createCollection(name, body);
    if (rest === '' && method === 'DELETE') return collections.delete(name);
    if (rest === '/exists' && method === 'GET') return { exists: collections.has(name) };
    const collection = collections.get(name);
    if (collection === undefined)
      throw new QdrantError(404, `Not found: Collection \`${name}\` doesn't exist!`);
    const operation = (): Json => ({ operation_id: collection.operationId++, status: 'completed' });
    switch (`${method} ${rest}`) {
      case 'GET ':
        return collectionInfo(collection);
      case 'PUT /index':
        createPayloadIndex(collection, body);
        return operation();
      case 'PUT /points':
        upsert(collection, body.points as Json[]);
        return operation();
      case 'POST /points':
        return retrieve(collection, body);
      case 'POST /points/delete':
        deletePoints(collection, body);
        return operation();
      case 'POST /points/payload':
        setPayload(collection, body, false);
        return operation();
      case 'PUT /points/payload':
        setPayload(collection, body, true);
        return operation();
      case 'PUT /points/vectors':
        updateVectors(collection, body.points as Json[]);
        return operation();
      case 'POST /points/batch':
        return (body.operations as Json[]).map((update) => {
          applyUpdate(collection, update);
          return operation();
        });
      case 'POST /points/query':
        return { points: query(collection, body) };
      case 'POST /points/query/batch':
        return (body.searches as Json[]).map((search) => ({ points: query(collection, search) }));
      case 'POST /points/scroll':
        return scroll(collection, body);
      case 'POST /points/count':
        return { count: select(collection, body.filter as Json | undefined).length };
      case 'POST /facet':
        return facet(collection, body);
      default:
        throw new QdrantError(404, `Not found: ${method} ${path}`);
    }
  }

  function createCollection(name: string, body: Json): boolean {
    if (collections.has(name))
      throw new QdrantError(409, `Wrong input: Collection \`${name}\` already exists!`);
    const vectors = body.vectors as { size: number; distance: string };
    if (typeof vectors?.size !== 'number')
      throw new QdrantError(400, 'the double implements one unnamed dense vector only');
    const sparse = (body.sparse_vectors ?? {}) as Json;
    collections.set(name, {
      config: {
        params: {
          vectors,
          ...(Object.keys(sparse).length > 0 ? { sparse_vectors: sparse } : {}),
          shard_number: 1,
          replication_factor: 1,
          write_consistency_factor: 1,
          on_disk_payload: true,
        },
        hnsw_config: {
          m: 16,
          ef_construct: 100,
          full_scan_threshold: 10000,
          ...(body.hnsw_config as Json),
        },
        optimizer_config: {},
        wal_config: {},
        quantization_config: null,
      },
      size: vectors.size,
      sparseNames: new Set(Object.keys(sparse)),
      payloadSchema: new Map(),
      points: new Map(),
      operationId: 0,
    });
    return true;
  }

  function collectionInfo(collection: Collection): Json {
    return {
      status: 'green',
      optimizer_status: 'ok',
      indexed_vectors_count: 0,
      points_count: collection.points.size,
      segments_count: 1,
      config: collection.config,
      payload_schema: Object.fromEntries(
        [...collection.payloadSchema].map(([field, schema]) => [
          field,
          {
            data_type: schema.type,
            params: schema,
            points: [...collection.points.values()].filter(
              (point) => valuesAt(point.payload, field).length > 0,
            ).length,
          },
        ]),
      ),
    };
  }

  function createPayloadIndex(collection: Collection, body: Json): void {
    const schema = body.field_schema;
    // Creating an index that exists is accepted (and replaces it), as Qdrant does.
    collection.payloadSchema.set(
      body.field_name as string,
      typeof schema === 'string' ? { type: schema } : (schema as Json),
    );
  }

  function applyUpdate(collection: Collection, update: Json): void {
    const [kind, operation] = Object.entries(update)[0] as [string, Json];
    switch (kind) {
      case 'upsert':
        upsert(collection, operation.points as Json[]);
        return;
      case 'delete':
        deletePoints(collection, operation);
        return;
      case 'set_payload':
        setPayload(collection, operation, false);
        return;
      case 'overwrite_payload':
        setPayload(collection, operation, true);
        return;
      case 'update_vectors':
        updateVectors(collection, operation.points as Json[]);
        return;
      default:
        throw new QdrantError(400, `the double does not implement the ${kind} operation`);
    }
  }

  function upsert(collection: Collection, points: Json[]): void {
    const parsed = points.map((raw) => {
      const id = raw.id as string | number;
      const vectors = raw.vector;
      let dense: number[] | undefined;
      const sparse = new Map<string, SparseVector>();
      if (Array.isArray(vectors)) dense = vectors as number[];
      else
        for (const [name, value] of Object.entries((vectors ?? {}) as Json)) {
          if (name === '') dense = value as number[];
          else sparse.set(name, checkSparse(collection, name, value));
        }
      if (dense === undefined)
        throw new QdrantError(400, 'Wrong input: Not existing vector name error: ');
      return {
        id,
        dense: normalise(checkDimension(collection, dense)),
        sparse,
        payload: structuredClone((raw.payload ?? {}) as Json),
      };
    });
    for (const point of parsed) collection.points.set(pointKey(point.id), point);
  }

  function updateVectors(collection: Collection, points: Json[]): void {
    for (const raw of points) {
      const point = existing(collection, raw.id as string | number);
      for (const [name, value] of Object.entries(raw.vector as Json)) {
        if (name === '') point.dense = normalise(checkDimension(collection, value as number[]));
        else point.sparse.set(name, checkSparse(collection, name, value));
      }
    }
  }

  function checkDimension(collection: Collection, vector: number[]): number[] {
    if (vector.length !== collection.size)
      throw new QdrantError(
        400,
        `Wrong input: Vector dimension error: expected dim: ${collection.size}, got ${vector.length}`,
      );
    return vector;
  }

  function checkSparse(collection: Collection, name: string, value: unknown): SparseVector {
    if (!collection.sparseNames.has(name))
      throw new QdrantError(400, `Wrong input: Not existing vector name error: ${name}`);
    return value as SparseVector;
  }

  /** The points an operation names: by `points` (each must exist) or by `filter`. */
  function selected(collection: Collection, operation: Json): Point[] {
    if (operation.points !== undefined)
      return (operation.points as (string | number)[]).map((id) => existing(collection, id));
    return select(collection, operation.filter as Json | undefined);
  }

  function existing(collection: Collection, id: string | number): Point {
    const point = collection.points.get(pointKey(id));
    if (point === undefined) throw new QdrantError(404, `Not found: No point with id ${id} found`);
    return point;
  }

  function deletePoints(collection: Collection, operation: Json): void {
    // Deleting an id that does not exist is not an error.
    const targets =
      operation.points !== undefined
        ? (operation.points as (string | number)[]).map(pointKey)
        : select(collection, operation.filter as Json | undefined).map((point) =>
            pointKey(point.id),
          );
    for (const key of targets) collection.points.delete(key);
  }

  function setPayload(collection: Collection, operation: Json, overwrite: boolean): void {
    const payload = operation.payload as Json;
    const key = operation.key as string | undefined;
    for (const point of selected(collection, operation)) {
      if (overwrite) point.payload = structuredClone(payload);
      else if (key === undefined) Object.assign(point.payload, structuredClone(payload));
      else {
        let target = point.payload;
        for (const segment of parsePath(key)) {
          const next = target[segment];
          if (next === null || typeof next !== 'object' || Array.isArray(next))
            target[segment] = {};
          target = target[segment] as Json;
        }
        Object.assign(target, structuredClone(payload));
      }
    }
  }

  function retrieve(collection: Collection, body: Json): Json[] {
    return (body.ids as (string | number)[]).flatMap((id) => {
      const point = collection.points.get(pointKey(id));
      return point === undefined
        ? []
        : [record(point, body.with_payload ?? true, body.with_vector)];
    });
  }

  function query(collection: Collection, body: Json): Json[] {
    const limit = (body.limit as number | undefined) ?? 10;
    const offset = (body.offset as number | undefined) ?? 0;
    const candidates = select(collection, body.filter as Json | undefined);
    const queryVector = body.query;
    const using = body.using as string | undefined;
    let scored: { point: Point; score: number }[];
    if (Array.isArray(queryVector)) {
      if (using !== undefined && using !== '')
        throw new QdrantError(400, `Wrong input: Not existing vector name error: ${using}`);
      const distance = ((collection.config.params as Json).vectors as Json).distance;
      if (distance !== 'Cosine')
        throw new QdrantError(400, `the double implements Cosine search only, not ${distance}`);
      const unit = normalise(checkDimension(collection, queryVector as number[]));
      scored = candidates.flatMap((point) =>
        point.dense === undefined ? [] : [{ point, score: dot(unit, point.dense) }],
      );
    } else if (queryVector !== undefined && queryVector !== null) {
      const name = using ?? '';
      const sparseQuery = checkSparse(collection, name, queryVector);
      const modifier = (
        (collection.config.params as Json).sparse_vectors as Record<string, Json> | undefined
      )?.[name]?.modifier;
      const holders = [...collection.points.values()].filter((point) => point.sparse.has(name));
      const idf = (index: number): number => {
        if (modifier !== 'idf') return 1;
        const n = holders.filter((point) =>
          (point.sparse.get(name) as SparseVector).indices.includes(index),
        ).length;
        return Math.log((holders.length - n + 0.5) / (n + 0.5) + 1);
      };
      const weights = new Map(
        sparseQuery.indices.map((index, position) => [
          index,
          (sparseQuery.values[position] as number) * idf(index),
        ]),
      );
      scored = candidates.flatMap((point) => {
        const vector = point.sparse.get(name);
        if (vector === undefined) return [];
        let score = 0;
        let shared = false;
        vector.indices.forEach((index, position) => {
          const weight = weights.get(index);
          if (weight === undefined) return;
          shared = true;
          score += weight * (vector.values[position] as number);
        });
        return shared ? [{ point, score }] : [];
      });
    } else {
      scored = candidates.map((point) => ({ point, score: 0 }));
    }
    const threshold = body.score_threshold as number | undefined;
    return scored
      .filter(({ score }) => threshold === undefined || score >= threshold)
      .sort((a, b) => b.score - a.score || compareIds(a.point.id, b.point.id))
      .slice(offset, offset + limit)
      .map(({ point, score }) => ({
        ...record(point, body.with_payload ?? false, body.with_vector),
        version: 0,
        score,
      }));
  }

  function scroll(collection: Collection, body: Json): Json {
    const limit = (body.limit as number | undefined) ?? 10;
    const matching = select(collection, body.filter as Json | undefined);
    const withPayload = body.with_payload ?? true;
    const orderBy =
      typeof body.order_by === 'string'
        ? { key: body.order_by }
        : (body.order_by as Json | undefined);
    if (orderBy !== undefined) {
      const key = orderBy.key as string;
      const schema = collection.payloadSchema.get(key);
      if (schema === undefined || (schema.type === 'integer' && schema.range === false))
        throw new QdrantError(
          400,
          `Bad request: No range index for \`order_by\` key: \`${key}\`. Please create one to use \`order_by\`. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas support Range conditions`,
        );
      if (body.offset !== undefined && body.offset !== null)
        throw new QdrantError(400, 'Bad request: Cannot use an `offset` when using `order_by`');
      const sign = orderBy.direction === 'desc' ? -1 : 1;
      const keyed = matching.flatMap((point) => {
        const numbers = valuesAt(point.payload, key).filter(
          (value): value is number => typeof value === 'number',
        );
        // A point is listed once per value of the key (Qdrant streams the range index).
        return numbers.map((value) => ({ point, value }));
      });
      keyed.sort((a, b) => sign * (a.value - b.value) || compareIds(a.point.id, b.point.id));
      return {
        points: keyed.slice(0, limit).map(({ point, value }) => ({
          ...record(point, withPayload, body.with_vector),
          order_value: value,
        })),
        next_page_offset: null,
      };
    }
    const sorted = matching.sort((a, b) => compareIds(a.id, b.id));
    const offset = body.offset as string | number | undefined;
    const start =
      offset === undefined || offset === null
        ? 0
        : sorted.findIndex((point) => compareIds(point.id, offset) >= 0);
    const page = start < 0 ? [] : sorted.slice(start, start + limit + 1);
    return {
      points: page.slice(0, limit).map((point) => record(point, withPayload, body.with_vector)),
      next_page_offset: page.length > limit ? (page[limit] as Point).id : null,
    };
  }

  function facet(collection: Collection, body: Json): Json {
    const key = body.key as string;
    const schema = collection.payloadSchema.get(key);
    if (
      schema === undefined ||
      !['keyword', 'integer', 'bool', 'uuid'].includes(String(schema.type))
    )
      throw new QdrantError(
        400,
        `Bad request: Index required but not found for "${key}" of one of the following types: [keyword, integer, bool, uuid]. Help: Create an index for this key or use a different filter.`,
      );
    const counts = new Map<string, { value: unknown; count: number }>();
    for (const point of select(collection, body.filter as Json | undefined)) {
      const seen = new Set<string>();
      for (const value of valuesAt(point.payload, key)) {
        const id = JSON.stringify(value);
        if (seen.has(id)) continue;
        seen.add(id);
        const entry = counts.get(id) ?? { value, count: 0 };
        entry.count++;
        counts.set(id, entry);
      }
    }
    const hits = [...counts.values()]
      .sort((a, b) => b.count - a.count || String(a.value).localeCompare(String(b.value)))
      .slice(0, (body.limit as number | undefined) ?? 10);
    return { hits };
  }

  function select(collection: Collection, filter: Json | undefined): Point[] {
    return [...collection.points.values()].filter(
      (point) => filter === undefined || filter === null || matchesFilter(point, filter),
    );
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  (double as { url: string }).url = `http://127.0.0.1:${port}`;
  return double;
}

function send(response: ServerResponse, status: number, body: unknown): number {
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(bytes);
  return bytes.length;
}

/** Qdrant's id forms: an unsigned integer or a UUID (any case, with or without hyphens). */
function pointKey(id: string | number): string {
  if (typeof id === 'number') return String(id);
  const hex = id.replaceAll('-', '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex))
    throw new QdrantError(400, `Format error in JSON body: value ${id} is not a valid point ID`);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function compareIds(a: string | number, b: string | number): number {
  // Integers before UUIDs, as Qdrant orders them.
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  const left = pointKey(a);
  const right = pointKey(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

function normalise(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return norm === 0 ? [...vector] : vector.map((value) => value / norm);
}

function dot(a: number[], b: number[]): number {
  let sum = 0;
  for (let index = 0; index < a.length; index++) sum += (a[index] as number) * (b[index] as number);
  return sum;
}

/** A point as Qdrant returns it, its payload cut to `with_payload`. */
function record(point: Point, withPayload: unknown, withVector: unknown): Json {
  const vector =
    withVector === true
      ? point.sparse.size === 0
        ? point.dense
        : { ...(point.dense ? { '': point.dense } : {}), ...Object.fromEntries(point.sparse) }
      : null;
  return {
    id: point.id,
    payload: selectPayload(point.payload, withPayload),
    vector,
    shard_key: null,
    order_value: null,
  };
}

function selectPayload(payload: Json, withPayload: unknown): Json | null {
  if (withPayload === false) return null;
  if (withPayload === true) return structuredClone(payload);
  const include = Array.isArray(withPayload)
    ? (withPayload as string[])
    : ((withPayload as { include?: string[] }).include ?? undefined);
  const exclude = Array.isArray(withPayload)
    ? []
    : ((withPayload as { exclude?: string[] }).exclude ?? []);
  let selected: Json = {};
  if (include === undefined) selected = structuredClone(payload);
  else
    for (const key of include) {
      const path = parsePath(key);
      let source: unknown = payload;
      for (const segment of path) {
        source =
          source !== null && typeof source === 'object' && !Array.isArray(source)
            ? (source as Json)[segment]
            : undefined;
      }
      if (source === undefined) continue;
      let target = selected;
      path.slice(0, -1).forEach((segment) => {
        target[segment] ??= {};
        target = target[segment] as Json;
      });
      target[path[path.length - 1] as string] = structuredClone(source);
    }
  for (const key of exclude) delete selected[key];
  return selected;
}

/** `a.b."c-d"` → `['a', 'b', 'c-d']` (`[]` suffixes dropped: arrays are walked anyway). */
function parsePath(key: string): string[] {
  const segments: string[] = [];
  const pattern = /"([^"]*)"|([^.[\]"]+)|\[\]/g;
  for (const match of key.matchAll(pattern)) {
    if (match[1] !== undefined) segments.push(match[1]);
    else if (match[2] !== undefined) segments.push(match[2]);
  }
  return segments;
}

/** Every value at a key path, arrays flattened on the way and at the end, as Qdrant reads them. */
function valuesAt(payload: Json, key: string): unknown[] {
  let current: unknown[] = [payload];
  for (const segment of parsePath(key)) {
    const next: unknown[] = [];
    for (const value of current) {
      const children = Array.isArray(value) ? value : [value];
      for (const child of children) {
        if (child !== null && typeof child === 'object' && !Array.isArray(child)) {
          const found = (child as Json)[segment];
          if (found !== undefined) next.push(found);
        }
      }
    }
    current = next;
  }
  return current.flatMap((value) => (Array.isArray(value) ? value : [value]));
}

function matchesFilter(point: Point, filter: Json): boolean {
  const must = (filter.must ?? []) as Json[] | Json;
  const should = (filter.should ?? []) as Json[] | Json;
  const mustNot = (filter.must_not ?? []) as Json[] | Json;
  const list = (value: Json[] | Json): Json[] => (Array.isArray(value) ? value : [value]);
  if (!list(must).every((condition) => matchesCondition(point, condition))) return false;
  const shoulds = list(should);
  if (shoulds.length > 0 && !shoulds.some((condition) => matchesCondition(point, condition)))
    return false;
  const minShould = filter.min_should as { conditions: Json[]; min_count: number } | undefined;
  if (
    minShould !== undefined &&
    minShould.conditions.filter((condition) => matchesCondition(point, condition)).length <
      minShould.min_count
  )
    return false;
  return !list(mustNot).some((condition) => matchesCondition(point, condition));
}

function matchesCondition(point: Point, condition: Json): boolean {
  if (
    'must' in condition ||
    'should' in condition ||
    'must_not' in condition ||
    'min_should' in condition
  )
    return matchesFilter(point, condition);
  if ('has_id' in condition) {
    const key = pointKey(point.id);
    return (condition.has_id as (string | number)[]).some((id) => pointKey(id) === key);
  }
  if ('is_empty' in condition) {
    const values = valuesAt(point.payload, (condition.is_empty as { key: string }).key);
    return values.every((value) => value === null);
  }
  if ('is_null' in condition) {
    const key = (condition.is_null as { key: string }).key;
    return valuesAt(point.payload, key).some((value) => value === null);
  }
  if ('nested' in condition)
    throw new QdrantError(400, 'the double does not implement nested conditions');
  const key = condition.key as string;
  const values = valuesAt(point.payload, key);
  if (condition.match !== undefined) {
    const match = condition.match as Json;
    if ('value' in match) return values.some((value) => sameValue(value, match.value));
    if ('any' in match)
      return values.some((value) =>
        (match.any as unknown[]).some((wanted) => sameValue(value, wanted)),
      );
    if ('except' in match)
      return values.some(
        (value) => !(match.except as unknown[]).some((unwanted) => sameValue(value, unwanted)),
      );
    throw new QdrantError(400, `the double does not implement match ${JSON.stringify(match)}`);
  }
  if (condition.range !== undefined) {
    const range = condition.range as { gt?: number; gte?: number; lt?: number; lte?: number };
    return values.some(
      (value) =>
        typeof value === 'number' &&
        (range.gt === undefined || range.gt === null || value > range.gt) &&
        (range.gte === undefined || range.gte === null || value >= range.gte) &&
        (range.lt === undefined || range.lt === null || value < range.lt) &&
        (range.lte === undefined || range.lte === null || value <= range.lte),
    );
  }
  throw new QdrantError(
    400,
    `the double does not implement the condition ${JSON.stringify(condition)}`,
  );
}

/** Qdrant's match is typed: a keyword matches strings, an integer integers, a bool booleans. */
function sameValue(stored: unknown, wanted: unknown): boolean {
  if (typeof wanted === 'number')
    return typeof stored === 'number' && Number.isInteger(stored) && stored === wanted;
  return typeof stored === typeof wanted && stored === wanted;
}
