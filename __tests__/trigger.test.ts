import { describe, expect, it } from '@jest/globals'
import { findTrigger } from '../src/action/github/trigger.js'

describe('findTrigger', () => {
  it.each([
    ['/kugetsu hello', 'hello'],
    ['/KUGETSU hello', 'hello'],
    ['hey /kugetsu, can you look?', 'hey , can you look?'],
    ['please\n/kugetsu\nfix the build', 'please\n\nfix the build'],
    ['(/kugetsu) ok', '() ok'],
    ['/kugetsu', '']
  ])('acts on %j', (body, message) => {
    expect(findTrigger(body, '/kugetsu')).toEqual({ message })
  })

  it.each([
    'hello /kugetsux',
    'a/kugetsu/b',
    'see https://x.test/kugetsu',
    '> /kugetsu quoted from someone\nthanks',
    '```\n/kugetsu in a code block\n```',
    '~~~sh\n/kugetsu\n~~~',
    'inline `/kugetsu run` code',
    '<!-- /kugetsu hidden -->',
    'nothing here'
  ])('ignores %j', (body) => {
    expect(findTrigger(body, '/kugetsu')).toBeUndefined()
  })

  it('finds the trigger after a quote or code block, and keeps them in the message', () => {
    const body = '> earlier words\n```\ncode\n```\n/kugetsu what about this?'
    expect(findTrigger(body, '/kugetsu')?.message).toBe(
      '> earlier words\n```\ncode\n```\n what about this?'
    )
  })

  it('treats the trigger literally (no regular expression)', () => {
    expect(findTrigger('@bot+ do it', '@bot+')).toEqual({ message: 'do it' })
    expect(findTrigger('@bottt do it', '@bot+')).toBeUndefined()
  })

  it('handles CRLF line endings', () => {
    expect(findTrigger('/kugetsu hi\r\nthere', '/kugetsu')).toEqual({ message: 'hi\nthere' })
  })
})
