/**
 * Loopback stand-in for the GitHub Actions cache service, faithful enough that the real
 * `@actions/cache` 6 client saves to it and restores from it, over either protocol:
 *
 * - v1 (GHES, Gitea, Forgejo, and github.com when ACTIONS_CACHE_SERVICE_V2 is unset):
 *   `${ACTIONS_CACHE_URL}_apis/artifactcache/...` — GET `cache?keys=&version=` (lookup, 204 on a
 *   miss), GET `caches?key=` (debug listing), POST `caches` (reserve), PATCH `caches/{id}` (chunk
 *   with Content-Range), POST `caches/{id}` (commit). The archive is then fetched from the
 *   `archiveLocation` the lookup returns.
 * - v2 (github.com with ACTIONS_CACHE_SERVICE_V2 set): twirp JSON at
 *   `${ACTIONS_RESULTS_URL}twirp/github.actions.results.api.v1.CacheService/{Method}`
 *   (CreateCacheEntry, FinalizeCacheEntryUpload, GetCacheEntryDownloadURL), the archive being
 *   PUT to the signed upload URL by the Azure SDK (`BlockBlobClient.uploadFile`: one `PUT` with
 *   `x-ms-blob-type: BlockBlob` up to 128 MiB, else `?comp=block` + `?comp=blocklist`).
 *
 * Signed URLs are "IP style" Azure URLs on loopback (`http://127.0.0.1:PORT/devstoreaccount1/
 * actions-cache/{id}?sig=...`), which is the shape the Azure SDK parses for emulators. Note that
 * because the host is not `*.blob.core.windows.net`, `@actions/cache` downloads them with its plain
 * http-client path (one GET, 5 s socket idle timeout) rather than the Azure SDK segmented download
 * it uses against real Azure.
 *
 * One store (`CacheStore`) holds the entries; it can be shared with the GitHub REST stand-in, which
 * serves `/repos/{o}/{r}/actions/caches` over it.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { gunzipSync } from 'node:zlib'

export type CacheProtocol = 'v1' | 'v2'

/** Protocol-independent kind of a cache request, used for fault injection and the request log. */
export type CacheRequestKind =
  | 'lookup' // v1 GET cache?keys= / v2 GetCacheEntryDownloadURL
  | 'reserve' // v1 POST caches / v2 CreateCacheEntry
  | 'upload' // v1 PATCH caches/{id} / blob PUT (whole blob, block or block list)
  | 'commit' // v1 POST caches/{id} / v2 FinalizeCacheEntryUpload
  | 'download' // archive GET / HEAD
  | 'list' // v1 GET caches?key= (only issued by the client in debug mode)
  | 'other'

export type ArchiveCompression = 'zstd' | 'gzip' | 'tar' | 'unknown'

export interface CacheEntry {
  /** cacheId (v1), entry_id (v2) and the REST API `id`. */
  id: number
  /** Key as stored (lowercased in `lowercaseKeys` mode). */
  key: string
  /** The version hash the client sent: sha256 of paths, compression method and OS flag. */
  version: string
  /** Scope: the git ref the entry was saved from. */
  ref: string
  /** Archive size in bytes once committed; the announced size before. */
  size: number
  createdAt: Date
  lastAccessedAt: Date
  committed: boolean
  /** Protocol the entry was created through. */
  protocol: CacheProtocol | 'seed'
  /** The archive bytes exactly as uploaded (compressed tar). Empty until committed. */
  archive: Buffer
  /** Compression detected from the archive's magic bytes. */
  compression: ArchiveCompression
}

export interface CacheStoreOptions {
  /** Mimic Gitea / Forgejo (act's cache server): keys are lowercased when saved and looked up. */
  lowercaseKeys?: boolean
  /**
   * Mimic act's cache server (Gitea / Forgejo runners): reserving an existing key+version creates
   * another entry instead of failing, and lookups return the newest. GitHub and GHES refuse (409).
   */
  allowDuplicateKeys?: boolean
  /** Scope new entries are saved under and searched first. Default `refs/heads/main`. */
  ref?: string
  /** Searched after `ref` when restoring, like GitHub falls back to the default branch. */
  defaultBranchRef?: string
}

export interface SeedEntry {
  key: string
  version: string
  archive?: Buffer
  ref?: string
  createdAt?: Date
}

export interface ListFilter {
  /** Key prefix (the REST API's `key` filter). */
  key?: string
  ref?: string
  sort?: 'created_at' | 'last_accessed_at' | 'size_in_bytes'
  direction?: 'asc' | 'desc'
}

interface Upload {
  sig: string
  chunks: { start: number; data: Buffer }[]
  blob?: Buffer
  blocks: Map<string, Buffer>
}

/** In-memory cache entries, shared by the cache service stand-in and the GitHub REST stand-in. */
export class CacheStore {
  readonly entries: CacheEntry[] = []
  lowercaseKeys: boolean
  allowDuplicateKeys: boolean
  ref: string
  defaultBranchRef: string
  private nextId = 1
  private readonly uploads = new Map<number, Upload>()

