/**
 * Retries for GitHub REST calls. A run makes only a handful of calls, but each one failing on a
 * passing 502 or a secondary rate limit would fail the whole turn after the agent did its work, so
 * transient failures are retried a few times; everything GitHub means (401, 404, 422 ...) is not.
 */

type Octokit = ReturnType<(typeof import('@actions/github'))['getOctokit']>

export interface RetryOptions {
  /** Tries in all, the first included. Default 4. */
  maxAttempts?: number
  /** Longest single wait. A server asking for more is not waited for: the call fails. Default 60 s. */
  maxWaitMs?: number
  /** First exponential backoff step, doubled on each retry. Default 1 s. */
  baseDelayMs?: number
  sleep?: (ms: number) => Promise<void>
  /** In [0, 1), for jitter. */
  random?: () => number
  now?: () => number
  log?: (message: string) => void
  /**
   * False for a call that must not happen twice (a POST that creates something): it is retried
   * only when GitHub refused it unprocessed (a rate limit), never after a 5xx or a dropped
   * connection, after which GitHub may have done it. Default true.
   */
  idempotent?: boolean
}

export type FailureClass =
  | { retry: false; reason: string }
  /**
   * `waitMs` is what the server asked for; absent means back off exponentially. `refused`: the
   * request was turned away by a rate limit, so it was not carried out.
   */
  | { retry: true; reason: string; waitMs?: number; refused?: boolean }

/** GitHub's advice for a secondary rate limit without retry-after: wait at least a minute. */
const SECONDARY_LIMIT_WAIT_MS = 60_000

const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT'
])
const NETWORK_MESSAGE =
  /fetch failed|socket hang up|network|ECONNRESET|ETIMEDOUT|other side closed/i

interface ErrorShape {
  name?: unknown
  message?: unknown
  code?: unknown
  status?: unknown
  cause?: unknown
  response?: { headers?: Record<string, unknown>; data?: unknown }
}

const shape = (error: unknown): ErrorShape =>
  error !== null && typeof error === 'object' ? (error as ErrorShape) : {}

function header(error: ErrorShape, name: string): string | undefined {
  const headers = error.response?.headers ?? {}
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name && value !== undefined && value !== null) return String(value)
  }
  return undefined
}

/** The error's message and GitHub's own `message` from the response body. */
function messages(error: ErrorShape): string {
  const data = error.response?.data
  const apiMessage =
    data !== null && typeof data === 'object' ? (data as { message?: unknown }).message : data
  return [error.message, apiMessage].filter((m) => typeof m === 'string').join(' ')
}

/** A failure to talk to the server at all, looking through `cause` chains (fetch wraps them). */
function isNetworkError(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth++) {
    const { code, message, cause } = shape(current)
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return true
    if (typeof message === 'string' && NETWORK_MESSAGE.test(message)) return true
    current = cause
  }
  return false
}

/** `retry-after` in seconds or as an HTTP date, as milliseconds from now. */
function retryAfterMs(value: string, now: number): number | undefined {
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Math.ceil(Number(value) * 1000)
  const date = Date.parse(value)
  return Number.isNaN(date) ? undefined : Math.max(0, date - now)
}

