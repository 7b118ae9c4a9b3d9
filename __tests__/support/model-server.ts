/**
 * A scripted OpenAI-compatible model server on 127.0.0.1, so real opencode can run offline in
 * tests. It speaks `POST /v1/chat/completions` (streaming SSE and plain JSON) and
 * `GET /v1/models`.
 *
 * By default every chat reply reveals the user messages the model received, in order:
 * `ECHO[n=3]: first | second | third`, so a test can read a session's history from a reply. When
 * the request ends with tool results (the model asked for a tool on the previous request), the
 * default reply also shows them: `ECHO[n=1]: run it\nTOOL[bash]: hello`.
 *
 * opencode sends a separate small request to name a new session (its system prompt says "You are a
 * title generator"). Those are answered with a short title, never consult the script and are
 * recorded with `kind: 'title'`, so they do not disturb counts of `kind: 'chat'` requests.
 *
 * Nothing here waits on a timer: a `hang` reply stays open until the client aborts it or the server
 * closes. `waitForRequest` lets a test wait for a request instead; any request under `/notify/` is
 * answered 200 and recorded, so a command run by opencode's bash tool can signal a point it
 * reached.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ScriptedUsage {
  promptTokens: number
  completionTokens: number
  cachedTokens?: number
  reasoningTokens?: number
}

export type Reply =
  /** The default: `ECHO[n=N]: user1 | user2 ...` plus `TOOL[name]: output` lines for tool results. */
  | { type: 'echo' }
  /** Plain text, streamed in chunks of `chunkSize` characters (default 200). */
  | { type: 'text'; text: string; chunkSize?: number; usage?: ScriptedUsage }
  /** Ask opencode to run a tool; its result arrives with the next chat request. */
  | { type: 'tool'; tool: string; input: Record<string, unknown>; callId?: string; text?: string }
  /**
   * Answer with an HTTP error and an OpenAI-style error body. opencode retries 408, 409, 429 and
   * 5xx answers with growing delays (six requests over ~80 s for a persistent 500) unless the
   * answer says how long to wait: `headers: { 'retry-after-ms': '0' }` makes it fail in a blink.
   */
  | {
      type: 'error'
      status: number
      message?: string
      errorType?: string
      code?: string
      headers?: Record<string, string>
    }
  /** Never answer; the request stays open until aborted by the client or the server closes. */
  | { type: 'hang'; sendHeaders?: boolean }

export interface ChatMessage {
  role: string
  content?: unknown
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[]
  tool_call_id?: string
  name?: string
}

export interface ToolResult {
  callId: string
  tool?: string
  content: string
}

export interface RecordedRequest {
  /** 0-based position among all requests the server received. */
  index: number
  /** When it arrived (ms since the epoch). */
  at: number
  /** 0-based position among `chat` requests (-1 for other kinds). */
  chatIndex: number
  kind: 'chat' | 'title' | 'models' | 'other'
  method: string
  path: string
  headers: http.IncomingHttpHeaders
  /** Parsed JSON body (undefined when there was none or it did not parse). */
  body: { model?: string; stream?: boolean; messages?: ChatMessage[]; tools?: unknown[] } & Record<
    string,
    unknown
  >
  /** Text of every user message, in order. */
  userTexts: string[]
  /** Tool results that follow the last assistant message (what the previous tool call produced). */
  toolResults: ToolResult[]
  /** Names of the tools offered to the model. */
  tools: string[]
  /** The reply that was (or is being) given. */
  reply?: Reply
  /** Set once the client has gone away before the reply ended (abort, killed process). */
  aborted: boolean
}

export interface ScriptContext {
  request: RecordedRequest
}

/**
 * Decides the reply of each chat request: a function, or a queue consumed one reply per chat
 * request (falls back to echo when empty). Returning undefined means echo.
 */
export type Script = ((context: ScriptContext) => Reply | undefined) | Reply[]

export interface ModelServer {
  /** `http://127.0.0.1:PORT` */
  url: string
  /** `http://127.0.0.1:PORT/v1`, what an OpenAI-compatible provider wants as baseURL. */
  baseURL: string
  port: number
  /** Every request received, in order. */
  requests: RecordedRequest[]
  /** Chat requests only (title requests excluded). */
  chatRequests(): RecordedRequest[]
  /** Replace the script; a queue given here starts from its first reply. */
  setScript(script: Script | undefined): void
  /** Resolves with the first request (already received or future) that matches. */
  waitForRequest(predicate: (request: RecordedRequest) => boolean): Promise<RecordedRequest>
  /** Resolves once the matching request's client has disconnected before its reply ended. */
  waitForAbort(request: RecordedRequest): Promise<void>
  close(): Promise<void>
}