  constructor(options: CacheStoreOptions = {}) {
    this.lowercaseKeys = options.lowercaseKeys ?? false
    this.allowDuplicateKeys = options.allowDuplicateKeys ?? false
    this.ref = options.ref ?? 'refs/heads/main'
    this.defaultBranchRef = options.defaultBranchRef ?? 'refs/heads/main'
  }

  /** Entries a restore or the REST API can see. */
  get committed(): CacheEntry[] {
    return this.entries.filter((e) => e.committed)
  }

  normalizeKey(key: string): string {
    return this.lowercaseKeys ? key.toLowerCase() : key
  }

  get(id: number): CacheEntry | undefined {
    return this.entries.find((e) => e.id === id)
  }

  /** Committed entries whose key is exactly `key` (after normalisation), newest first. */
  byKey(key: string): CacheEntry[] {
    const k = this.normalizeKey(key)
    return newestFirst(this.committed.filter((e) => e.key === k))
  }

  /**
   * The service's matching: for each scope (current ref, then the default branch), for each key in
   * order (primary, then restore keys): an exact match, else the newest entry the key is a prefix
   * of. Only entries with the same version are considered. Note that the primary key is prefix
   * matched too, as on GitHub ("If no exact match is found, it will search for partial matches of
   * the key").
   */
  find(keys: string[], version: string, ref = this.ref): CacheEntry | undefined {
    const scopes = [...new Set([ref, this.defaultBranchRef])]
    for (const scope of scopes) {
      const candidates = this.committed.filter((e) => e.version === version && e.ref === scope)
      for (const raw of keys) {
        const key = this.normalizeKey(raw)
        const exact = newestFirst(candidates.filter((e) => e.key === key))[0]
        if (exact) return exact
        const prefixed = newestFirst(candidates.filter((e) => e.key.startsWith(key)))[0]
        if (prefixed) return prefixed
      }
    }
    return undefined
  }

  /** Creates a pending entry, or reports the entry that already holds key+version+ref. */
  reserve(
    key: string,
    version: string,
    protocol: CacheProtocol,
    size = 0
  ): { entry: CacheEntry; conflict?: undefined } | { entry?: undefined; conflict: CacheEntry } {
    const k = this.normalizeKey(key)
    if (!this.allowDuplicateKeys) {
      const existing = this.entries.find(
        (e) => e.key === k && e.version === version && e.ref === this.ref
      )
      if (existing) return { conflict: existing }
    }
    const now = new Date()
    const entry: CacheEntry = {
      id: this.nextId++,
      key: k,
      version,
      ref: this.ref,
      size,
      createdAt: now,
      lastAccessedAt: now,
      committed: false,
      protocol,
      archive: Buffer.alloc(0),
      compression: 'unknown'
    }
    this.entries.push(entry)
    this.uploads.set(entry.id, {
      sig: randomBytes(16).toString('base64url'),
      chunks: [],
      blocks: new Map()
    })
    return { entry }
  }

  /** Pending entry for key+version in the current scope (v2 finalize addresses it that way). */
  pending(key: string, version: string): CacheEntry | undefined {
    const k = this.normalizeKey(key)
    return this.entries.find(
      (e) => !e.committed && e.key === k && e.version === version && e.ref === this.ref
    )
  }

  commit(entry: CacheEntry, archive: Buffer): void {
    entry.archive = archive
    entry.size = archive.length
    entry.compression = detectCompression(archive)
    entry.committed = true
    const upload = this.uploads.get(entry.id)
    if (upload) {
      upload.chunks = []
      upload.blocks.clear()
      upload.blob = undefined
    }
  }

  /** Adds a committed entry directly, for tests that start from an existing cache. */
  seed(seed: SeedEntry): CacheEntry {
    const archive = seed.archive ?? Buffer.alloc(0)
    const createdAt = seed.createdAt ?? new Date()
    const entry: CacheEntry = {
      id: this.nextId++,
      key: this.normalizeKey(seed.key),
      version: seed.version,
      ref: seed.ref ?? this.ref,
      size: archive.length,
      createdAt,
      lastAccessedAt: createdAt,
      committed: true,
      protocol: 'seed',
      archive,
      compression: detectCompression(archive)
    }
    this.entries.push(entry)
    this.uploads.set(entry.id, {
      sig: randomBytes(16).toString('base64url'),
      chunks: [],
      blocks: new Map()
    })
    return entry
  }

  delete(id: number): boolean {
    const index = this.entries.findIndex((e) => e.id === id)
    if (index < 0) return false
    this.entries.splice(index, 1)
    this.uploads.delete(id)
    return true
  }

  /** Committed entries matching a REST-style filter, sorted (default: last_accessed_at desc). */
  list(filter: ListFilter = {}): CacheEntry[] {
    const field = filter.sort ?? 'last_accessed_at'
    const sign = (filter.direction ?? 'desc') === 'desc' ? -1 : 1
    const value = (e: CacheEntry): number =>
      field === 'created_at'
        ? e.createdAt.getTime()
        : field === 'size_in_bytes'
          ? e.size
          : e.lastAccessedAt.getTime()
    return this.committed
      .filter((e) => filter.key === undefined || e.key.startsWith(filter.key))
      .filter((e) => filter.ref === undefined || e.ref === filter.ref)
      .sort((a, b) => sign * (value(a) - value(b)) || sign * (a.id - b.id))
  }

