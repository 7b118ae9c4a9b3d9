import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  describeErrorEvent,
  eventsFromMessages,
  isPermissionError,
  lastLine,
  parseEventLines,
  parseRunOutput,
  stripAnsi,
  summarizeEvents
} from '../src/opencode/events.js'

// Real output of opencode 1.18.33 (`run --format json`, `export`, and `GET /session/{id}/message`
// of `opencode serve`), captured against the scripted model server of
// __tests__/support/model-server.ts.
const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'opencode')
const fixture = (name: string) => readFileSync(path.join(fixtures, name), 'utf8')

describe('parseRunOutput on real opencode output', () => {
  it('reads a plain text turn: session, text, tokens and cost', () => {
    const run = parseRunOutput(fixture('run-text-turn.jsonl'))
    expect(run.sessionId).toMatch(/^ses_/)
    expect(run.text).toBe('ECHO[n=1]: hello there')
    expect(run.toolCalls).toEqual([])
    expect(run.errors).toEqual([])
    expect(run.permissionRejections).toEqual([])
    expect(run.tokens.input).toBeGreaterThan(0)
    expect(run.tokens.output).toBeGreaterThan(0)
    expect(run.tokens).toEqual(
      expect.objectContaining({ reasoning: 0, cacheRead: 0, cacheWrite: 0 })
    )
    expect(run.cost).toBeGreaterThan(0)
    expect(run.events.map((event) => event.type)).toEqual(['step_start', 'text', 'step_finish'])
  })

  it('reads a turn with tools: tool calls, a denied call, the text of the last message, summed tokens', () => {
    const stdout = fixture('run-tool-turn.jsonl')
    const run = parseRunOutput(stdout)
    expect(run.text).toBe('All done.\nTwo lines.')
    expect(run.toolCalls.map((call) => [call.tool, call.status])).toEqual([
      ['bash', 'completed'],
      ['read', 'error']
    ])
    expect(run.toolCalls[0]).toEqual(
      expect.objectContaining({
        input: { command: 'echo hello-from-bash', description: 'Say hello' },
        output: 'hello-from-bash\n',
        title: 'echo hello-from-bash'
      })
    )
    expect(run.toolCalls[1].error).toMatch(/prevents you from using this specific tool call/)
    expect(run.permissionRejections).toEqual(['read /etc/hostname: denied by permission rules'])

    // three steps, each with its own step_finish: the totals are their sums
    const finishes = stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((event) => event.type === 'step_finish')
    expect(finishes).toHaveLength(3)
    const sum = (pick: (event: { part: { tokens: Record<string, number> } }) => number) =>
      finishes.reduce((total, event) => total + pick(event), 0)
    expect(run.tokens.input).toBe(sum((event) => event.part.tokens.input))
    expect(run.tokens.output).toBe(sum((event) => event.part.tokens.output))
    expect(run.cost).toBeCloseTo(
      finishes.reduce((total, event) => total + event.part.cost, 0),
      12
    )
  })

  it('reads a question call in a fork (denied tool, answered as invalid) as an ordinary turn', () => {
    const run = parseRunOutput(fixture('run-fork-question.jsonl'))
    expect(run.toolCalls.map((call) => call.tool)).toEqual(['invalid'])
    expect(run.permissionRejections).toEqual([])
    expect(run.text).toMatch(/^ECHO\[n=3\]: hello there \| use tools \| ask\n/)
  })

  it('reads a permission auto-rejection (an "ask" rule): the turn stops without text', () => {
    const run = parseRunOutput(fixture('run-ask-rejected.jsonl'))
    expect(run.text).toBe('')
    expect(run.permissionRejections).toHaveLength(1)
    expect(run.permissionRejections[0]).toMatch(/^read \/.*\/\.env: rejected$/)
    expect(lastLine(fixture('run-ask-rejected.stderr.txt'))).toMatch(
      /^! permission requested: read \(.*\.env\); auto-rejecting$/
    )
  })

  it('reads a provider error event as one line', () => {
    const run = parseRunOutput(fixture('run-error-401.jsonl'))
    expect(run.sessionId).toMatch(/^ses_/)
    expect(run.errors).toEqual(['APIError: Incorrect API key provided (HTTP 401)'])
    expect(run.errorNames).toEqual(['APIError'])
    expect(run.text).toBe('')
  })

  it('reads opencode’s own failure (unknown model) as an UnknownError', () => {
    const run = parseRunOutput(fixture('run-unknown-model.jsonl'))
    expect(run.errorNames).toEqual(['UnknownError'])
    expect(run.errors[0]).toBe(
      'UnknownError: Unexpected server error. Check server logs for details.'
    )
  })

  it('knows the stderr of an unknown session', () => {
    expect(lastLine(fixture('run-unknown-session.stderr.txt'))).toBe('Error: Session not found')
    expect(lastLine(fixture('export-unknown.stderr.txt'))).toBe(
      'Error: Session not found: ses_doesnotexist'
    )
  })
})

