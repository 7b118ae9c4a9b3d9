import { describe, expect, it } from '@jest/globals'
import {
  MAX_SHOWN_STEPS,
  MAX_TARGET_LENGTH,
  ProgressLog,
  codeSpan,
  formatElapsed,
  progressLines
} from '../src/action/conversation/progress.js'
import { createPacer, PROGRESS_FLOOR_MS } from '../src/action/github/progress-pace.js'
import { isTrackingComment } from '../src/action/github/tracking.js'
import { redactSecrets } from '../src/action/secrets/masking.js'
import { startProgress } from '../src/action/stages/progress.js'
import { progressLineReader, toolProgressOf } from '../src/opencode/events.js'
import type { ToolProgress } from '../src/opencode/types.js'

const SECRET = 'sk-live-0123456789abcdef'
const redact = (text: string) => redactSecrets(text, [SECRET])
const CWD = '/home/runner/work/r/r'

const toolLine = (callID: string, tool: string, input: unknown, status = 'completed') =>
  JSON.stringify({
    type: 'tool_use',
    sessionID: 'ses_1',
    part: { type: 'tool', tool, callID, state: { status, input, output: 'x' } }
  })

describe('opencode events become progress reports', () => {
  it('reads tool calls from `run --format json` output as it comes, lines split across chunks', () => {
    const seen: ToolProgress[] = []
    const feed = progressLineReader((step) => seen.push(step))
    const text = [
      JSON.stringify({ type: 'step_start', part: { type: 'step-start' } }),
      toolLine('c1', 'read', { filePath: `${CWD}/src/a.ts` }),
      'not json at all',
      toolLine('c2', 'bash', { command: 'npm test' }, 'error'),
      JSON.stringify({ type: 'text', part: { type: 'text', text: 'tool_use' } })
    ].join('\n')
    for (let i = 0; i < text.length; i += 7) feed(text.slice(i, i + 7))
    feed('\n')
    expect(seen).toEqual([
      { callId: 'c1', tool: 'read', status: 'completed', input: { filePath: `${CWD}/src/a.ts` } },
      { callId: 'c2', tool: 'bash', status: 'error', input: { command: 'npm test' } }
    ])
  })

  it('a callback that throws does not stop the reader', () => {
    let calls = 0
    const feed = progressLineReader(() => {
      calls++
      throw new Error('boom')
    })
    expect(() => feed(`${toolLine('a', 'read', {})}\n${toolLine('b', 'read', {})}\n`)).not.toThrow()
    expect(calls).toBe(2)
  })

  it("serve's tool parts: running and finished calls count, pending ones and other parts do not", () => {
    const part = (status: string) => ({
      type: 'tool',
      tool: 'edit',
      callID: 'c9',
      sessionID: 's',
      state: { status, input: { filePath: 'x' } }
    })
    expect(toolProgressOf(part('running'))).toEqual({
      callId: 'c9',
      tool: 'edit',
      status: 'running',
      input: { filePath: 'x' }
    })
    expect(toolProgressOf(part('pending'))).toBeUndefined()
    expect(toolProgressOf({ type: 'text', text: 'hi' })).toBeUndefined()
    expect(toolProgressOf(null)).toBeUndefined()
  })
})

describe('the step list', () => {
  it('merges updates of one call, shows paths relative to the working directory, keeps time', () => {
    const log = new ProgressLog(CWD)
    expect(
      log.add(
        { callId: 'c1', tool: 'edit', status: 'running', input: { filePath: `${CWD}/a.ts` } },
        3_000
      )
    ).toBe(true)
    expect(log.add({ callId: 'c1', tool: 'edit', status: 'running' }, 4_000)).toBe(false)
    expect(log.add({ callId: 'c1', tool: 'edit', status: 'completed' }, 5_000)).toBe(true)
    log.add({ tool: 'bash', status: 'completed', input: { command: 'ls /etc' } }, 65_000)
    log.add({ tool: 'read', status: 'error', input: { filePath: '/etc/passwd' } }, 70_000)
    expect(progressLines(log, redact)).toEqual([
      '- 0:03 edit `a.ts`',
      '- 1:05 bash `ls /etc`',
      '- 1:10 read `/etc/passwd` (failed)'
    ])
  })

  it('shows the newest steps and counts the others', () => {
    const log = new ProgressLog()
    for (let i = 0; i < MAX_SHOWN_STEPS + 5; i++) {
      log.add(
        { callId: `c${i}`, tool: 'read', status: 'completed', input: { filePath: `f${i}` } },
        i * 1000
      )
    }
    const lines = progressLines(log, redact)
    expect(lines).toHaveLength(MAX_SHOWN_STEPS + 1)
    expect(lines[0]).toBe('- _5 earlier steps_')
    expect(lines.at(-1)).toContain(`\`f${MAX_SHOWN_STEPS + 4}\``)
  })

  it('formats elapsed time as m:ss', () => {
    expect(formatElapsed(0)).toBe('0:00')
    expect(formatElapsed(61_999)).toBe('1:01')
    expect(formatElapsed(-5)).toBe('0:00')
  })
})

