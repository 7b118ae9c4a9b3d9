/**
 * A loopback HTTP proxy that holds provider keys for opencode: opencode talks to
 * `http://127.0.0.1:PORT/p/<provider>/...` with a placeholder key, and the proxy forwards each
 * request to the provider's real base URL with the real key, streaming both ways.
 */
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import { timingSafeEqual } from 'node:crypto'
import { KugetsuError, errorMessage } from '../../errors.js'
import type { KeyStyle } from '../../opencode/providers.js'

export interface ProxyRoute {
  provider: string
  /** The real base URL, http or https, without a trailing slash. */
  upstream: string
  style: KeyStyle
  key: string
}

export interface KeyProxy {
  /** `http://127.0.0.1:PORT` */
  url: string
  /** Stops listening and ends every open connection, both sides. */
  close(): Promise<void>
}

/** Headers that belong to one connection, never forwarded. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade'
])
/** Where a client may put a key: all dropped, the route's own header is set instead. */
const CREDENTIAL_HEADERS = new Set(['authorization', 'x-api-key', 'api-key'])
/** An error body is read whole (to take the key out of it) up to this size, and cut there. */
const MAX_ERROR_BODY = 1 << 20

function send(res: http.ServerResponse, status: number, message: string): void {
  const text = JSON.stringify({ error: { type: 'kugetsu_key_proxy', message } })
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text)
  })
  res.end(text)
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && timingSafeEqual(left, right)
}

/** The client showed the placeholder kugetsu gave opencode, in either key header. */
function presentsPlaceholder(headers: http.IncomingHttpHeaders, placeholder: string): boolean {
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.authorization ?? '')?.[1]?.trim()
  const apiKey = headers['x-api-key']
  return (
    (bearer !== undefined && sameText(bearer, placeholder)) ||
    (typeof apiKey === 'string' && sameText(apiKey.trim(), placeholder))
  )
}

/** Names listed in `Connection:` are hop-by-hop too. */
function connectionTokens(headers: http.IncomingHttpHeaders): Set<string> {
  const value = headers.connection
  const list = Array.isArray(value) ? value.join(',') : (value ?? '')
  return new Set(
    list
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean)
  )
}

function forwardedRequestHeaders(
  headers: http.IncomingHttpHeaders,
  route: ProxyRoute
): http.OutgoingHttpHeaders {
  const tokens = connectionTokens(headers)
  const out: http.OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || tokens.has(name)) continue
    if (CREDENTIAL_HEADERS.has(name) || name === 'host') continue
    out[name] = value
  }
  // Plain bodies, so the key can be taken out of an error body (the client is on loopback).
  out['accept-encoding'] = 'identity'
  if (route.style === 'bearer') out.authorization = `Bearer ${route.key}`
  else out['x-api-key'] = route.key
  return out
}

function forwardedResponseHeaders(
  headers: http.IncomingHttpHeaders,
  key: string
): http.OutgoingHttpHeaders {
  const tokens = connectionTokens(headers)
  const out: http.OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || HOP_BY_HOP.has(name) || tokens.has(name)) continue
    // A header echoing the key is dropped whole.
    if ((Array.isArray(value) ? value : [value]).some((item) => item.includes(key))) continue
    out[name] = value
  }
  return out
}

/** Splits `/p/<provider>/rest?query` into the provider id and `/rest?query`. */
function parseRoute(url: string): { provider: string; rest: string } | undefined {
  const prefix = '/p/'
  if (!url.startsWith(prefix)) return undefined
  const tail = url.slice(prefix.length)
  const cut = tail.search(/[/?]/)
  const encoded = cut < 0 ? tail : tail.slice(0, cut)
  try {
    return { provider: decodeURIComponent(encoded), rest: cut < 0 ? '' : tail.slice(cut) }
  } catch {
    return undefined
  }
}

/**
 * Starts the proxy on 127.0.0.1 (a free port). Only requests that present `placeholder` as their
 * key are forwarded; nothing is logged, and the real keys only ever go to their own upstream.
 */
