import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  RetryWaitTooLongError,
  classifyFailure,
  installRetry,
  withRetry,
  type RetryOptions
} from '../src/action/github/github-retry.js'
import { listenLoopback } from './support/cache-server.js'

const NOW = Date.UTC(2026, 10, 1, 12, 0, 0)

/** An error shaped like octokit's RequestError. */
function httpError(
  status: number,
  headers: Record<string, string> = {},
  message = `HTTP ${status}`
): Error {
  return Object.assign(new Error(message), {
    status,
    response: { status, headers, data: { message } }
  })
}

/** octokit's shape for a fetch that never got an answer. */
function fetchFailure(code: string): Error {
  const cause = Object.assign(new Error('other side closed'), { code })
  return Object.assign(new Error('fetch failed', { cause }), { status: 500 })
}

/** A call failing with `failures` in turn, then answering 'ok'. */
function flaky(failures: unknown[]) {
  let calls = 0
  const call = async () => {
    calls += 1
    if (calls <= failures.length) throw failures[calls - 1]
    return 'ok'
  }
  return { call, calls: () => calls }
}

function harness(overrides: RetryOptions = {}) {
  const waits: number[] = []
  const logs: string[] = []
  const options: RetryOptions = {
    sleep: async (ms) => void waits.push(ms),
    random: () => 0,
    now: () => NOW,
    log: (message) => void logs.push(message),
    ...overrides
  }
  return { waits, logs, options }
}