  /** @internal upload state for the HTTP layer. */
  upload(id: number): Upload | undefined {
    return this.uploads.get(id)
  }
}

function newestFirst(entries: CacheEntry[]): CacheEntry[] {
  return [...entries].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || b.id - a.id)
}

export function detectCompression(archive: Buffer): ArchiveCompression {
  if (archive.length >= 4 && archive.readUInt32LE(0) === 0xfd2fb528) return 'zstd'
  if (archive.length >= 2 && archive[0] === 0x1f && archive[1] === 0x8b) return 'gzip'
  if (archive.length >= 262 && archive.subarray(257, 262).toString('latin1') === 'ustar') {
    return 'tar'
  }
  return 'unknown'
}

// ---------------------------------------------------------------------------------------------
// Archive inspection

export interface ArchiveMember {
  /** Path as stored: relative to GITHUB_WORKSPACE, so paths outside it start with `../`. */
  path: string
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other'
  mode: number
  size: number
  linkname: string
  data: Buffer
}

/** Decompresses an archive to plain tar bytes (zstd through the `unzstd` binary). */
export function decompressArchive(archive: Buffer): Buffer {
  switch (detectCompression(archive)) {
    case 'gzip':
      return gunzipSync(archive)
    case 'zstd':
      return execFileSync('zstd', ['-d', '-c', '-q'], {
        input: archive,
        maxBuffer: 1024 * 1024 * 1024
      })
    case 'tar':
      return archive
    default:
      throw new Error('archive is neither zstd, gzip nor tar')
  }
}

/** Reads the members of a cache archive without touching the filesystem. */
export function readArchive(archive: Buffer | CacheEntry): ArchiveMember[] {
  const tar = decompressArchive(Buffer.isBuffer(archive) ? archive : archive.archive)
  const members: ArchiveMember[] = []
  let offset = 0
  let pax: Record<string, string> = {}
  let globalPax: Record<string, string> = {}
  let longName: string | undefined
  let longLink: string | undefined
  const text = (start: number, length: number): string => {
    const raw = tar.subarray(start, start + length)
    const nul = raw.indexOf(0)
    return raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8')
  }
  const octal = (start: number, length: number): number =>
    parseInt(text(start, length).trim() || '0', 8)
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512)
    if (header.every((b) => b === 0)) break
    let size = octal(offset + 124, 12)
    const typeflag = String.fromCharCode(header[156] || 48)
    const dataStart = offset + 512
    const next = dataStart + Math.ceil(size / 512) * 512
    if (typeflag === 'x' || typeflag === 'g') {
      const records = parsePax(tar.subarray(dataStart, dataStart + size))
      if (typeflag === 'x') pax = records
      else globalPax = { ...globalPax, ...records }
      offset = next
      continue
    }
    if (typeflag === 'L' || typeflag === 'K') {
      const value = text(dataStart, size)
      if (typeflag === 'L') longName = value
      else longLink = value
      offset = next
      continue
    }
    const attrs = { ...globalPax, ...pax }
    const prefix = text(offset + 345, 155)
    const baseName = text(offset, 100)
    const ustar = text(offset + 257, 6).startsWith('ustar')
    let path = attrs.path ?? longName ?? (ustar && prefix ? `${prefix}/${baseName}` : baseName)
    if (attrs.size !== undefined) size = parseInt(attrs.size, 10)
    const linkname = attrs.linkpath ?? longLink ?? text(offset + 157, 100)
    const type: ArchiveMember['type'] =
      typeflag === '0' || typeflag === '\0' || typeflag === '7'
        ? 'file'
        : typeflag === '5'
          ? 'directory'
          : typeflag === '2'
            ? 'symlink'
            : typeflag === '1'
              ? 'hardlink'
              : 'other'
    if (type === 'directory' && !path.endsWith('/')) path = `${path}/`
    members.push({
      path,
      type,
      mode: octal(offset + 100, 8),
      size,
      linkname,
      data:
        type === 'file' ? Buffer.from(tar.subarray(dataStart, dataStart + size)) : Buffer.alloc(0)
    })
    pax = {}
    longName = undefined
    longLink = undefined
    offset = dataStart + Math.ceil(size / 512) * 512
  }
  return members
}

function parsePax(data: Buffer): Record<string, string> {
  const records: Record<string, string> = {}
  let offset = 0
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset)
    if (space < 0) break
    const length = parseInt(data.subarray(offset, space).toString('ascii'), 10)
    if (!length) break
    const record = data.subarray(space + 1, offset + length - 1).toString('utf8')
    const eq = record.indexOf('=')
    if (eq > 0) records[record.slice(0, eq)] = record.slice(eq + 1)
    offset += length
  }
  return records
}