const TITLE_MARKER = /title generator/i

/** Text of a chat message's content: a string or an array of parts. */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content
      .map((part) => {
        if (typeof part === 'string') return part
        if (part && typeof part === 'object' && 'text' in part) return String(part.text)
        return ''
      })
      .join('')
  }
  return ''
}

function toolResultsOf(messages: ChatMessage[]): ToolResult[] {
  const results: ToolResult[] = []
  let index = messages.length - 1
  while (index >= 0 && messages[index].role === 'tool') index--
  const assistant = messages[index]
  for (const message of messages.slice(index + 1)) {
    const callId = message.tool_call_id ?? ''
    const call = assistant?.tool_calls?.find((candidate) => candidate.id === callId)
    results.push({ callId, tool: call?.function.name, content: messageText(message.content) })
  }
  return results
}

function classify(method: string, path: string, body: RecordedRequest['body']) {
  if (method === 'GET' && /\/models\/?$/.test(path)) return 'models' as const
  if (method !== 'POST' || !/\/chat\/completions\/?$/.test(path)) return 'other' as const
  const system = (body.messages ?? [])
    .filter((message) => message.role === 'system')
    .map((message) => messageText(message.content))
    .join('\n')
  return TITLE_MARKER.test(system) ? ('title' as const) : ('chat' as const)
}

export function echoText(request: Pick<RecordedRequest, 'userTexts' | 'toolResults'>): string {
  const lines = [`ECHO[n=${request.userTexts.length}]: ${request.userTexts.join(' | ')}`]
  for (const result of request.toolResults) {
    lines.push(`TOOL[${result.tool ?? result.callId}]: ${result.content}`)
  }
  return lines.join('\n')
}

function defaultUsage(request: RecordedRequest, text: string): ScriptedUsage {
  const prompt = JSON.stringify(request.body.messages ?? []).length
  return {
    promptTokens: Math.max(1, Math.ceil(prompt / 4)),
    completionTokens: Math.max(1, Math.ceil(text.length / 4))
  }
}

function usageJson(usage: ScriptedUsage) {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoningTokens ?? 0 }
  }
}

