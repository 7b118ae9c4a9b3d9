/**
 * What the REST stand-ins (github-api.ts, gitea-api.ts) share of HTTP: a request's record, faults
 * matched by method and path, taking a request's JSON body in, routes of `{param}` patterns, and
 * JSON answers. What the forges answer stays in each stand-in.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { readBody, type FaultQueue, type RequestLog } from './cache-server.js'

/** What a stand-in records of every request. */
export interface HttpRequestRecord {
  method: string
  /** Path without the query string. */
  path: string
  query: Record<string, string>
  url: string
  headers: IncomingMessage['headers']
  /** The Authorization header as sent (e.g. `token ghs_...`), if any. */
  authorization?: string
  json?: unknown
  status?: number
  fault?: boolean
  at: Date
}

/** The record of a request to `url` (resolved); its status is filled in once it is answered. */
export function requestRecord(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL
): HttpRequestRecord {
  const record: HttpRequestRecord = {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    url: req.url ?? '/',
    headers: req.headers,
    authorization: req.headers.authorization,
    at: new Date()
  }
  res.on('finish', () => (record.status = res.statusCode))
  return record
}

/**
 * Which requests a fault is for: `'POST /repos/o/r/issues/1/comments'` (method and exact path),
 * `'/repos/o/r/issues/1/comments'` (any method), `'*'`, a RegExp tested against `'METHOD /path'`,
 * or a predicate.
 */
export type RouteMatch = string | RegExp | ((method: string, path: string) => boolean)

export function routeMatches(match: RouteMatch, method: string, path: string): boolean {
  if (typeof match === 'function') return match(method, path)
  if (match instanceof RegExp) return match.test(`${method} ${path}`)
  if (match === '*') return true
  const space = match.indexOf(' ')
  return space > 0
    ? match.slice(0, space).toUpperCase() === method && match.slice(space + 1) === path
    : match === path
}

export interface Intake<R extends HttpRequestRecord, M> {
  requests: RequestLog<R>
  faults: FaultQueue<M>
  /** Answers a body that is not JSON, as the forge does. */
  badJson(res: ServerResponse): void
  /** The body of a fault's answer, when the fault gives none. */
  faultBody: { contentType: string; body: string }
}

/**
 * Takes a request in: reads its body as JSON, then applies the first queued fault for it; records
 * it once either way. Its JSON (undefined without a body), or undefined when it is answered
 * already (a body that is not JSON, a fault).
 */
export async function takeRequest<R extends HttpRequestRecord, M>(
  req: IncomingMessage,
  res: ServerResponse,
  record: R,
  intake: Intake<R, M>
): Promise<{ json: unknown } | undefined> {
  const raw = await readBody(req)
  let json: unknown
  if (raw.length > 0) {
    try {
      json = JSON.parse(raw.toString('utf8'))
      record.json = json
    } catch {
      intake.requests.record(record)
      intake.badJson(res)
      return undefined
    }
  }
  const fault = intake.faults.take(req)
  if (fault) record.fault = true
  intake.requests.record(record)
  if (fault) {
    intake.faults.apply(fault, res, () => intake.faultBody)
    return undefined
  }
  return { json }
}

/** Answers with `body` as JSON (no body when undefined) and the headers given. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>
): void {
  const text = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(text)) })
  res.end(text)
}

export interface Router<H> {
  /**
   * `{name}` takes one path segment, `{name+}` the rest of the path (branch names have slashes),
   * `{number}` digits only (so `/issues/comments` is not taken for an issue).
   */
  route(method: string, pattern: string, handler: H): void
  /** The first route of the method whose pattern takes the whole path, and what it took. */
  find(method: string, path: string): { handler: H; params: string[] } | undefined
}

export function createRouter<H>(): Router<H> {
  const routes: { method: string; pattern: RegExp; handler: H }[] = []
  return {
    route(method, pattern, handler) {
      const source = pattern
        .replace(/\{[a-z_]+\+\}/g, '(.+)')
        .replace(/\{number\}/g, '(\\d+)')
        .replace(/\{[a-z_]+\}/g, '([^/]+)')
      routes.push({ method, pattern: new RegExp(`^${source}$`), handler })
    },
    find(method, path) {
      for (const r of routes) {
        if (r.method !== method) continue
        const match = r.pattern.exec(path)
        if (match) return { handler: r.handler, params: match.slice(1) }
      }
      return undefined
    }
  }
}
