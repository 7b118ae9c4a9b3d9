import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { startKeyProxy, type KeyProxy } from '../src/action/secrets/key-proxy.js'

const OPENAI_KEY = 'sk-real-openai-key-0123456789'
const ANTHROPIC_KEY = 'sk-ant-real-key-9876543210'
const PLACEHOLDER = 'kugetsu-key-proxy-test-placeholder'

interface Seen {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: string
  res: http.ServerResponse
}

/** A loopback "provider": records each request and lets the test answer it. */
let upstream: http.Server
let upstreamUrl: string
const seen: Seen[] = []
const arrivals: ((request: Seen) => void)[] = []

function nextRequest(): Promise<Seen> {
  return new Promise((resolve) => arrivals.push(resolve))
}

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const request = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        res
      }
      seen.push(request)
      arrivals.shift()?.(request)
    })
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`
})

afterAll(async () => {
  upstream.closeAllConnections()
  await new Promise((resolve) => upstream.close(resolve))
})

let proxy: KeyProxy
async function startProxy(): Promise<KeyProxy> {
  proxy = await startKeyProxy(
    [
      { provider: 'openai', upstream: `${upstreamUrl}/v1`, style: 'bearer', key: OPENAI_KEY },
      {
        provider: 'claude',
        upstream: `${upstreamUrl}/anthropic/v1`,
        style: 'x-api-key',
        key: ANTHROPIC_KEY
      }
    ],
    PLACEHOLDER
  )
  return proxy
}

afterEach(async () => {
  await proxy?.close()
  seen.length = 0
})

interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** One request through the proxy, read whole. */
function call(
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {}
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${proxy.url}${path}`, {
      method: options.method ?? 'GET',
      headers: options.headers
    })
    req.on('error', reject)
    req.on('response', (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8')
        })
      )
    })
    req.end(options.body)
  })
}

const bearer = { authorization: `Bearer ${PLACEHOLDER}` }