export async function startModelServer(script?: Script): Promise<ModelServer> {
  const requests: RecordedRequest[] = []
  const waiters: {
    predicate: (r: RecordedRequest) => boolean
    resolve: (r: RecordedRequest) => void
  }[] = []
  const abortWaiters = new Map<RecordedRequest, (() => void)[]>()
  let current: Script | undefined = script
  let queue: Reply[] = Array.isArray(script) ? [...script] : []
  let chatCount = 0
  let completions = 0

  const pick = (request: RecordedRequest): Reply => {
    if (Array.isArray(current)) return queue.shift() ?? { type: 'echo' }
    return current?.({ request }) ?? { type: 'echo' }
  }

  const notify = (request: RecordedRequest) => {
    for (const waiter of [...waiters]) {
      if (waiter.predicate(request)) {
        waiters.splice(waiters.indexOf(waiter), 1)
        waiter.resolve(request)
      }
    }
  }

  const markAborted = (request: RecordedRequest) => {
    request.aborted = true
    for (const resolve of abortWaiters.get(request) ?? []) resolve()
    abortWaiters.delete(request)
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8')
      let body: RecordedRequest['body'] = {}
      try {
        body = raw ? JSON.parse(raw) : {}
      } catch {
        body = {}
      }
      const method = req.method ?? 'GET'
      const path = (req.url ?? '/').split('?')[0]
      const kind = classify(method, path, body)
      const messages = body.messages ?? []
      const request: RecordedRequest = {
        index: requests.length,
        at: Date.now(),
        chatIndex: kind === 'chat' ? chatCount++ : -1,
        kind,
        method,
        path,
        headers: req.headers,
        body,
        userTexts: messages.filter((m) => m.role === 'user').map((m) => messageText(m.content)),
        toolResults: toolResultsOf(messages),
        tools: (body.tools ?? []).map((tool) => {
          const fn = (tool as { function?: { name?: string } }).function
          return fn?.name ?? ''
        }),
        aborted: false
      }
      requests.push(request)
      res.on('close', () => {
        if (!res.writableFinished) markAborted(request)
      })

      if (kind === 'models') {
        sendJson(res, 200, {
          object: 'list',
          data: [{ id: 'echo', object: 'model', owned_by: 'kugetsu' }]
        })
      } else if (kind === 'title') {
        request.reply = { type: 'text', text: 'Scripted title' }
        respond(res, request, request.reply, ++completions)
      } else if (kind === 'chat') {
        request.reply = pick(request)
        respond(res, request, request.reply, ++completions)
      } else if (path.startsWith('/notify/')) {
        // for tools run by opencode to say "I got here" (e.g. `curl -s URL/notify/started`)
        sendJson(res, 200, { ok: true })
      } else {
        sendJson(res, 404, {
          error: { message: `no route for ${method} ${path}`, type: 'not_found' }
        })
      }
      notify(request)
    })
  })

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const url = `http://127.0.0.1:${port}`

  return {
    url,
    baseURL: `${url}/v1`,
    port,
    requests,
    chatRequests: () => requests.filter((request) => request.kind === 'chat'),
    setScript(next) {
      current = next
      queue = Array.isArray(next) ? [...next] : []
    },
    waitForRequest(predicate) {
      const found = requests.find(predicate)
      if (found) return Promise.resolve(found)
      return new Promise((resolve) => waiters.push({ predicate, resolve }))
    },
    waitForAbort(request) {
      if (request.aborted) return Promise.resolve()
      return new Promise((resolve) => {
        abortWaiters.set(request, [...(abortWaiters.get(request) ?? []), resolve])
      })
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
    }
  }
}

function sendJson(
  res: http.ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {}
) {
  const text = JSON.stringify(value)
  res.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text)
  })
  res.end(text)
}

function respond(res: http.ServerResponse, request: RecordedRequest, reply: Reply, serial: number) {
  const id = `chatcmpl-${serial}`
  const model = request.body.model ?? 'echo'
  const stream = request.body.stream === true

  if (reply.type === 'hang') {
    if (reply.sendHeaders) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.flushHeaders()
    }
    return
  }

  if (reply.type === 'error') {
    sendJson(
      res,
      reply.status,
      {
        error: {
          message: reply.message ?? `scripted error ${reply.status}`,
          type:
            reply.errorType ?? (reply.status === 401 ? 'invalid_request_error' : 'server_error'),
          param: null,
          code: reply.code ?? null
        }
      },
      reply.headers
    )
    return
  }

  const text =
    reply.type === 'text'
      ? reply.text
      : reply.type === 'tool'
        ? (reply.text ?? '')
        : echoText(request)
  const usage = usageJson((reply.type === 'text' && reply.usage) || defaultUsage(request, text))
  const toolCall =
    reply.type === 'tool'
      ? {
          id: reply.callId ?? `call_${serial}`,
          type: 'function',
          function: { name: reply.tool, arguments: JSON.stringify(reply.input) }
        }
      : undefined
  const finishReason = toolCall ? 'tool_calls' : 'stop'

  if (!stream) {
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        {
          index: 0,
          message: {
            role: 'assistant',
            content: text || null,
            ...(toolCall ? { tool_calls: [toolCall] } : {})
          },
          finish_reason: finishReason
        }
      ],
      usage
    })
    return
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  const created = Math.floor(Date.now() / 1000)
  const send = (payload: Record<string, unknown>) =>
    res.write(
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, ...payload })}\n\n`
    )
  const chunkSize = reply.type === 'text' && reply.chunkSize ? reply.chunkSize : 200
  send({ choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] })
  for (let offset = 0; offset < text.length; offset += chunkSize) {
    const content = text.slice(offset, offset + chunkSize)
    send({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })
  }
  if (toolCall) {
    send({
      choices: [
        { index: 0, delta: { tool_calls: [{ index: 0, ...toolCall }] }, finish_reason: null }
      ]
    })
  }
  send({ choices: [{ index: 0, delta: {}, finish_reason: finishReason }] })
  send({ choices: [], usage })
  res.end('data: [DONE]\n\n')
}
