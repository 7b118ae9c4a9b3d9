/**
 * A stand-in npm registry on 127.0.0.1 that records every request, so a test can point every
 * registry setting at it and prove what a run fetched (or that it fetched nothing). It serves the
 * packages it is given (packuments and tarballs, as registry.npmjs.org does) and answers 404 to
 * everything else.
 */
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'

/** One package version the registry serves. */
export interface RegistryPackage {
  name: string
  version: string
  /** The npm tarball (`package/package.json` and the rest). */
  tarball: Buffer
  /** The version's manifest fields (dependencies, bin...); name and version are added. */
  manifest?: Record<string, unknown>
}

export interface RegistryRequest {
  method: string
  /** The path as sent (`/@scope%2fname`, `/name/-/name-1.0.0.tgz`...). */
  path: string
  /** The package the request was about, when the path names one. */
  packageName?: string
  kind: 'packument' | 'tarball' | 'other'
  status: number
  headers: http.IncomingHttpHeaders
}

export interface Registry {
  /** `http://127.0.0.1:PORT/`, for npm_config_registry and friends. */
  url: string
  requests: RegistryRequest[]
  /** Resolves with the first request (already received or future) that matches. */
  waitForRequest(predicate: (request: RegistryRequest) => boolean): Promise<RegistryRequest>
  /** Serves another package version from now on. */
  add(pkg: RegistryPackage): void
  /**
   * Environment that points every registry setting opencode's embedded npm (npm_config_*, read
   * case-insensitively), npm itself and bun read at this registry.
   */
  env(): Record<string, string>
  close(): Promise<void>
}

/** Settings that name a registry: npm reads npm_config_* in any case, bun its own. */
export function registryEnv(url: string): Record<string, string> {
  return {
    npm_config_registry: url,
    NPM_CONFIG_REGISTRY: url,
    BUN_CONFIG_REGISTRY: url,
    // scoped packages (@opencode-ai/...) may have a registry of their own in an .npmrc
    'npm_config_@opencode-ai:registry': url,
    YARN_REGISTRY: url,
    PNPM_CONFIG_REGISTRY: url
  }
}

const integrity = (data: Buffer) => `sha512-${createHash('sha512').update(data).digest('base64')}`

const tarballName = (name: string, version: string) =>
  `${name.startsWith('@') ? name.split('/')[1] : name}-${version}.tgz`

/**
 * The package name a registry path is about: `/name`, `/@scope%2fname`, `/@scope/name`, and the
 * tarball paths under them (`/name/-/file.tgz`). Undefined for other paths.
 */
export function parseRegistryPath(
  rawPath: string
): { name: string; kind: 'packument' | 'tarball'; file?: string } | undefined {
  const pathname = rawPath.split('?')[0]
  let decoded: string
  try {
    decoded = decodeURIComponent(pathname)
  } catch {
    return undefined
  }
  // npm's valid names only: lower-case, no leading dot or underscore, no path tricks
  const match =
    /^\/((?:@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*)(?:\/-\/([a-z0-9][a-z0-9._~-]*\.tgz))?\/?$/.exec(
      decoded
    )
  if (!match) return undefined
  return match[2]
    ? { name: match[1], kind: 'tarball', file: match[2] }
    : { name: match[1], kind: 'packument' }
}

/** The packument npm asks for (`GET /name`), with one entry per version served. */
function packument(url: string, versions: RegistryPackage[]): Record<string, unknown> {
  const name = versions[0].name
  const entries = Object.fromEntries(
    versions.map((pkg) => [
      pkg.version,
      {
        ...pkg.manifest,
        name,
        version: pkg.version,
        dist: {
          tarball: `${url}${name}/-/${tarballName(name, pkg.version)}`,
          integrity: integrity(pkg.tarball),
          shasum: createHash('sha1').update(pkg.tarball).digest('hex')
        }
      }
    ])
  )
  const latest = versions[versions.length - 1].version
  return { name, 'dist-tags': { latest }, versions: entries }
}

export async function startRegistry(packages: RegistryPackage[] = []): Promise<Registry> {
  const served = new Map<string, RegistryPackage[]>()
  const add = (pkg: RegistryPackage) => {
    const list = served.get(pkg.name) ?? []
    served.set(pkg.name, [...list.filter((p) => p.version !== pkg.version), pkg])
  }
  packages.forEach(add)
  const requests: RegistryRequest[] = []
  const waiters: {
    predicate: (r: RegistryRequest) => boolean
    resolve: (r: RegistryRequest) => void
  }[] = []
  let url = ''
  const record = (request: RegistryRequest) => {
    requests.push(request)
    for (const waiter of waiters.filter((w) => w.predicate(request))) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve(request)
    }
  }

  const server = http.createServer((req, res) => {
    // the body (a publish, an audit) is not needed: drained so the client is not stalled
    req.resume()
    const parsed = parseRegistryPath(req.url ?? '/')
    const versions = parsed ? served.get(parsed.name) : undefined
    let status = 404
    let body: Buffer | string = JSON.stringify({ error: 'Not found' })
    let type = 'application/json'
    if (req.method === 'GET' && parsed && versions) {
      if (parsed.kind === 'packument') {
        status = 200
        body = JSON.stringify(packument(url, versions))
      } else {
        const pkg = versions.find((p) => tarballName(p.name, p.version) === parsed.file)
        if (pkg) {
          status = 200
          body = pkg.tarball
          type = 'application/octet-stream'
        }
      }
    }
    record({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      packageName: parsed?.name,
      kind: parsed?.kind ?? 'other',
      status,
      headers: req.headers
    })
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`

  return {
    url,
    requests,
    add,
    waitForRequest: (predicate) => {
      const seen = requests.find(predicate)
      return seen
        ? Promise.resolve(seen)
        : new Promise((resolve) => waiters.push({ predicate, resolve }))
    },
    env: () => registryEnv(url),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}

/** The `package/package.json` of an npm tarball (gzipped ustar), read without unpacking it. */
export function tarballManifest(tarball: Buffer): Record<string, unknown> {
  const tar = gunzipSync(tarball)
  let offset = 0
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512)
    if (header.every((byte) => byte === 0)) break
    const field = (start: number, length: number) =>
      header.toString('latin1', start, start + length).replace(/\0.*$/s, '')
    const prefix = field(345, 155)
    const name = (prefix ? `${prefix}/` : '') + field(0, 100)
    const size = parseInt(field(124, 12).trim() || '0', 8)
    const data = tar.subarray(offset + 512, offset + 512 + size)
    if (/^[^/]+\/package\.json$/.test(name)) return JSON.parse(data.toString('utf8'))
    offset += 512 + Math.ceil(size / 512) * 512
  }
  throw new Error('the tarball has no package/package.json')
}

/** A package the registry can serve, from an npm tarball on disk (as `npm pack` writes it). */
export async function packageFromFile(file: string): Promise<RegistryPackage> {
  const tarball = await readFile(file)
  const manifest = tarballManifest(tarball)
  const { name, version } = manifest
  if (typeof name !== 'string' || typeof version !== 'string') {
    throw new Error(`${file}: its package.json names no package and version`)
  }
  return { name, version, tarball, manifest }
}