describe('the key proxy', () => {
  it('forwards method, path, query, headers and body with the real key in place of the placeholder', async () => {
    await startProxy()
    const arrived = nextRequest()
    const answer = call('/p/openai/chat/completions?stream=true&x=%2F', {
      method: 'POST',
      headers: {
        ...bearer,
        'content-type': 'application/json',
        'x-request-id': 'req-1',
        'x-api-key': PLACEHOLDER,
        connection: 'keep-alive, x-hop',
        'x-hop': 'drop me',
        'proxy-authorization': `Basic ${PLACEHOLDER}`
      },
      body: '{"model":"gpt","messages":[]}'
    })
    const request = await arrived
    expect(request.method).toBe('POST')
    expect(request.url).toBe('/v1/chat/completions?stream=true&x=%2F')
    expect(request.body).toBe('{"model":"gpt","messages":[]}')
    expect(request.headers).toMatchObject({
      authorization: `Bearer ${OPENAI_KEY}`,
      'content-type': 'application/json',
      'x-request-id': 'req-1',
      host: new URL(upstreamUrl).host
    })
    expect(request.headers['x-api-key']).toBeUndefined()
    expect(request.headers['x-hop']).toBeUndefined()
    expect(request.headers['proxy-authorization']).toBeUndefined()
    expect(JSON.stringify(request.headers)).not.toContain(PLACEHOLDER)

    request.res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' })
    request.res.end('{"ok":true}')
    const { status, headers, body } = await answer
    expect(status).toBe(200)
    expect(headers['x-upstream']).toBe('yes')
    expect(body).toBe('{"ok":true}')
  })

  it('gives an Anthropic-style provider its key as x-api-key, and nothing else', async () => {
    await startProxy()
    const arrived = nextRequest()
    const answer = call('/p/claude/messages', {
      method: 'POST',
      headers: { 'x-api-key': PLACEHOLDER, 'anthropic-version': '2023-06-01' },
      body: '{}'
    })
    const request = await arrived
    expect(request.url).toBe('/anthropic/v1/messages')
    expect(request.headers['x-api-key']).toBe(ANTHROPIC_KEY)
    expect(request.headers['anthropic-version']).toBe('2023-06-01')
    expect(request.headers.authorization).toBeUndefined()
    expect(JSON.stringify(request.headers)).not.toContain(OPENAI_KEY)
    request.res.end('{}')
    expect((await answer).status).toBe(200)
  })

  it('streams: the client has the first SSE event before the upstream sends the second', async () => {
    await startProxy()
    const arrived = nextRequest()
    const req = http.request(`${proxy.url}/p/openai/chat/completions`, {
      method: 'POST',
      headers: bearer
    })
    req.end('{"stream":true}')
    const request = await arrived
    request.res.writeHead(200, { 'content-type': 'text/event-stream' })
    request.res.write('data: {"n":1}\n\n')
    const [res] = (await once(req, 'response')) as [http.IncomingMessage]
    expect(res.headers['content-type']).toBe('text/event-stream')
    const received: string[] = []
    const nextChunk = () =>
      new Promise<string>((resolve) =>
        res.once('data', (chunk: Buffer) => resolve(chunk.toString()))
      )
    // Only after the first event reached the client does the upstream send the second.
    received.push(await nextChunk())
    expect(received).toEqual(['data: {"n":1}\n\n'])
    const second = nextChunk()
    request.res.write('data: {"n":2}\n\n')
    received.push(await second)
    request.res.end('data: [DONE]\n\n')
    await once(res, 'end')
    expect(received).toEqual(['data: {"n":1}\n\n', 'data: {"n":2}\n\n'])
  })

  it('answers 404 for anything that is not a known route, and forwards nothing', async () => {
    await startProxy()
    const cases = [
      '/p/unknown/chat/completions',
      '/p/',
      '/p/%E0%A4%A/x',
      '/v1/chat/completions',
      '/',
      '/p/openai%2F..%2Fclaude/x'
    ]
    for (const path of cases) {
      const answer = await call(path, { headers: bearer })
      expect([path, answer.status]).toEqual([path, 404])
      expect(JSON.parse(answer.body).error.type).toBe('kugetsu_key_proxy')
    }
    // An absolute-form request line (a client using it as a forward proxy) is no route either.
    const absolute = await new Promise<number>((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: new URL(proxy.url).port,
        path: `${upstreamUrl}/v1/models`,
        headers: bearer
      })
      req.on('error', reject)
      req.on('response', (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      req.end()
    })
    expect(absolute).toBe(404)
    expect(seen).toEqual([])
  })

  it('refuses a request without the placeholder (401), so other local processes cannot spend the key', async () => {
    await startProxy()
    const attempts: Record<string, string>[] = [
      {},
      { authorization: 'Bearer guess' },
      { 'x-api-key': 'guess' }
    ]
    for (const headers of attempts) {
      const answer = await call('/p/openai/models', { headers })
      expect(answer.status).toBe(401)
      expect(answer.body).not.toContain(OPENAI_KEY)
    }
    expect(seen).toEqual([])
  })

  it('passes an upstream error through, with any echo of the key taken out', async () => {
    await startProxy()
    const arrived = nextRequest()
    const answer = call('/p/openai/chat/completions', {
      method: 'POST',
      headers: bearer,
      body: '{}'
    })
    const request = await arrived
    request.res.writeHead(401, {
      'content-type': 'application/json',
      'retry-after': '7',
      'x-echo': `you sent ${OPENAI_KEY}`
    })
    request.res.end(
      JSON.stringify({ error: { message: `Incorrect API key provided: ${OPENAI_KEY}.` } })
    )
    const { status, headers, body } = await answer
    expect(status).toBe(401)
    expect(headers['retry-after']).toBe('7')
    expect(headers['x-echo']).toBeUndefined()
    expect(JSON.parse(body)).toEqual({ error: { message: 'Incorrect API key provided: ***.' } })
    expect(JSON.stringify(headers) + body).not.toContain(OPENAI_KEY)
    expect(Number(headers['content-length'])).toBe(Buffer.byteLength(body))
  })

  it('answers 502 when the upstream cannot be reached, without the key', async () => {
    const closed = http.createServer()
    closed.listen(0, '127.0.0.1')
    await once(closed, 'listening')
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    proxy = await startKeyProxy(
      [
        {
          provider: 'gone',
          upstream: `http://127.0.0.1:${port}/v1`,
          style: 'bearer',
          key: OPENAI_KEY
        }
      ],
      PLACEHOLDER
    )
    const answer = await call('/p/gone/models', { headers: bearer })
    expect(answer.status).toBe(502)
    expect(JSON.parse(answer.body).error.message).toMatch(
      /^could not reach http:\/\/127\.0\.0\.1:\d+: /
    )
    expect(answer.body).not.toContain(OPENAI_KEY)
  })

  it('ends the upstream request when the client goes away mid-stream', async () => {
    await startProxy()
    const arrived = nextRequest()
    const req = http.request(`${proxy.url}/p/openai/chat/completions`, {
      method: 'POST',
      headers: bearer
    })
    req.on('error', () => undefined)
    req.end('{}')
    const request = await arrived
    request.res.writeHead(200, { 'content-type': 'text/event-stream' })
    request.res.write('data: {"n":1}\n\n')
    const [res] = (await once(req, 'response')) as [http.IncomingMessage]
    await once(res, 'data')
    const upstreamGone = once(request.res, 'close')
    req.destroy()
    await upstreamGone
    expect(request.res.writableFinished).toBe(false)
  })

  it('close() ends open streams and stops listening', async () => {
    await startProxy()
    const arrived = nextRequest()
    const req = http.request(`${proxy.url}/p/openai/chat/completions`, {
      method: 'POST',
      headers: bearer
    })
    const failed = new Promise<void>((resolve) => {
      req.on('error', () => resolve())
      req.on('response', (res) => {
        res.on('error', () => resolve())
        res.on('aborted', () => resolve())
        res.on('close', () => resolve())
      })
    })
    req.end('{}')
    const request = await arrived
    request.res.writeHead(200, { 'content-type': 'text/event-stream' })
    request.res.write('data: {"n":1}\n\n')
    const upstreamGone = once(request.res, 'close')
    await proxy.close()
    await failed
    await upstreamGone
    await expect(call('/p/openai/models', { headers: bearer })).rejects.toThrow(/ECONNREFUSED/)
  })
})