/** Files of an archive as a map from stored path to UTF-8 content, for terse assertions. */
export function archiveFiles(archive: Buffer | CacheEntry): Record<string, string> {
  const files: Record<string, string> = {}
  for (const m of readArchive(archive))
    if (m.type === 'file') files[m.path] = m.data.toString('utf8')
  return files
}

// ---------------------------------------------------------------------------------------------
// Fault injection, shared with the GitHub REST stand-in

export interface Fault {
  /** How many matching requests this applies to. Default 1. */
  count?: number
  /** Status to answer with. Default 500. */
  status?: number
  /** Response body; objects are sent as JSON. Default: a protocol-appropriate error body. */
  body?: string | object
  headers?: Record<string, string>
  /** Accept the request and never answer it (until `releaseHung()` or `close()`). */
  hang?: boolean
  /** Destroy the connection without answering (the client sees ECONNRESET). */
  reset?: boolean
}

export interface PendingFault<M> extends Fault {
  match: M
  remaining: number
}

/** Queue of injected faults; the first queued fault whose matcher accepts a request is used. */
export class FaultQueue<M> {
  private readonly faults: PendingFault<M>[] = []
  readonly hung = new Set<ServerResponse>()

  constructor(private readonly accepts: (match: M, request: IncomingMessage) => boolean) {}

  add(match: M, fault: Fault = {}): PendingFault<M> {
    const pending: PendingFault<M> = { ...fault, match, remaining: fault.count ?? 1 }
    this.faults.push(pending)
    return pending
  }

  clear(): void {
    this.faults.length = 0
  }

  /** Takes one use of the first fault matching the request, if any. */
  take(request: IncomingMessage): PendingFault<M> | undefined {
    const fault = this.faults.find((f) => f.remaining > 0 && this.accepts(f.match, request))
    if (!fault) return undefined
    fault.remaining -= 1
    if (fault.remaining <= 0) this.faults.splice(this.faults.indexOf(fault), 1)
    return fault
  }

  /** Applies a fault to a response: answers it with the fault's status, holds it, or resets it. */
  apply(
    fault: PendingFault<M>,
    res: ServerResponse,
    defaultBody: () => { contentType: string; body: string }
  ): void {
    if (fault.hang) {
      this.hung.add(res)
      res.on('close', () => this.hung.delete(res))
      return
    }
    if (fault.reset) {
      res.socket?.destroy()
      return
    }
    const fallback = defaultBody()
    const body =
      fault.body === undefined
        ? fallback.body
        : typeof fault.body === 'string'
          ? fault.body
          : JSON.stringify(fault.body)
    const contentType =
      fault.body === undefined
        ? fallback.contentType
        : typeof fault.body === 'string'
          ? 'text/plain'
          : 'application/json; charset=utf-8'
    res.writeHead(fault.status ?? 500, { 'content-type': contentType, ...fault.headers })
    res.end(body)
  }

  /** Ends hung requests by destroying their connections. */
  releaseHung(): number {
    const count = this.hung.size
    for (const res of this.hung) res.socket?.destroy()
    this.hung.clear()
    return count
  }
}

/** Request log that can be awaited: `waitFor` resolves with the first (past or future) match. */
export class RequestLog<R> extends Array<R> {
  private readonly waiters = new Set<{ match: (r: R) => boolean; resolve: (r: R) => void }>()

  static override get [Symbol.species](): ArrayConstructor {
    return Array
  }

  record(request: R): void {
    this.push(request)
    for (const waiter of this.waiters) {
      if (waiter.match(request)) {
        this.waiters.delete(waiter)
        waiter.resolve(request)
      }
    }
  }

  waitFor(match: (r: R) => boolean): Promise<R> {
    const found = this.find(match)
    if (found) return Promise.resolve(found)
    return new Promise((resolve) => this.waiters.add({ match, resolve }))
  }
}

/** Reads a request body fully. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

/** Starts an HTTP server on 127.0.0.1 with an ephemeral port; `close()` drops all connections. */
export async function listenLoopback(
  handler: (req: IncomingMessage, res: ServerResponse) => void
): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const server = createServer(handler)
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const s of sockets) s.destroy()
    })
    return closed
  }
  return { server, url: `http://127.0.0.1:${port}`, close }
}

// ---------------------------------------------------------------------------------------------
// The cache service

export interface CacheServerOptions extends CacheStoreOptions {
  /** Which protocol `env` selects. The server answers both regardless. */
  protocol: CacheProtocol
  /** Share an existing store (its own options then apply; the store options here are ignored). */
  store?: CacheStore
  /** Runtime token the service expects as `Authorization: Bearer`. Default: a JWT-shaped token. */
  token?: string
  /** Answer reads like a token without readable cache scopes (`cache read denied:`). */
  denyReads?: boolean
  /** Answer writes like a read-only token (`cache write denied:`), e.g. untrusted fork events. */
  denyWrites?: boolean
  /** v1: refuse reservations announcing more than this many bytes (400, like the data cap). */
  maxSizeBytes?: number
}

export interface CacheRequest {
  protocol: CacheProtocol | 'blob'
  kind: CacheRequestKind
  method: string
  /** Path and query as received. */
  url: string
  headers: IncomingMessage['headers']
  /** Parsed JSON body for v1 and twirp calls. */
  json?: unknown
  /** Body size for uploads. */
  bytes: number
  /** Response status (undefined while pending, for hung or reset requests). */
  status?: number
  fault?: boolean
  at: Date
}