describe('parseEventLines', () => {
  it('tolerates non-JSON lines, blank lines and a partial last line', () => {
    const whole = fixture('run-tool-turn.jsonl')
    const cut = whole.slice(0, whole.length - 40)
    const noisy = `opencode says hi\n\n${cut}`
    const { events, otherLines } = parseEventLines(noisy)
    expect(otherLines[0]).toBe('opencode says hi')
    expect(otherLines).toHaveLength(2) // the chatter and the cut-off last event
    expect(events.map((event) => event.type)).toEqual([
      'step_start',
      'tool_use',
      'step_finish',
      'step_start',
      'tool_use',
      'step_finish',
      'step_start',
      'text'
    ])
    const run = parseRunOutput(noisy)
    expect(run.text).toBe('All done.\nTwo lines.')
  })

  it('ignores JSON lines that are not events', () => {
    const { events, otherLines } = parseEventLines('{"no":"type"}\n[1,2]\n{"type":"text"}')
    expect(events).toEqual([{ type: 'text' }])
    expect(otherLines).toEqual(['{"no":"type"}', '[1,2]'])
  })

  it('handles CRLF line ends and empty output', () => {
    const crlf = fixture('run-text-turn.jsonl').replace(/\n/g, '\r\n')
    expect(parseRunOutput(crlf).text).toBe('ECHO[n=1]: hello there')
    const empty = parseRunOutput('')
    expect(empty.sessionId).toBe('')
    expect(empty.text).toBe('')
    expect(empty.cost).toBe(0)
  })
})

describe('summaries', () => {
  it('joins the text parts of the last message that has text', () => {
    const lines = [
      { type: 'text', sessionID: 's', part: { messageID: 'm1', text: 'first step' } },
      { type: 'tool_use', sessionID: 's', part: { tool: 'bash', state: { status: 'completed' } } },
      { type: 'text', sessionID: 's', part: { messageID: 'm2', text: 'part one' } },
      { type: 'text', sessionID: 's', part: { messageID: 'm2', text: 'part two\n' } }
    ]
    const run = parseRunOutput(lines.map((line) => JSON.stringify(line)).join('\n'))
    expect(run.text).toBe('part one\npart two')
  })

  it('describes error events in one line', () => {
    expect(describeErrorEvent({ name: 'ProviderAuthError', data: { message: 'bad\nkey' } })).toBe(
      'ProviderAuthError: bad key'
    )
    expect(describeErrorEvent({ name: 'APIError', data: { statusCode: 500 } })).toBe(
      'APIError (HTTP 500)'
    )
    expect(describeErrorEvent(undefined)).toBe('unknown error')
  })

  it('recognises permission errors', () => {
    expect(isPermissionError('The user rejected permission to use this specific tool call.')).toBe(
      true
    )
    expect(
      isPermissionError(
        'The user has specified a rule which prevents you from using this specific tool call. Here are'
      )
    ).toBe(true)
    expect(isPermissionError('File not found: /x')).toBe(false)
    expect(isPermissionError(undefined)).toBe(false)
  })

  it('strips colour codes', () => {
    expect(stripAnsi('\u001b[91m\u001b[1mError: \u001b[0mSession not found')).toBe(
      'Error: Session not found'
    )
  })
})

describe('eventsFromMessages: a turn read back from opencode serve', () => {
  it('gives the events opencode run would print: same text, tool calls, denials and tokens', () => {
    const messages = JSON.parse(fixture('serve-messages-tool-turn.json')) as unknown[]
    const events = eventsFromMessages(messages)
    expect(events.map((event) => event.type)).toEqual([
      'tool_use',
      'step_finish',
      'tool_use',
      'step_finish',
      'text',
      'step_finish'
    ])
    const turn = summarizeEvents(events)
    expect(turn.sessionId).toMatch(/^ses_/)
    expect(turn.text).toBe('All done.\nTwo lines.')
    expect(turn.toolCalls.map((call) => [call.tool, call.status])).toEqual([
      ['bash', 'completed'],
      ['read', 'error']
    ])
    expect(turn.toolCalls[0]).toEqual(
      expect.objectContaining({
        input: { command: 'echo hello-from-bash', description: 'Say hello' },
        output: 'hello-from-bash\n'
      })
    )
    expect(turn.permissionRejections).toEqual(['read /etc/hostname: denied by permission rules'])
    expect(turn.tokens.input).toBeGreaterThan(0)
    expect(turn.cost).toBeGreaterThan(0)
    expect(turn.errors).toEqual([])
  })

  it('turns the error an assistant message ended with into an error event', () => {
    const messages = JSON.parse(fixture('serve-messages-error-401.json')) as unknown[]
    const turn = summarizeEvents(eventsFromMessages(messages))
    expect(turn.errors).toEqual(['APIError: Incorrect API key provided (HTTP 401)'])
    expect(turn.errorNames).toEqual(['APIError'])
    expect(turn.text).toBe('')
  })

  it('skips user messages, unfinished parts and anything that is not a message', () => {
    const events = eventsFromMessages([
      null,
      'text',
      {
        info: { role: 'user', sessionID: 'ses_1' },
        parts: [{ type: 'text', text: 'hi', time: { end: 1 } }]
      },
      {
        info: { role: 'assistant', sessionID: 'ses_1' },
        parts: [
          { type: 'text', text: 'still typing', time: { start: 1 } },
          { type: 'text', text: 'hidden', synthetic: true, time: { end: 2 } },
          { type: 'tool', tool: 'bash', state: { status: 'running' } },
          { type: 'text', text: 'done', time: { start: 1, end: 2 } }
        ]
      }
    ])
    expect(events.map((event) => [event.type, event.part?.text])).toEqual([['text', 'done']])
  })
})