/** What of a line is Markdown: everything outside its code spans. */
const outsideCode = (line: string) => line.replace(/`[^`]*`/g, '')

describe('hostile paths and commands are shown as plain text', () => {
  const hostile = [
    '@everyone please look',
    'x](http://evil.example/steal) [click',
    '![img](http://evil.example/p.png)',
    'a ` @everyone ` b',
    '``` closing fence',
    '<img src=x onerror=alert(1)>',
    '<details><summary>hi</summary>',
    `curl -H "Authorization: ${SECRET}" http://x`,
    'line one\n@everyone line two\r\n# heading',
    'spoof\u202Egnp.exe\u200B',
    'a'.repeat(500)
  ]

  it.each(hostile)('%j', (target) => {
    const log = new ProgressLog()
    log.add({ tool: 'bash', status: 'completed', input: { command: target } }, 0)
    const [line] = progressLines(log, redact)
    // one line, one code span: nothing inside can close it
    expect(line.split('\n')).toHaveLength(1)
    expect(line.match(/`/g)).toHaveLength(2)
    expect(line).toMatch(/^- 0:00 bash `[^`]+`$/)
    const outside = outsideCode(line)
    expect(outside).not.toMatch(/[@<>[\]()!#]/)
    expect(line).not.toContain(SECRET)
    expect(line).not.toMatch(/[\u202E\u200B\r]/u)
    expect([...line.slice(line.indexOf('`') + 1, -1)].length).toBeLessThanOrEqual(MAX_TARGET_LENGTH)
  })

  it('redacts a secret before cutting, so no part of it is left', () => {
    const span = codeSpan(`${'x'.repeat(70)}${SECRET}`, redact, 80)
    expect(span).not.toContain(SECRET.slice(0, 6))
    expect(span).toContain('***')
    expect(codeSpan(`${'x'.repeat(75)}${SECRET}`, (t) => t, 80)).toContain('sk-')
  })

  it('an unusual tool name (an MCP server names its own) is not shown as given', () => {
    const log = new ProgressLog()
    log.add({ tool: '@everyone](http://x)', status: 'completed' }, 0)
    log.add({ tool: 'my_mcp_tool', status: 'completed' }, 0)
    expect(progressLines(log, redact)).toEqual(['- 0:00 tool', '- 0:00 my\\_mcp\\_tool'])
  })

  it('an empty target shows the tool alone', () => {
    expect(codeSpan(' \n\t', redact)).toBe('')
  })
})

describe('the pace of edits', () => {
  it('first edit at once, then one per interval, never under the floor, and a cap per turn', () => {
    let t = 0
    const pacer = createPacer({ intervalMs: 1_000, maxEdits: 3 }, () => t)
    expect(pacer.wait()).toBe(0)
    pacer.record()
    expect(pacer.wait()).toBe(PROGRESS_FLOOR_MS)
    t = 4_000
    expect(pacer.wait()).toBe(PROGRESS_FLOOR_MS - 4_000)
    t = 5_000
    expect(pacer.wait()).toBe(0)
    pacer.record()
    t = 20_000
    pacer.record()
    expect(pacer.edits).toBe(3)
    expect(pacer.wait()).toBeUndefined()
  })
})

/** A comment API stand-in whose edits end when the test says so. */
function manualComments() {
  const edits: { body: string; finish: (error?: Error) => void; done: boolean }[] = []
  return {
    edits,
    updateComment(_id: number, body: string): Promise<unknown> {
      return new Promise((resolve, reject) => {
        const edit = {
          body,
          done: false,
          finish: (error?: Error) => {
            edit.done = true
            if (error) reject(error)
            else resolve({})
          }
        }
        edits.push(edit)
      })
    }
  }
}

/** Timers run by hand with a clock of the test's own. */
function manualTime() {
  let now = 0
  const timers = new Map<number, { at: number; run: () => void }>()
  let next = 0
  return {
    now: () => now,
    setTimer: (run: () => void, ms: number) => {
      timers.set(++next, { at: now + ms, run })
      return next
    },
    clearTimer: (id: unknown) => timers.delete(id as number),
    pending: () => timers.size,
    advance(ms: number) {
      now += ms
      for (const [id, timer] of [...timers]) {
        if (timer.at <= now) {
          timers.delete(id)
          timer.run()
        }
      }
    }
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve))

describe('the updater', () => {
  const setup = (maxEdits = 60) => {
    const comments = manualComments()
    const time = manualTime()
    const warnings: string[] = []
    const updater = startProgress({
      tracking: { id: 5, url: 'u' },
      updateComment: (id, body) => comments.updateComment(id, body),
      redact,
      runUrl: 'https://github.com/o/r/actions/runs/1',
      ref: 'github.com/o/r#7',
      cwd: CWD,
      pace: { intervalMs: 10_000, maxEdits },
      now: time.now,
      setTimer: time.setTimer,
      clearTimer: time.clearTimer,
      warn: (message) => warnings.push(message)
    })
    const step = (n: number) =>
      updater.onProgress({
        callId: `c${n}`,
        tool: 'read',
        status: 'completed',
        input: { filePath: `${CWD}/f${n}` }
      })
    return { comments, time, warnings, updater, step }
  }

  it('edits at once for the first step, then waits for the interval and sends what came meanwhile', async () => {
    const { comments, time, updater, step } = setup()
    step(1)
    expect(comments.edits).toHaveLength(1)
    expect(comments.edits[0].body).toContain('- 0:00 read `f1`')
    expect(isTrackingComment(comments.edits[0].body)).toBe(true)
    step(2)
    step(3)
    // one edit at a time
    expect(comments.edits).toHaveLength(1)
    comments.edits[0].finish()
    await flush()
    expect(comments.edits).toHaveLength(1)
    time.advance(9_999)
    expect(comments.edits).toHaveLength(1)
    time.advance(1)
    expect(comments.edits).toHaveLength(2)
    expect(comments.edits[1].body).toContain('`f3`')
    comments.edits[1].finish()
    await flush()
    // nothing new: no edit
    time.advance(60_000)
    expect(comments.edits).toHaveLength(2)
    expect(updater.edits).toBe(2)
  })

  it('stop waits for the edit in flight, cancels the next one, and nothing edits after it', async () => {
    const { comments, time, updater, step } = setup()
    step(1)
    step(2)
    let stopped = false
    const stopping = updater.stop().then(() => (stopped = true))
    await flush()
    expect(stopped).toBe(false)
    comments.edits[0].finish()
    await stopping
    expect(time.pending()).toBe(0)
    step(3)
    time.advance(60_000)
    await flush()
    expect(comments.edits).toHaveLength(1)
  })

  it('a failed edit is warned about and does not stop later ones', async () => {
    const { comments, time, warnings, step, updater } = setup()
    step(1)
    comments.edits[0].finish(new Error('403 secondary rate limit'))
    await flush()
    expect(warnings).toEqual([
      'could not show progress on the tracking comment: 403 secondary rate limit'
    ])
    step(2)
    time.advance(10_000)
    expect(comments.edits).toHaveLength(2)
    comments.edits[1].finish()
    await updater.stop()
  })

  it('stops editing at the cap of the turn', async () => {
    const { comments, time, step, updater } = setup(2)
    for (let n = 0; n < 10; n++) {
      step(n)
      const last = comments.edits.at(-1)
      if (last && !last.done) last.finish()
      await flush()
      time.advance(10_000)
    }
    expect(comments.edits).toHaveLength(2)
    await updater.stop()
  })
})
