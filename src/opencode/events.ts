/**
 * Parsing of `opencode run --format json` output (pure; no I/O).
 *
 * opencode 1.18 prints one JSON object per line, each `{type, timestamp, sessionID, ...}`:
 * - `step_start`  `{part: {type: 'step-start', messageID, ...}}`: an assistant message (one model
 *   call) begins.
 * - `text`        `{part: {type: 'text', text, messageID, time: {start, end}}}`: a finished text part.
 * - `reasoning`   like `text`, only with `--thinking`.
 * - `tool_use`    `{part: {type: 'tool', tool, callID, state: {status: 'completed' | 'error', input,
 *   output?, error?, title?, metadata?}}}`: a finished tool call.
 * - `step_finish` `{part: {type: 'step-finish', reason: 'stop' | 'tool-calls' | ..., cost,
 *   tokens: {total, input, output, reasoning, cache: {read, write}}}}`.
 * - `error`       `{error: {name: 'APIError' | 'ProviderAuthError' | 'UnknownError' | ...,
 *   data: {message, statusCode?, isRetryable?, responseBody?, ...}}}`: the turn failed.
 */
import type { TokenUsage } from '../store/types.js'
import type { RunResult, ToolCall, ToolProgress } from './types.js'

/** One line of `--format json` output. */
export interface OpencodeEvent {
  type: string
  timestamp?: number
  sessionID?: string
  part?: Record<string, unknown>
  error?: { name?: string; data?: Record<string, unknown> } & Record<string, unknown>
  [key: string]: unknown
}

/** Errors opencode reports about the model or its provider (as opposed to its own failures). */
const NON_PROVIDER_ERRORS = new Set(['UnknownError', 'MessageAbortedError'])

/** What a tool error says when the permission config refused the call. */
const PERMISSION_ERRORS = [
  /rejected permission/i,
  /specified a rule which prevents you from using this specific tool call/i,
  /permission (?:was )?(?:denied|rejected)/i
]

export interface ParsedRun extends Omit<RunResult, 'durationMs'> {
  events: OpencodeEvent[]
  /** Names of the error events (`APIError`, `UnknownError`, ...), parallel to `errors`. */
  errorNames: string[]
  /** Lines that were not JSON events (ignored otherwise). */
  otherLines: string[]
}

export function emptyTokens(): TokenUsage {
  return { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 }
}

/** Splits stdout into events; non-JSON lines and a partial last line are tolerated. */
export function parseEventLines(stdout: string): { events: OpencodeEvent[]; otherLines: string[] } {
  const events: OpencodeEvent[] = []
  const otherLines: string[] = []
  for (const raw of stdout.split('\n')) {
    const line = raw.trim()
    if (!line) continue
    if (line.startsWith('{')) {
      try {
        const value: unknown = JSON.parse(line)
        if (
          value &&
          typeof value === 'object' &&
          typeof (value as OpencodeEvent).type === 'string'
        ) {
          events.push(value as OpencodeEvent)
          continue
        }
      } catch {
        // a partial line (the process was killed mid-write) or something that only looks like JSON
      }
    }
    otherLines.push(line)
  }
  return { events, otherLines }
}

function num(value: unknown): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : 0
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function oneLine(text: string, max = 300): string {
  const line = text.replace(/\s+/g, ' ').trim()
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

/** A one-line description of an `error` event. */
export function describeErrorEvent(error: OpencodeEvent['error']): string {
  if (!error) return 'unknown error'
  const name = str(error.name) ?? 'Error'
  const data = (error.data ?? {}) as Record<string, unknown>
  const message = str(data.message) ?? str(error.message) ?? ''
  const status = typeof data.statusCode === 'number' ? ` (HTTP ${data.statusCode})` : ''
  return oneLine(message ? `${name}: ${message}${status}` : `${name}${status}`)
}

/** True when an error event comes from the model or its provider. */
export function isProviderError(name: string): boolean {
  return !NON_PROVIDER_ERRORS.has(name)
}

export function isPermissionError(error: string | undefined): boolean {
  return error !== undefined && PERMISSION_ERRORS.some((pattern) => pattern.test(error))
}

function describeToolTarget(call: ToolCall): string {
  const input =
    call.input && typeof call.input === 'object' ? (call.input as Record<string, unknown>) : {}
  const target =
    str(input.command) ??
    str(input.filePath) ??
    str(input.path) ??
    str(input.url) ??
    str(input.pattern)
  return target ? `${call.tool} ${oneLine(target, 120)}` : call.tool
}

function permissionSummary(call: ToolCall): string {
  const error = call.error ?? ''
  const reason = /rejected permission/i.test(error) ? 'rejected' : 'denied by permission rules'
  return `${describeToolTarget(call)}: ${reason}`
}

/** The result of a run from its parsed events (the session id and duration are the caller's). */
export function runResultOf(parsed: ParsedRun, sessionId: string, durationMs: number): RunResult {
  const { text, toolCalls, tokens, cost, errors, permissionRejections } = parsed
  return { sessionId, text, toolCalls, tokens, cost, errors, permissionRejections, durationMs }
}

/** A run that produced nothing. */
export function emptyRunResult(sessionId: string, durationMs: number): RunResult {
  return runResultOf(summarizeEvents([]), sessionId, durationMs)
}

/** Turns the events of one run into a result (durationMs is the caller's to add). */
export function summarizeEvents(events: OpencodeEvent[], otherLines: string[] = []): ParsedRun {
  let sessionId = ''
  const tokens = emptyTokens()
  let cost = 0
  const toolCalls: ToolCall[] = []
  const errors: string[] = []
  const errorNames: string[] = []
  const permissionRejections: string[] = []
  // text parts per assistant message, in order of appearance
  const texts = new Map<string, string[]>()
  let lastTextMessage: string | undefined

  for (const event of events) {
    if (!sessionId && typeof event.sessionID === 'string') sessionId = event.sessionID
    const part = event.part ?? {}
    switch (event.type) {
      case 'text': {
        const text = str(part.text)
        if (text === undefined) break
        const messageId = str(part.messageID) ?? `#${texts.size}`
        const list = texts.get(messageId) ?? []
        list.push(text)
        texts.set(messageId, list)
        lastTextMessage = messageId
        break
      }
      case 'tool_use': {
        const state = (part.state ?? {}) as Record<string, unknown>
        const call: ToolCall = {
          tool: str(part.tool) ?? 'unknown',
          status: str(state.status) ?? 'unknown'
        }
        if (str(state.title) !== undefined) call.title = str(state.title)
        if (state.input !== undefined) call.input = state.input
        if (str(state.output) !== undefined) call.output = str(state.output)
        if (str(state.error) !== undefined) call.error = str(state.error)
        toolCalls.push(call)
        if (call.status === 'error' && isPermissionError(call.error)) {
          permissionRejections.push(permissionSummary(call))
        }
        break
      }
      case 'step_finish': {
        const used = (part.tokens ?? {}) as Record<string, unknown>
        const cache = (used.cache ?? {}) as Record<string, unknown>
        tokens.input += num(used.input)
        tokens.output += num(used.output)
        tokens.reasoning += num(used.reasoning)
        tokens.cacheRead += num(cache.read)
        tokens.cacheWrite += num(cache.write)
        cost += num(part.cost)
        break
      }
      case 'error': {
        errors.push(describeErrorEvent(event.error))
        errorNames.push(str(event.error?.name) ?? 'Error')
        break
      }
    }
  }

  const text = lastTextMessage ? (texts.get(lastTextMessage) ?? []).join('\n').trim() : ''
  return {
    sessionId,
    text,
    toolCalls,
    tokens,
    cost,
    errors,
    errorNames,
    permissionRejections,
    events,
    otherLines
  }
}

/** Parses the whole stdout of `opencode run --format json`. */
export function parseRunOutput(stdout: string): ParsedRun {
  const { events, otherLines } = parseEventLines(stdout)
  return summarizeEvents(events, otherLines)
}

/** Drops terminal colour codes (opencode colours its stderr even when it is a pipe). */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '')
}