export interface CacheServer {
  /** Base URL of the server, without a trailing slash. */
  url: string
  protocol: CacheProtocol
  /** Environment that points `@actions/cache` at this server for `protocol`. */
  env: Record<string, string>
  /** Environment for either protocol. */
  envFor(protocol: CacheProtocol): Record<string, string>
  token: string
  store: CacheStore
  /** Shortcut for `store.entries` (pending ones included; see `store.committed`). */
  readonly entries: CacheEntry[]
  requests: RequestLog<CacheRequest>
  /** Resolves with the first request (already received or future) matching. */
  waitForRequest(match: (r: CacheRequest) => boolean): Promise<CacheRequest>
  /** Makes the next `count` requests of a kind ('*' for any) fail, hang or reset. */
  failNext(kind: CacheRequestKind | '*', fault?: Fault): void
  clearFaults(): void
  /** Ends requests held by `hang` faults (their connections are destroyed). */
  releaseHung(): number
  denyReads: boolean
  denyWrites: boolean
  close(): Promise<void>
}

const TWIRP_PREFIX = '/twirp/github.actions.results.api.v1.CacheService/'
const BLOB_PREFIX = '/devstoreaccount1/actions-cache/'
const V1_SERVICE_PATH = '/_services/pipelines/cachestandin/'

