import { describe, expect, it } from '@jest/globals'
import {
  MAX_COMMENT_LENGTH,
  failureBody,
  NOTE_BLOCKS,
  isKugetsuComment,
  replyBody
} from '../src/action/conversation/report.js'

const facts = {
  ref: 'github.com/o/r#7',
  mode: 'start' as const,
  sessionId: 'ses_0123456789abcdefghij',
  turns: 1,
  tokensInput: 1234,
  tokensOutput: 56,
  cost: 0.0042,
  durationMs: 12_345,
  runUrl: 'https://github.com/o/r/actions/runs/1'
}

describe('reply comments', () => {
  it('text, then a footer with the facts, then the hidden marker', () => {
    const body = replyBody('Done.', facts)
    expect(body.startsWith('Done.\n')).toBe(true)
    expect(body).toContain('Started session `ses_0123456789…`')
    expect(body).toContain('turn 1')
    expect(body).toContain('1,234 in / 56 out tokens')
    expect(body).toContain('$0.0042')
    expect(body).toContain('12.3 s')
    expect(body).toContain('[run](https://github.com/o/r/actions/runs/1)')
    expect(body).toMatch(
      /<!-- kugetsu: session=ses_0123456789abcdefghij ref=github.com\/o\/r#7 turn=1 -->$/
    )
    expect(isKugetsuComment(body)).toBe(true)
    expect(isKugetsuComment('/kugetsu hi')).toBe(false)
  })

  it('notes stand between the text and the footer, also when the text is cut', () => {
    const note = 'Another run saved a newer session.'
    const body = replyBody('Done.', { ...facts, notes: [note] })
    expect(body).toMatch(
      /^Done\.\n\n> \[!NOTE\]\n> Another run saved a newer session\.\n\n---\n<sub>/
    )
    expect(body.replace(NOTE_BLOCKS, '')).toBe(replyBody('Done.', facts))
    const long = replyBody('x'.repeat(MAX_COMMENT_LENGTH), { ...facts, notes: [note] })
    expect(long.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH)
    expect(long).toContain(`> ${note}\n\n---\n`)
  })

  it('the marker keeps refs with hyphens intact and cannot close the HTML comment early', () => {
    const body = replyBody('ok', {
      ...facts,
      ref: 'github.com/octo-org/octo-repo#1',
      sessionId: 'ses_a-->b'
    })
    expect(body).toContain('ref=github.com/octo-org/octo-repo#1')
    expect(body.slice(body.indexOf('<!--')).match(/-->/g)).toHaveLength(1)
  })

  it('a reply too long for a comment is cut with a note, keeping footer and marker', () => {
    const body = replyBody('x'.repeat(100_000), facts)
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH)
    expect(body).toContain('the reply was cut here')
    expect(isKugetsuComment(body)).toBe(true)
  })

  it('never splits a surrogate pair', () => {
    const body = replyBody('😀'.repeat(40_000), facts)
    expect(body.length).toBeLessThanOrEqual(MAX_COMMENT_LENGTH)
    expect(body).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/)
  })

  it('failure comments say what failed and link the run', () => {
    const body = failureBody('github.com/o/r#7', 'model provider error', facts.runUrl)
    expect(body).toContain('**kugetsu failed:** model provider error')
    expect(body).toContain('[the run](https://github.com/o/r/actions/runs/1)')
    expect(isKugetsuComment(body)).toBe(true)
    expect(body).not.toContain('Failed while')
  })

  it('failure comments name the stage of the turn that failed, when known', () => {
    const body = failureBody(
      'github.com/o/r#7',
      'push refused',
      facts.runUrl,
      "publishing the agent's work"
    )
    expect(body).toMatch(/^\*\*kugetsu failed:\*\* push refused/)
    expect(body).toContain("<sub>Failed while publishing the agent's work.</sub>")
    expect(isKugetsuComment(body)).toBe(true)
  })
})
