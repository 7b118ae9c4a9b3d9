import { createFrame } from '../src/action/conversation/untrusted.js'
import { describe, expect, it } from '@jest/globals'
import { commandWord } from '../src/action/commands/parse.js'
import { findTrigger } from '../src/action/github/trigger.js'
import { marker } from '../src/action/conversation/report.js'
import { rebuildThread } from '../src/action/conversation/thread.js'

const NAMES = ['status', 'help']
const word = (body: string, trigger = '/kugetsu') => {
  const match = findTrigger(body, trigger)
  return match ? commandWord(body, trigger, match.message, NAMES) : undefined
}

describe('commandWord', () => {
  it.each([
    ['/kugetsu status', 'status'],
    ['/KUGETSU Status', 'status'],
    ['  /kugetsu   help  \n', 'help'],
    ['/kugetsu\nstatus', 'status']
  ])('reads %j as the command %j', (body, command) => {
    expect(word(body)).toBe(command)
  })

  it.each([
    '/kugetsu status please fix',
    '/kugetsu status?',
    'status /kugetsu',
    '/kugetsu statusx',
    '/kugetsu reset',
    '/kugetsu `status`',
    '> /kugetsu status',
    '/kugetsu',
    'please /kugetsu help me'
  ])('reads %j as a request (or nothing), not a command', (body) => {
    expect(word(body)).toBeUndefined()
  })

  it('uses the configured trigger', () => {
    expect(word('@bot help', '@bot')).toBe('help')
    expect(word('/kugetsu help', '@bot')).toBeUndefined()
  })
})

describe('command replies in a rebuilt thread', () => {
  it('are left out, so a status on a new issue is not taken for an earlier turn', () => {
    const reply = {
      id: 2,
      author: 'github-actions[bot]',
      authorType: 'Bot',
      body: `**kugetsu status**\n${marker({ ref: 'github.com/o/r#1', command: 'status' })}`,
      createdAt: '2026-01-01T00:00:00Z'
    }
    const thread = rebuildThread({ title: 't', body: 'b', author: 'alice' }, [reply], createFrame())
    expect(thread.hadEarlierReplies).toBe(false)
    expect(thread.context).not.toContain('kugetsu status')
  })
})