export async function startCacheServer(options: CacheServerOptions): Promise<CacheServer> {
  const store =
    options.store ??
    new CacheStore({
      lowercaseKeys: options.lowercaseKeys,
      allowDuplicateKeys: options.allowDuplicateKeys,
      ref: options.ref,
      defaultBranchRef: options.defaultBranchRef
    })
  const token = options.token ?? runtimeToken(store.ref)
  const requests = new RequestLog<CacheRequest>()
  const faults = new FaultQueue<CacheRequestKind | '*'>(
    (match, req) => match === '*' || match === classify(req).kind
  )
  let base = ''

  const state = {
    denyReads: options.denyReads ?? false,
    denyWrites: options.denyWrites ?? false
  }

  const blobUrl = (entry: CacheEntry): string => {
    const sig = store.upload(entry.id)?.sig ?? ''
    const expiry = new Date(Date.now() + 60 * 60 * 1000).toISOString()
    return `${base}${BLOB_PREFIX}${entry.id}?sv=2025-01-05&se=${encodeURIComponent(expiry)}&sr=b&sp=rw&sig=${encodeURIComponent(sig)}`
  }

  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { protocol, kind } = classify(req)
    const record: CacheRequest = {
      protocol,
      kind,
      method: req.method ?? 'GET',
      url: req.url ?? '/',
      headers: req.headers,
      bytes: 0,
      at: new Date()
    }
    res.on('finish', () => (record.status = res.statusCode))
    const body = await readBody(req)
    record.bytes = body.length
    if (protocol !== 'blob' && body.length > 0) {
      try {
        record.json = JSON.parse(body.toString('utf8'))
      } catch {
        record.json = undefined
      }
    }
    const fault = faults.take(req)
    if (fault) record.fault = true
    requests.record(record)
    if (fault) {
      faults.apply(fault, res, () =>
        protocol === 'v2'
          ? {
              contentType: 'application/json',
              body: JSON.stringify({ code: 'internal', msg: 'injected failure' })
            }
          : protocol === 'blob'
            ? {
                contentType: 'application/xml',
                body: azureError('InternalError', 'injected failure')
              }
            : {
                contentType: 'application/json; charset=utf-8',
                body: JSON.stringify({ message: 'injected failure' })
              }
      )
      return
    }
    if (protocol === 'v1') return handleV1(req, res, record, body)
    if (protocol === 'v2') return handleV2(req, res, record)
    if (protocol === 'blob') return handleBlob(req, res, body)
    sendJson(res, 404, { message: 'Not Found' })
  }

  const authorized = (req: IncomingMessage): boolean =>
    req.headers.authorization === `Bearer ${token}`

  const handleV1 = (
    req: IncomingMessage,
    res: ServerResponse,
    record: CacheRequest,
    body: Buffer
  ): void => {
    if (!authorized(req)) {
      sendJson(res, 401, { message: 'Unauthorized: missing or invalid ACTIONS_RUNTIME_TOKEN' })
      return
    }
    const url = new URL(req.url ?? '/', base)
    const resource = url.pathname.slice(url.pathname.indexOf('/_apis/artifactcache/') + 21)
    const json = (record.json ?? {}) as Record<string, unknown>
    if (req.method === 'GET' && resource === 'cache') {
      if (state.denyReads) {
        sendJson(res, 403, { message: 'cache read denied: token has no readable cache scopes' })
        return
      }
      const keys = (url.searchParams.get('keys') ?? '').split(',').filter((k) => k !== '')
      const version = url.searchParams.get('version') ?? ''
      if (keys.length === 0 || !version) {
        sendJson(res, 400, { message: 'keys and version are required' })
        return
      }
      const entry = store.find(keys, version)
      if (!entry) {
        res.writeHead(204).end()
        return
      }
      entry.lastAccessedAt = new Date()
      sendJson(res, 200, {
        scope: entry.ref,
        cacheKey: entry.key,
        cacheVersion: entry.version,
        creationTime: entry.createdAt.toISOString(),
        archiveLocation: blobUrl(entry)
      })
      return
    }
    if (req.method === 'GET' && resource === 'caches') {
      const key = store.normalizeKey(url.searchParams.get('key') ?? '')
      const found = store.committed.filter((e) => e.key === key)
      sendJson(res, 200, {
        totalCount: found.length,
        artifactCaches: found.map((e) => ({
          scope: e.ref,
          cacheKey: e.key,
          cacheVersion: e.version,
          creationTime: e.createdAt.toISOString()
        }))
      })
      return
    }
    if (req.method === 'POST' && resource === 'caches') {
      const key = typeof json.key === 'string' ? json.key : ''
      const version = typeof json.version === 'string' ? json.version : ''
      const cacheSize = typeof json.cacheSize === 'number' ? json.cacheSize : 0
      if (!key || !version) {
        sendJson(res, 400, { message: 'key and version are required' })
        return
      }
      if (state.denyWrites) {
        sendJson(res, 403, { message: 'cache write denied: token has no writable cache scopes' })
        return
      }
      if (options.maxSizeBytes !== undefined && cacheSize > options.maxSizeBytes) {
        sendJson(res, 400, {
          message: `Cache size of ~${Math.round(cacheSize / (1024 * 1024))} MB (${cacheSize} B) is over the data cap limit, not saving cache.`
        })
        return
      }
      const result = store.reserve(key, version, 'v1', cacheSize)
      if (result.conflict) {
        sendJson(res, 409, {
          $id: '1',
          innerException: null,
          message: `Cache already exists. Scope: ${result.conflict.ref}, Key: ${result.conflict.key}, Version: ${version}`,
          typeName:
            'Microsoft.Azure.DevOps.PipelineCache.WebApi.ArtifactCacheAlreadyExistsException, Microsoft.Azure.DevOps.PipelineCache.WebApi',
          typeKey: 'ArtifactCacheAlreadyExistsException',
          errorCode: 0,
          eventId: 3000
        })
        return
      }
      sendJson(res, 201, { cacheId: result.entry.id })
      return
    }
    const idMatch = /^caches\/(\d+)$/.exec(resource)
    if (idMatch) {
      const entry = store.get(Number(idMatch[1]))
      const upload = entry && store.upload(entry.id)
      if (!entry || !upload) {
        sendJson(res, 404, { message: `Cache ${idMatch[1]} not found` })
        return
      }
      if (entry.committed) {
        sendJson(res, 400, { message: `Cache ${entry.id} is already committed` })
        return
      }
      if (req.method === 'PATCH') {
        const range = /^bytes (\d+)-(\d+)\/(\*|\d+)$/.exec(req.headers['content-range'] ?? '')
        if (!range) {
          sendJson(res, 400, { message: 'Content-Range header is required' })
          return
        }
        const start = Number(range[1])
        const end = Number(range[2])
        if (end - start + 1 !== body.length) {
          sendJson(res, 400, { message: 'Content-Range does not match the body length' })
          return
        }
        upload.chunks.push({ start, data: body })
        res.writeHead(204).end()
        return
      }
      if (req.method === 'POST') {
        const size = typeof json.size === 'number' ? json.size : -1
        const archive = assembleChunks(upload.chunks)
        if (!archive || archive.length !== size) {
          sendJson(res, 400, {
            message: `Uploaded cache size ${archive?.length ?? 'incomplete'} does not match the committed size ${size}`
          })
          return
        }
        store.commit(entry, archive)
        res.writeHead(204).end()
        return
      }
    }
    sendJson(res, 404, { message: `No route for ${req.method} ${resource}` })
  }

  const handleV2 = (req: IncomingMessage, res: ServerResponse, record: CacheRequest): void => {
    if (req.method !== 'POST') {
      twirpError(res, 404, 'bad_route', 'twirp requires POST')
      return
    }
    if (!authorized(req)) {
      twirpError(res, 401, 'unauthenticated', 'invalid or missing ACTIONS_RUNTIME_TOKEN')
      return
    }
    const method = (req.url ?? '').slice(TWIRP_PREFIX.length).split('?')[0]
    const json = record.json as Record<string, unknown> | undefined
    if (!json || typeof json !== 'object') {
      twirpError(res, 400, 'malformed', 'the request body could not be decoded')
      return
    }
    const key = typeof json.key === 'string' ? json.key : ''
    const version = typeof json.version === 'string' ? json.version : ''
    if (method === 'CreateCacheEntry') {
      if (!key || !version) {
        twirpError(res, 400, 'invalid_argument', 'key and version are required')
        return
      }
      if (state.denyWrites) {
        sendJson(res, 200, {
          ok: false,
          message: 'cache write denied: token has no writable scopes'
        })
        return
      }
      const result = store.reserve(key, version, 'v2')
      if (result.conflict) {
        twirpError(
          res,
          409,
          'already_exists',
          'cache entry with the same key, version, and scope already exists'
        )
        return
      }
      sendJson(res, 200, { ok: true, signed_upload_url: blobUrl(result.entry) })
      return
    }
    if (method === 'FinalizeCacheEntryUpload') {
      const entry = store.pending(key, version)
      const upload = entry && store.upload(entry.id)
      if (!entry || !upload) {
        twirpError(res, 404, 'not_found', 'cache entry not found')
        return
      }
      if (!upload.blob) {
        sendJson(res, 200, {
          ok: false,
          entry_id: '0',
          message: 'cache entry has no uploaded blob'
        })
        return
      }
      store.commit(entry, upload.blob)
      sendJson(res, 200, { ok: true, entry_id: String(entry.id) })
      return
    }
    if (method === 'GetCacheEntryDownloadURL') {
      if (state.denyReads) {
        twirpError(res, 403, 'permission_denied', 'cache read denied: token has no readable scopes')
        return
      }
      const restoreKeys = Array.isArray(json.restore_keys)
        ? json.restore_keys.filter((k): k is string => typeof k === 'string')
        : []
      const entry = key && version ? store.find([key, ...restoreKeys], version) : undefined
      if (!entry) {
        sendJson(res, 200, { ok: false, signed_download_url: '', matched_key: '' })
        return
      }
      entry.lastAccessedAt = new Date()
      sendJson(res, 200, { ok: true, signed_download_url: blobUrl(entry), matched_key: entry.key })
      return
    }
    twirpError(res, 404, 'bad_route', `no handler for path "${req.url}"`)
  }

  const handleBlob = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const url = new URL(req.url ?? '/', base)
    const entry = store.get(Number(url.pathname.slice(BLOB_PREFIX.length)))
    const upload = entry && store.upload(entry.id)
    if (!entry || !upload) {
      sendXml(res, 404, azureError('BlobNotFound', 'The specified blob does not exist.'))
      return
    }
    if (url.searchParams.get('sig') !== upload.sig) {
      sendXml(
        res,
        403,
        azureError(
          'AuthenticationFailed',
          'Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.'
        )
      )
      return
    }
    const common = {
      'x-ms-request-id': randomBytes(16).toString('hex'),
      'x-ms-version': req.headers['x-ms-version'] ?? '2025-01-05',
      date: new Date().toUTCString()
    }
    if (req.method === 'PUT') {
      if (entry.committed) {
        sendXml(res, 409, azureError('BlobAlreadyExists', 'The specified blob already exists.'))
        return
      }
      const comp = url.searchParams.get('comp')
      if (comp === 'block') {
        const blockId = url.searchParams.get('blockid') ?? ''
        upload.blocks.set(blockId, body)
        res.writeHead(201, { ...common, 'x-ms-request-server-encrypted': 'true' }).end()
        return
      }
      if (comp === 'blocklist') {
        const ids = [
          ...body.toString('utf8').matchAll(/<(Latest|Committed|Uncommitted)>([^<]*)<\/\1>/g)
        ].map((m) => m[2])
        const parts = ids.map((id) => upload.blocks.get(id))
        if (parts.some((p) => p === undefined)) {
          sendXml(res, 400, azureError('InvalidBlockList', 'The specified block list is invalid.'))
          return
        }
        upload.blob = Buffer.concat(parts as Buffer[])
        res
          .writeHead(201, {
            ...common,
            etag: `"0x${randomBytes(7).toString('hex').toUpperCase()}"`,
            'last-modified': new Date().toUTCString(),
            'x-ms-request-server-encrypted': 'true'
          })
          .end()
        return
      }
      if (req.headers['x-ms-blob-type'] !== 'BlockBlob') {
        sendXml(res, 400, azureError('MissingRequiredHeader', 'x-ms-blob-type is required.'))
        return
      }
      upload.blob = body
      res
        .writeHead(201, {
          ...common,
          etag: `"0x${randomBytes(7).toString('hex').toUpperCase()}"`,
          'last-modified': new Date().toUTCString(),
          'x-ms-request-server-encrypted': 'true'
        })
        .end()
      return
    }
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (!entry.committed) {
        sendXml(res, 404, azureError('BlobNotFound', 'The specified blob does not exist.'))
        return
      }
      const archive = entry.archive
      const headers = {
        ...common,
        'content-type': 'application/octet-stream',
        'accept-ranges': 'bytes',
        'x-ms-blob-type': 'BlockBlob',
        'last-modified': entry.createdAt.toUTCString(),
        etag: `"0x${entry.id.toString(16).toUpperCase().padStart(15, '0')}"`
      }
      const range = /^bytes=(\d+)-(\d*)$/.exec(
        req.headers.range ?? req.headers['x-ms-range']?.toString() ?? ''
      )
      if (range) {
        const start = Number(range[1])
        const end = range[2] ? Math.min(Number(range[2]), archive.length - 1) : archive.length - 1
        const slice = archive.subarray(start, end + 1)
        res.writeHead(206, {
          ...headers,
          'content-length': slice.length,
          'content-range': `bytes ${start}-${end}/${archive.length}`
        })
        res.end(req.method === 'HEAD' ? undefined : slice)
        return
      }
      res.writeHead(200, { ...headers, 'content-length': archive.length })
      res.end(req.method === 'HEAD' ? undefined : archive)
      return
    }
    sendXml(res, 405, azureError('UnsupportedHttpVerb', 'The resource does not support the verb.'))
  }

  const loopback = await listenLoopback((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { message: String(error) })
      else res.destroy()
    })
  })
  base = loopback.url

  const envFor = (protocol: CacheProtocol): Record<string, string> =>
    protocol === 'v2'
      ? {
          ACTIONS_CACHE_SERVICE_V2: 'true',
          ACTIONS_RESULTS_URL: `${base}/`,
          ACTIONS_RUNTIME_TOKEN: token,
          ACTIONS_CACHE_URL: ''
        }
      : {
          ACTIONS_CACHE_SERVICE_V2: '',
          ACTIONS_CACHE_URL: `${base}${V1_SERVICE_PATH}`,
          ACTIONS_RUNTIME_TOKEN: token,
          ACTIONS_RESULTS_URL: ''
        }

  return {
    url: base,
    protocol: options.protocol,
    env: envFor(options.protocol),
    envFor,
    token,
    store,
    get entries() {
      return store.entries
    },
    requests,
    waitForRequest: (match) => requests.waitFor(match),
    failNext: (kind, fault) => void faults.add(kind, fault),
    clearFaults: () => faults.clear(),
    releaseHung: () => faults.releaseHung(),
    get denyReads() {
      return state.denyReads
    },
    set denyReads(value: boolean) {
      state.denyReads = value
    },
    get denyWrites() {
      return state.denyWrites
    },
    set denyWrites(value: boolean) {
      state.denyWrites = value
    },
    close: loopback.close
  }
}