/** The last non-empty line of a text, without colour codes. */
export function lastLine(text: string): string {
  const lines = stripAnsi(text)
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
  return lines.length ? lines[lines.length - 1] : ''
}

/**
 * The events `opencode run --format json` would have printed for these messages (as
 * `GET /session/{id}/message` of `opencode serve` returns them, `[{info, parts}]`): finished text
 * parts, finished tool calls, step ends, and the error an assistant message ended with. So a turn
 * driven over HTTP is summarised by the same rules as one run by the CLI.
 */
export function eventsFromMessages(messages: unknown[]): OpencodeEvent[] {
  const events: OpencodeEvent[] = []
  for (const message of messages) {
    if (!message || typeof message !== 'object') continue
    const { info, parts } = message as { info?: Record<string, unknown>; parts?: unknown }
    if (!info || info.role !== 'assistant') continue
    const sessionID = str(info.sessionID)
    for (const part of Array.isArray(parts) ? parts : []) {
      if (!part || typeof part !== 'object') continue
      const p = part as Record<string, unknown>
      const state = (p.state ?? {}) as Record<string, unknown>
      const time = (p.time ?? {}) as Record<string, unknown>
      if (p.type === 'text' && !p.synthetic && !p.ignored && time.end !== undefined) {
        events.push({ type: 'text', sessionID, part: p })
      } else if (p.type === 'tool' && (state.status === 'completed' || state.status === 'error')) {
        events.push({ type: 'tool_use', sessionID, part: p })
      } else if (p.type === 'step-finish') {
        events.push({ type: 'step_finish', sessionID, part: p })
      }
    }
    const error = info.error
    if (error && typeof error === 'object') {
      events.push({ type: 'error', sessionID, error: error as OpencodeEvent['error'] })
    }
  }
  return events
}

/**
 * The tool call a tool part describes (a `tool_use` event's part, or the part of serve's
 * `message.part.updated`), or undefined for any other part or one not yet started.
 */
export function toolProgressOf(part: unknown): ToolProgress | undefined {
  if (!part || typeof part !== 'object') return undefined
  const p = part as Record<string, unknown>
  if (p.type !== 'tool') return undefined
  const state = (p.state ?? {}) as Record<string, unknown>
  const status = str(state.status)
  if (status !== 'running' && status !== 'completed' && status !== 'error') return undefined
  const step: ToolProgress = { tool: str(p.tool) ?? 'unknown', status }
  if (str(p.callID) !== undefined) step.callId = str(p.callID)
  if (state.input !== undefined) step.input = state.input
  return step
}

/**
 * Feeds `onProgress` from stdout chunks of `opencode run --format json` as they come (a line may
 * span chunks); a throwing callback is ignored, as progress must never fail a turn.
 */
export function progressLineReader(
  onProgress: (step: ToolProgress) => void
): (chunk: string) => void {
  let pending = ''
  return (chunk) => {
    pending += chunk
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    // A single line longer than this is no event worth showing: dropped rather than kept growing.
    if (pending.length > 1024 * 1024) pending = ''
    for (const line of lines) {
      if (!line.includes('"tool_use"')) continue
      const { events } = parseEventLines(line)
      const step = events[0]?.type === 'tool_use' ? toolProgressOf(events[0].part) : undefined
      if (!step) continue
      try {
        onProgress(step)
      } catch {
        // progress is best effort
      }
    }
  }
}