/** Whether a failed call is worth trying again, and how long the server asked us to wait. */
export function classifyFailure(error: unknown, now: number = Date.now()): FailureClass {
  const failure = shape(error)
  // octokit reports an aborted request with status 500; whoever aborted it wants it to stop.
  if (failure.name === 'AbortError') return { retry: false, reason: 'aborted' }
  const status = typeof failure.status === 'number' ? failure.status : undefined
  // octokit turns a failed fetch into status 500 without a response.
  if (status === undefined || (status === 500 && failure.response === undefined)) {
    return isNetworkError(error)
      ? { retry: true, reason: `network error (${messages(failure) || 'no message'})` }
      : { retry: false, reason: 'not an HTTP or network failure' }
  }
  const retryAfter = header(failure, 'retry-after')
  const waitFromRetryAfter = retryAfter === undefined ? undefined : retryAfterMs(retryAfter, now)
  if (status === 403 || status === 429) {
    if (header(failure, 'x-ratelimit-remaining') === '0') {
      const reset = Number(header(failure, 'x-ratelimit-reset'))
      const waitMs =
        waitFromRetryAfter ?? (Number.isFinite(reset) ? Math.max(0, reset * 1000 - now) : undefined)
      return { retry: true, reason: `${status} rate limit exhausted`, waitMs, refused: true }
    }
    if (waitFromRetryAfter !== undefined || /secondary rate limit/i.test(messages(failure))) {
      return {
        retry: true,
        reason: `${status} secondary rate limit`,
        waitMs: waitFromRetryAfter ?? SECONDARY_LIMIT_WAIT_MS,
        refused: true
      }
    }
    if (status === 429) return { retry: true, reason: '429 too many requests', refused: true }
    return { retry: false, reason: '403 forbidden' }
  }
  if (status >= 500)
    return { retry: true, reason: `${status} server error`, waitMs: waitFromRetryAfter }
  return { retry: false, reason: `${status}` }
}

/** Raised when the server asks for a wait longer than the cap: better to fail now than idle for an hour. */
export class RetryWaitTooLongError extends Error {
  readonly status: number | undefined
  constructor(message: string, cause: unknown) {
    super(message, { cause })
    this.name = 'RetryWaitTooLongError'
    const status = shape(cause).status
    this.status = typeof status === 'number' ? status : undefined
  }
}

const seconds = (ms: number) => `${Math.ceil(ms / 1000)} s`

/**
 * Calls `call` until it succeeds, fails in a way not worth retrying, or runs out of attempts;
 * then throws the last error as it was. `label` names the call in log lines.
 */
export async function withRetry<T>(
  call: () => Promise<T>,
  label: string,
  options: RetryOptions = {}
): Promise<T> {
  const {
    maxAttempts = 4,
    maxWaitMs = 60_000,
    baseDelayMs = 1000,
    sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    random = Math.random,
    now = Date.now,
    log = () => undefined,
    idempotent = true
  } = options
  for (let attempt = 1; ; attempt++) {
    try {
      return await call()
    } catch (error) {
      const failure = classifyFailure(error, now())
      if (!failure.retry) throw error
      if (!idempotent && !failure.refused) {
        log(`${label}: ${failure.reason}; not retried, as it may have been carried out`)
        throw error
      }
      if (attempt >= maxAttempts) {
        log(`${label}: ${failure.reason}; giving up after ${attempt} attempts`)
        throw error
      }
      if (failure.waitMs !== undefined && failure.waitMs > maxWaitMs) {
        throw new RetryWaitTooLongError(
          `${label}: ${failure.reason}; GitHub asks to wait ${seconds(failure.waitMs)}, longer than the ${seconds(maxWaitMs)} kugetsu waits. Try again later.`,
          error
        )
      }
      // Full backoff times a random factor in [0.5, 1), so parallel jobs do not retry in step.
      const backoff = Math.min(maxWaitMs, baseDelayMs * 2 ** (attempt - 1) * (0.5 + random() / 2))
      const waitMs = Math.round(failure.waitMs ?? backoff)
      log(
        `${label}: ${failure.reason}; retrying in ${seconds(waitMs)} (attempt ${attempt + 1} of ${maxAttempts})`
      )
      await sleep(waitMs)
    }
  }
}

/** Makes every request of `octokit` (REST methods, `request`, `paginate`) go through withRetry. */
export function installRetry(octokit: Octokit, options: RetryOptions = {}): Octokit {
  octokit.hook.wrap('request', (request, requestOptions) =>
    withRetry(
      async () => request(requestOptions),
      `${requestOptions.method} ${requestOptions.url}`,
      { idempotent: requestOptions.method !== 'POST', ...options }
    )
  )
  return octokit
}