function classify(req: IncomingMessage): {
  protocol: CacheRequest['protocol']
  kind: CacheRequestKind
} {
  const path = (req.url ?? '/').split('?')[0]
  const method = req.method ?? 'GET'
  if (path.startsWith(TWIRP_PREFIX)) {
    const rpc = path.slice(TWIRP_PREFIX.length)
    const kind: CacheRequestKind =
      rpc === 'GetCacheEntryDownloadURL'
        ? 'lookup'
        : rpc === 'CreateCacheEntry'
          ? 'reserve'
          : rpc === 'FinalizeCacheEntryUpload'
            ? 'commit'
            : 'other'
    return { protocol: 'v2', kind }
  }
  if (path.startsWith(BLOB_PREFIX)) {
    return { protocol: 'blob', kind: method === 'PUT' ? 'upload' : 'download' }
  }
  const at = path.indexOf('/_apis/artifactcache/')
  if (at >= 0) {
    const resource = path.slice(at + 21)
    const kind: CacheRequestKind =
      resource === 'cache'
        ? 'lookup'
        : resource === 'caches'
          ? method === 'POST'
            ? 'reserve'
            : 'list'
          : /^caches\/\d+$/.test(resource)
            ? method === 'PATCH'
              ? 'upload'
              : 'commit'
            : 'other'
    return { protocol: 'v1', kind }
  }
  return { protocol: 'v1', kind: 'other' }
}

