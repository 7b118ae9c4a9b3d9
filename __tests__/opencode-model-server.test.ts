import { afterEach, describe, expect, it } from '@jest/globals'
import http from 'node:http'
import { startModelServer, type ModelServer, type Script } from './support/model-server.js'

let server: ModelServer | undefined

afterEach(async () => {
  await server?.close()
  server = undefined
})

async function start(script?: Script) {
  server = await startModelServer(script)
  return server
}

interface Reply {
  status: number
  body: string
}

function post(url: string, body: unknown, signal?: AbortSignal): Promise<Reply> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal
  }).then(async (response) => ({ status: response.status, body: await response.text() }))
}

/** Content and tool calls reassembled from an SSE stream, plus the usage chunk. */
function readStream(body: string) {
  let content = ''
  let usage: Record<string, unknown> | undefined
  let finish: string | undefined
  const calls: { id?: string; name?: string; arguments: string }[] = []
  const lines = body.split('\n').filter((line) => line.startsWith('data: '))
  expect(lines[lines.length - 1]).toBe('data: [DONE]')
  for (const line of lines.slice(0, -1)) {
    const chunk = JSON.parse(line.slice(6))
    expect(chunk.object).toBe('chat.completion.chunk')
    if (chunk.usage) usage = chunk.usage
    for (const choice of chunk.choices) {
      if (choice.delta.content) content += choice.delta.content
      if (choice.finish_reason) finish = choice.finish_reason
      for (const call of choice.delta.tool_calls ?? []) {
        calls[call.index] ??= { arguments: '' }
        calls[call.index].id ??= call.id
        calls[call.index].name ??= call.function?.name
        calls[call.index].arguments += call.function?.arguments ?? ''
      }
    }
  }
  return { content, usage, finish, calls }
}

const user = (content: unknown) => ({ role: 'user', content })