export async function startKeyProxy(
  routes: readonly ProxyRoute[],
  placeholder: string
): Promise<KeyProxy> {
  const table = new Map<string, { route: ProxyRoute; target: URL }>()
  for (const route of routes) {
    const target = new URL(route.upstream)
    if (target.protocol !== 'http:' && target.protocol !== 'https:') {
      throw new KugetsuError(
        'invalid-input',
        `the base URL of provider ${route.provider} is not http or https`
      )
    }
    table.set(route.provider, { route, target })
  }
  const agents = {
    'http:': new http.Agent({ keepAlive: true }),
    'https:': new https.Agent({ keepAlive: true })
  }
  const upstreamRequests = new Set<http.ClientRequest>()
  const sockets = new Set<Socket>()

  const server = http.createServer((req, res) => {
    const parsed = parseRoute(req.url ?? '/')
    const entry = parsed && table.get(parsed.provider)
    if (!parsed || !entry) {
      req.resume()
      send(res, 404, `no provider route for ${req.method} ${(req.url ?? '/').split('?')[0]}`)
      return
    }
    if (!presentsPlaceholder(req.headers, placeholder)) {
      req.resume()
      send(res, 401, 'this route only serves the opencode kugetsu started')
      return
    }
    const { route, target } = entry
    const basePath = target.pathname.replace(/\/+$/, '')
    const path = `${basePath}${parsed.rest}` || '/'
    let upstream: http.ClientRequest
    try {
      upstream = (target.protocol === 'https:' ? https : http).request({
        protocol: target.protocol,
        // `[::1]` as a URL host is `::1` to the socket.
        hostname: target.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: target.port || undefined,
        method: req.method,
        path: path.startsWith('/') ? path : `/${path}`,
        headers: forwardedRequestHeaders(req.headers, route),
        agent: agents[target.protocol as 'http:' | 'https:']
      })
    } catch (error) {
      req.resume()
      send(res, 400, `cannot forward this request: ${errorMessage(error)}`)
      return
    }
    upstreamRequests.add(upstream)
    upstream.on('close', () => upstreamRequests.delete(upstream))
    // The client went away (opencode aborted the stream): so does the upstream request.
    res.on('close', () => {
      if (!res.writableFinished) upstream.destroy()
    })
    upstream.on('error', (error) => {
      if (res.headersSent) {
        res.destroy()
      } else {
        send(res, 502, `could not reach ${target.origin}: ${errorMessage(error)}`)
      }
    })
    upstream.on('response', (answer) => {
      const status = answer.statusCode ?? 502
      const headers = forwardedResponseHeaders(answer.headers, route.key)
      answer.on('error', () => res.destroy())
      answer.on('aborted', () => res.destroy())
      if (status < 400) {
        res.writeHead(status, answer.statusMessage, headers)
        res.flushHeaders()
        answer.pipe(res)
        return
      }
      // An error may quote the key it was given: read it whole, take the key out.
      const chunks: Buffer[] = []
      let size = 0
      const finish = () => {
        const key = Buffer.from(route.key).toString('latin1')
        const text = Buffer.concat(chunks).toString('latin1')
        const body = Buffer.from(text.split(key).join('***'), 'latin1')
        delete headers['content-length']
        res.writeHead(status, answer.statusMessage, {
          ...headers,
          'content-length': body.length
        })
        res.end(body)
      }
      answer.on('data', (chunk: Buffer) => {
        if (size >= MAX_ERROR_BODY) return
        chunks.push(chunk)
        size += chunk.length
        if (size >= MAX_ERROR_BODY) {
          answer.destroy()
          finish()
        }
      })
      answer.on('end', () => {
        if (size < MAX_ERROR_BODY) finish()
      })
    })
    req.pipe(upstream)
  })
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.on('clientError', (_error, socket) => socket.destroy())

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) =>
      reject(
        new KugetsuError(
          'key-proxy',
          `could not start the provider key proxy on 127.0.0.1: ${errorMessage(error)}`,
          { cause: error }
        )
      )
    )
    server.listen(0, '127.0.0.1', () => resolve())
  })
  // Never what keeps the step alive: the workspace closes it, and opencode is the real work.
  server.unref()
  const port = (server.address() as AddressInfo).port

  let closing: Promise<void> | undefined
  return {
    url: `http://127.0.0.1:${port}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const request of upstreamRequests) request.destroy()
        for (const socket of sockets) socket.destroy()
        agents['http:'].destroy()
        agents['https:'].destroy()
      })
      return closing
    }
  }
}