describe('withRetry', () => {
  it('retries 5xx answers and returns the first success', async () => {
    const { waits, logs, options } = harness()
    const api = flaky([httpError(502), httpError(503)])
    await expect(withRetry(api.call, 'GET /x', options)).resolves.toBe('ok')
    expect(api.calls()).toBe(3)
    expect(waits).toEqual([500, 1000])
    expect(logs).toEqual([
      'GET /x: 502 server error; retrying in 1 s (attempt 2 of 4)',
      'GET /x: 503 server error; retrying in 1 s (attempt 3 of 4)'
    ])
  })

  it.each([400, 401, 404, 410, 422])('never retries %i', async (status) => {
    const { waits, options } = harness()
    const api = flaky([httpError(status)])
    await expect(withRetry(api.call, 'GET /x', options)).rejects.toMatchObject({ status })
    expect(api.calls()).toBe(1)
    expect(waits).toEqual([])
  })

  it('does not retry a 403 that is not a rate limit (a missing permission)', async () => {
    const { options } = harness()
    const api = flaky([httpError(403, {}, 'Resource not accessible by integration')])
    await expect(withRetry(api.call, 'POST /x', options)).rejects.toMatchObject({ status: 403 })
    expect(api.calls()).toBe(1)
  })

  it('waits a minute for a secondary rate limit without retry-after', async () => {
    const { waits, options } = harness()
    const api = flaky([
      httpError(403, {}, 'You have exceeded a secondary rate limit. Please wait a few minutes.')
    ])
    await expect(withRetry(api.call, 'POST /x', options)).resolves.toBe('ok')
    expect(waits).toEqual([60_000])
  })

  it('honours retry-after on 403 and 429, in seconds or as a date', async () => {
    const { waits, options } = harness()
    const api = flaky([
      httpError(403, { 'retry-after': '7' }),
      httpError(429, { 'Retry-After': new Date(NOW + 12_000).toUTCString() })
    ])
    await expect(withRetry(api.call, 'POST /x', options)).resolves.toBe('ok')
    expect(waits).toEqual([7000, 12_000])
  })

  it('retries a plain 429 with backoff', async () => {
    const { waits, options } = harness()
    const api = flaky([httpError(429)])
    await expect(withRetry(api.call, 'GET /x', options)).resolves.toBe('ok')
    expect(waits).toEqual([500])
  })

  it('waits for x-ratelimit-reset when the primary limit is used up', async () => {
    const { waits, options } = harness()
    const reset = String(Math.floor(NOW / 1000) + 30)
    const api = flaky([
      httpError(
        403,
        { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
        'API rate limit exceeded'
      )
    ])
    await expect(withRetry(api.call, 'GET /x', options)).resolves.toBe('ok')
    expect(waits).toEqual([30_000])
  })

  it('gives up at once, saying why, when the server asks for a longer wait than the cap', async () => {
    const { waits, options } = harness()
    const reset = String(Math.floor(NOW / 1000) + 3600)
    const api = flaky([
      httpError(
        403,
        { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset },
        'API rate limit exceeded'
      )
    ])
    const failure = withRetry(api.call, 'GET /repos/o/r/issues/7', options)
    await expect(failure).rejects.toBeInstanceOf(RetryWaitTooLongError)
    await expect(failure).rejects.toThrow(
      'GET /repos/o/r/issues/7: 403 rate limit exhausted; GitHub asks to wait 3600 s, longer than the 60 s kugetsu waits. Try again later.'
    )
    await expect(failure).rejects.toMatchObject({ status: 403 })
    expect(api.calls()).toBe(1)
    expect(waits).toEqual([])
  })

  it('retries network failures, with or without octokit wrapping them', async () => {
    const { waits, options } = harness()
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
    const api = flaky([reset, fetchFailure('UND_ERR_SOCKET'), new TypeError('fetch failed')])
    await expect(withRetry(api.call, 'GET /x', options)).resolves.toBe('ok')
    expect(waits).toHaveLength(3)
  })

  it('does not retry errors that are neither HTTP nor network failures', async () => {
    const { options } = harness()
    const api = flaky([new TypeError("Cannot read properties of undefined (reading 'id')")])
    await expect(withRetry(api.call, 'GET /x', options)).rejects.toThrow('Cannot read')
    expect(api.calls()).toBe(1)
  })

  it('does not retry an aborted request', async () => {
    const { options } = harness()
    const abort = Object.assign(new Error('This operation was aborted'), {
      name: 'AbortError',
      status: 500
    })
    const api = flaky([abort])
    await expect(withRetry(api.call, 'GET /x', options)).rejects.toBe(abort)
    expect(api.calls()).toBe(1)
  })

  it('stops after maxAttempts and throws the last error as it was', async () => {
    const { waits, logs, options } = harness({ random: () => 0.999 })
    const last = httpError(504)
    const api = flaky([httpError(502), httpError(503), httpError(500), last])
    await expect(withRetry(api.call, 'GET /x', options)).rejects.toBe(last)
    expect(api.calls()).toBe(4)
    expect(waits).toEqual([1000, 1999, 3998])
    expect(logs.at(-1)).toBe('GET /x: 504 server error; giving up after 4 attempts')
  })

  it('caps each exponential wait', async () => {
    const { waits, options } = harness({ maxAttempts: 10, baseDelayMs: 10_000, maxWaitMs: 25_000 })
    const api = flaky(Array.from({ length: 5 }, () => httpError(502)))
    await expect(withRetry(api.call, 'GET /x', options)).resolves.toBe('ok')
    expect(waits).toEqual([5000, 10_000, 20_000, 25_000, 25_000])
  })
})

describe('classifyFailure', () => {
  it('a 5xx with retry-after asks for that wait', () => {
    expect(classifyFailure(httpError(503, { 'retry-after': '3' }), NOW)).toEqual({
      retry: true,
      reason: '503 server error',
      waitMs: 3000
    })
  })

  it('a 403 with retry-after is a secondary rate limit even without the words', () => {
    expect(classifyFailure(httpError(403, { 'retry-after': '0' }), NOW)).toMatchObject({
      retry: true,
      waitMs: 0
    })
  })
})

describe('calls that must not happen twice', () => {
  const failing = (status: number, headers: Record<string, string> = {}) => {
    let calls = 0
    const call = async () => {
      calls += 1
      if (calls === 1) throw Object.assign(new Error('failed'), { status, response: { headers } })
      return 'ok'
    }
    return { call, calls: () => calls }
  }

  it('are not retried after a 5xx, which GitHub may have carried out', async () => {
    const { options } = harness()
    const attempt = failing(502)
    await expect(
      withRetry(attempt.call, 'POST /comments', { ...options, idempotent: false })
    ).rejects.toMatchObject({ status: 502 })
    expect(attempt.calls()).toBe(1)
  })

  it('are retried after a rate limit, which refused them unprocessed', async () => {
    const { options } = harness()
    const attempt = failing(429, { 'retry-after': '1' })
    await expect(
      withRetry(attempt.call, 'POST /comments', { ...options, idempotent: false })
    ).resolves.toBe('ok')
    expect(attempt.calls()).toBe(2)
  })
})

describe('installRetry on a real octokit', () => {
  let server: Awaited<ReturnType<typeof listenLoopback>>
  let requests = 0

  beforeAll(async () => {
    server = await listenLoopback((req, res) => {
      requests += 1
      if (requests <= 2) {
        res.writeHead(502, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ message: 'Bad Gateway' }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ number: 7, title: 'Hello', path: req.url }))
    })
  })

  afterAll(async () => {
    await server?.close()
  })

  it('answers after two 502s, having retried through the request hook', async () => {
    const { getOctokit } = await import('@actions/github')
    const { waits, logs, options } = harness()
    const octokit = installRetry(getOctokit('ghs_test', { baseUrl: server.url }), options)
    const { data } = await octokit.rest.issues.get({ owner: 'o', repo: 'r', issue_number: 7 })
    expect(data).toMatchObject({ number: 7, title: 'Hello', path: '/repos/o/r/issues/7' })
    expect(requests).toBe(3)
    expect(waits).toHaveLength(2)
    expect(logs[0]).toBe(
      'GET /repos/{owner}/{repo}/issues/{issue_number}: 502 server error; retrying in 1 s (attempt 2 of 4)'
    )
  })
})
