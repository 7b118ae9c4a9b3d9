/**
 * The HTTP client of one `opencode serve`: requests with its password (basic auth) and a timeout,
 * answers read as JSON, an HTTP error told apart from a server that went (ServeHttpError), and
 * the server's event stream.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http'
import path from 'node:path'
import { OpencodeRunError } from './run-errors.js'

/** An HTTP answer other than 2xx. */
export class ServeHttpError extends Error {
  constructor(
    readonly status: number,
    override readonly name: string,
    message: string
  ) {
    super(message)
  }
}

/** What the client needs to know of the server process (serve-process.ts). */
export interface ServeEndpoint {
  /** Where the server listens (once it does). */
  baseUrl(): string
  /** The end of the server's stderr, for errors. */
  stderr(): string
  /** The failure of a request that got no answer in its time: the server went. */
  goneFailure(cause: unknown): Promise<Error>
}

export interface CallControl {
  /** The directory the request is for (opencode serves every project by its directory). */
  directory: string
  /** Sent as JSON. */
  body?: unknown
  signal?: AbortSignal
  timeoutMs: number
}

/** One event of the server's stream (`/event`), as far as kugetsu reads it. */
export interface ServeEvent {
  type?: unknown
  properties?: { id?: unknown; part?: unknown }
}

export interface ServeClient {
  /** `method route` for `control.directory`: the answer's JSON, or ServeHttpError for non-2xx. */
  call<T>(method: string, route: string, control: CallControl): Promise<T>
  /**
   * Subscribes to the server's events for `directory` until `signal` aborts: resolves once the
   * first event (the server's greeting) shows the subscription in effect; `onEvent` gets each.
   */
  subscribe(
    directory: string,
    signal: AbortSignal,
    onEvent: (event: ServeEvent) => void
  ): Promise<void>
}

/**
 * One HTTP request to the server, with node:http rather than fetch: fetch gives up on an answer
 * whose headers take more than 5 minutes, and the answer to a prompt comes when the turn ends.
 */
function exchange(
  method: string,
  url: URL,
  options: { headers: Record<string, string>; body?: string; signal: AbortSignal }
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      { method, headers: options.headers, signal: options.signal },
      (response) => {
        let text = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (text += chunk))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }))
        response.on('error', reject)
      }
    )
    request.on('error', reject)
    request.end(options.body)
  })
}

/** A response left open: the server's event stream. */
function openStream(
  url: URL,
  headers: Record<string, string>,
  signal: AbortSignal
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers, signal }, resolve)
    request.on('error', reject)
    request.end()
  })
}

/** The answer's JSON (its text when it is not JSON); ServeHttpError for an answer other than 2xx. */
function answerBody<T>(
  method: string,
  route: string,
  response: { status: number; text: string }
): T {
  const { text } = response
  let body: unknown
  try {
    body = text ? JSON.parse(text) : undefined
  } catch {
    body = text
  }
  if (response.status < 200 || response.status > 299) {
    const error = (body ?? {}) as { name?: unknown; data?: { message?: unknown } }
    const message =
      typeof error.data?.message === 'string' ? error.data.message : text.slice(0, 300)
    throw new ServeHttpError(
      response.status,
      typeof error.name === 'string' ? error.name : 'HttpError',
      `opencode serve: ${method} ${route}: HTTP ${response.status}${message ? `: ${message}` : ''}`
    )
  }
  return body as T
}

/** The JSON events of a server-sent event stream (blocks of `data:` lines); others are skipped. */
async function* readEvents(response: IncomingMessage): AsyncGenerator<ServeEvent> {
  let buffer = ''
  for await (const value of response as AsyncIterable<string>) {
    buffer += value
    let end: number
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const data = block
        .split('\n')
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).trim())
        .join('\n')
      if (!data) continue
      let event: ServeEvent
      try {
        event = JSON.parse(data) as ServeEvent
      } catch {
        continue
      }
      yield event
    }
  }
}

export function createServeClient(server: ServeEndpoint, password: string): ServeClient {
  const authorization = `Basic ${Buffer.from(`opencode:${password}`).toString('base64')}`

  function routeUrl(route: string, directory: string): URL {
    const url = new URL(server.baseUrl() + route)
    url.searchParams.set('directory', path.resolve(directory))
    return url
  }

  async function call<T>(method: string, route: string, control: CallControl): Promise<T> {
    const url = routeUrl(route, control.directory)
    const timeout = AbortSignal.timeout(control.timeoutMs)
    const signals = [timeout]
    if (control.signal) signals.push(control.signal)
    let response: { status: number; text: string }
    try {
      response = await exchange(method, url, {
        headers: {
          authorization,
          ...(control.body === undefined ? {} : { 'content-type': 'application/json' })
        },
        body: control.body === undefined ? undefined : JSON.stringify(control.body),
        signal: AbortSignal.any(signals)
      })
    } catch (error) {
      if (control.signal?.aborted) throw error
      if (timeout.aborted) {
        throw new OpencodeRunError(
          'timeout',
          `opencode serve did not answer ${method} ${route} within ${control.timeoutMs} ms`,
          { stderr: server.stderr(), cause: error }
        )
      }
      throw await server.goneFailure(error)
    }
    return answerBody<T>(method, route, response)
  }

  async function subscribe(
    directory: string,
    signal: AbortSignal,
    onEvent: (event: ServeEvent) => void
  ): Promise<void> {
    const response = await openStream(routeUrl('/event', directory), { authorization }, signal)
    if (response.statusCode !== 200) {
      response.resume()
      throw new OpencodeRunError(
        'opencode-failed',
        `opencode serve: /event: HTTP ${response.statusCode}`
      )
    }
    response.setEncoding('utf8')
    let connected = false
    await new Promise<void>((resolve, reject) => {
      void (async () => {
        try {
          for await (const event of readEvents(response)) {
            if (!connected) {
              connected = true
              resolve()
            }
            onEvent(event)
          }
        } catch (error) {
          if (!connected) reject(error)
        }
        if (!connected) reject(new Error('the event stream ended'))
      })()
    })
  }

  return { call, subscribe }
}