function assembleChunks(chunks: { start: number; data: Buffer }[]): Buffer | undefined {
  const sorted = [...chunks].sort((a, b) => a.start - b.start)
  let expected = 0
  for (const chunk of sorted) {
    if (chunk.start !== expected) return undefined
    expected += chunk.data.length
  }
  return Buffer.concat(sorted.map((c) => c.data))
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text)
  })
  res.end(text)
}

function twirpError(res: ServerResponse, status: number, code: string, msg: string): void {
  sendJson(res, status, { code, msg })
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(xml),
    'x-ms-error-code': /<Code>([^<]*)<\/Code>/.exec(xml)?.[1] ?? ''
  })
  res.end(xml)
}

function azureError(code: string, message: string): string {
  return `\uFEFF<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${randomBytes(16).toString('hex')}\nTime:${new Date().toISOString()}</Message></Error>`
}

/** A JWT-shaped runtime token carrying cache scopes the way the real one does (`ac` claim). */
function runtimeToken(ref: string): string {
  const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url')
  const now = Math.floor(Date.now() / 1000)
  const header = b64({ typ: 'JWT', alg: 'RS256', x5t: 'standin' })
  const payload = b64({
    nameid: 'dddddddd-dddd-dddd-dddd-dddddddddddd',
    scp: 'Actions.GenericRead:00000000-0000-0000-0000-000000000000 Actions.Results:run:job',
    ac: JSON.stringify([{ Scope: ref, Permission: 3 }]),
    iss: 'vstoken.actions.githubusercontent.com',
    aud: 'vso:standin',
    nbf: now - 60,
    exp: now + 6 * 60 * 60
  })
  return `${header}.${payload}.${randomBytes(32).toString('base64url')}`
}