describe('model server', () => {
  it('echoes the user messages it received, streaming with usage', async () => {
    const model = await start()
    const reply = await post(`${model.baseURL}/chat/completions`, {
      model: 'echo',
      stream: true,
      messages: [
        { role: 'system', content: 'You are opencode' },
        user('first'),
        { role: 'assistant', content: 'ok' },
        user([
          { type: 'text', text: 'sec' },
          { type: 'text', text: 'ond' }
        ])
      ]
    })
    expect(reply.status).toBe(200)
    const stream = readStream(reply.body)
    expect(stream.content).toBe('ECHO[n=2]: first | second')
    expect(stream.finish).toBe('stop')
    expect(stream.usage).toEqual(
      expect.objectContaining({ prompt_tokens: expect.any(Number), completion_tokens: 7 })
    )
    expect(model.requests).toHaveLength(1)
    expect(model.requests[0]).toEqual(
      expect.objectContaining({ kind: 'chat', chatIndex: 0, userTexts: ['first', 'second'] })
    )
  })

  it('answers without streaming too, and lists its model', async () => {
    const model = await start([{ type: 'text', text: 'plain' }])
    const reply = await post(`${model.baseURL}/chat/completions`, {
      model: 'echo',
      messages: [user('hi')]
    })
    const body = JSON.parse(reply.body)
    expect(body.choices[0].message).toEqual({ role: 'assistant', content: 'plain' })
    expect(body.usage.total_tokens).toBeGreaterThan(0)
    const models = (await fetch(`${model.baseURL}/models`).then((response) => response.json())) as {
      data: { id: string }[]
    }
    expect(models.data[0].id).toBe('echo')
    expect(model.requests.map((request) => request.kind)).toEqual(['chat', 'models'])
  })

  it('answers title requests apart, without consuming the script', async () => {
    const model = await start([{ type: 'text', text: 'scripted' }])
    const title = await post(`${model.baseURL}/chat/completions`, {
      stream: true,
      messages: [
        { role: 'system', content: 'You are a title generator. You output ONLY a thread title.' },
        user('Generate a title for this conversation:\n'),
        user('hello')
      ]
    })
    expect(readStream(title.body).content).toBe('Scripted title')
    const chat = await post(`${model.baseURL}/chat/completions`, {
      stream: true,
      messages: [user('x')]
    })
    expect(readStream(chat.body).content).toBe('scripted')
    expect(model.chatRequests()).toHaveLength(1)
    expect(model.requests.map((request) => [request.kind, request.chatIndex])).toEqual([
      ['title', -1],
      ['chat', 0]
    ])
  })

  it('asks for a tool, then shows its result in the echo', async () => {
    const model = await start([
      {
        type: 'tool',
        tool: 'bash',
        input: { command: 'echo hi', description: 'greet' },
        callId: 'call_a'
      }
    ])
    const first = readStream(
      (
        await post(`${model.baseURL}/chat/completions`, {
          stream: true,
          messages: [user('run it')]
        })
      ).body
    )
    expect(first.finish).toBe('tool_calls')
    expect(first.calls).toEqual([
      {
        id: 'call_a',
        name: 'bash',
        arguments: JSON.stringify({ command: 'echo hi', description: 'greet' })
      }
    ])
    const second = readStream(
      (
        await post(`${model.baseURL}/chat/completions`, {
          stream: true,
          messages: [
            user('run it'),
            {
              role: 'assistant',
              content: '',
              tool_calls: [
                { id: 'call_a', type: 'function', function: { name: 'bash', arguments: '{}' } }
              ]
            },
            { role: 'tool', tool_call_id: 'call_a', content: 'hi\n' }
          ]
        })
      ).body
    )
    expect(second.content).toBe('ECHO[n=1]: run it\nTOOL[bash]: hi\n')
    expect(model.requests[1].toolResults).toEqual([
      { callId: 'call_a', tool: 'bash', content: 'hi\n' }
    ])
  })

  it('answers scripted HTTP errors with an OpenAI error body and extra headers', async () => {
    const model = await start(() => ({
      type: 'error',
      status: 500,
      message: 'boom',
      headers: { 'retry-after-ms': '0' }
    }))
    const response = await fetch(`${model.baseURL}/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ messages: [user('x')] })
    })
    expect(response.status).toBe(500)
    expect(response.headers.get('retry-after-ms')).toBe('0')
    expect(await response.json()).toEqual({
      error: { message: 'boom', type: 'server_error', param: null, code: null }
    })
  })

  it('streams a very long reply in chunks', async () => {
    const text = 'x'.repeat(100_000)
    const model = await start([{ type: 'text', text, chunkSize: 1000 }])
    const reply = await post(`${model.baseURL}/chat/completions`, {
      stream: true,
      messages: [user('long')]
    })
    expect(readStream(reply.body).content).toBe(text)
    expect(reply.body.split('\n\n').length).toBeGreaterThan(100)
  })

  it('hangs until the client goes away, and says so', async () => {
    const model = await start([{ type: 'hang' }])
    const controller = new AbortController()
    const pending = post(
      `${model.baseURL}/chat/completions`,
      { messages: [user('wait')] },
      controller.signal
    )
    const request = await model.waitForRequest((candidate) => candidate.kind === 'chat')
    expect(request.reply).toEqual({ type: 'hang' })
    expect(request.aborted).toBe(false)
    controller.abort()
    await expect(pending).rejects.toThrow()
    await model.waitForAbort(request)
    expect(request.aborted).toBe(true)
  })

  it('closes even while a request hangs', async () => {
    const model = await start([{ type: 'hang', sendHeaders: true }])
    const closed = new Promise<string>((resolve) => {
      const req = http.request(`${model.baseURL}/chat/completions`, { method: 'POST' }, (res) => {
        res.on('data', () => undefined)
        res.on('close', () => resolve('closed'))
      })
      req.on('error', () => resolve('closed'))
      req.end(JSON.stringify({ stream: true, messages: [user('wait')] }))
    })
    await model.waitForRequest((request) => request.kind === 'chat')
    await model.close()
    server = undefined
    expect(await closed).toBe('closed')
  })

  it('takes a new script, and records other paths as such', async () => {
    const model = await start()
    model.setScript([{ type: 'text', text: 'one' }])
    const one = await post(`${model.baseURL}/chat/completions`, { messages: [user('a')] })
    expect(JSON.parse(one.body).choices[0].message.content).toBe('one')
    const echo = await post(`${model.baseURL}/chat/completions`, { messages: [user('a')] })
    expect(JSON.parse(echo.body).choices[0].message.content).toBe('ECHO[n=1]: a')
    const other = await fetch(`${model.url}/notify/started`)
    expect(other.status).toBe(200)
    await other.text()
    const missing = await fetch(`${model.url}/elsewhere`)
    expect(missing.status).toBe(404)
    await missing.text()
    const recorded = await model.waitForRequest((request) => request.path === '/notify/started')
    expect(recorded.kind).toBe('other')
  })
})
