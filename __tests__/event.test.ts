import { describe, expect, it } from '@jest/globals'
import { repoContext, requestFromEvent, type EventInputs } from '../src/action/github/event.js'

const context = repoContext('https://github.com', 'Shoko/Kugetsu')
const inputs: EventInputs = { trigger: '/kugetsu', command: 'run', message: '', issueRef: '' }

const commentPayload = (body: string, action = 'created') => ({
  action,
  issue: {
    number: 7,
    title: 'Build fails',
    body: 'It fails.',
    html_url: 'https://github.com/Shoko/Kugetsu/issues/7',
    user: { login: 'alice' }
  },
  comment: {
    id: 99,
    body,
    html_url: 'https://github.com/c/99',
    user: { login: 'bob', type: 'User' }
  }
})

describe('requestFromEvent', () => {
  it('a new comment with the trigger is a turn on its issue', () => {
    const request = requestFromEvent(
      'issue_comment',
      commentPayload('/kugetsu fix it'),
      inputs,
      context
    )
    expect(request).toMatchObject({
      kind: 'turn',
      ref: { host: 'github.com', owner: 'shoko', repo: 'kugetsu', number: 7 },
      message: 'fix it',
      author: 'bob',
      source: 'comment',
      comment: { id: 99, authorType: 'User' },
      issue: { title: 'Build fails', author: 'alice', isPullRequest: false }
    })
  })

  it('a comment with nothing but the trigger is a turn with an empty message (refused once authorised)', () => {
    expect(
      requestFromEvent('issue_comment', commentPayload('/kugetsu'), inputs, context)
    ).toMatchObject({ kind: 'turn', message: '', author: 'bob', authorType: 'User' })
  })

  it('edited comments and comments without the trigger are skipped with a reason', () => {
    expect(
      requestFromEvent('issue_comment', commentPayload('/kugetsu hi', 'edited'), inputs, context)
    ).toEqual({
      kind: 'skip',
      reason: expect.stringMatching(/edited/)
    })
    expect(requestFromEvent('issue_comment', commentPayload('hello'), inputs, context)).toEqual({
      kind: 'skip',
      reason: expect.stringMatching(/does not contain \/kugetsu/)
    })
    expect(requestFromEvent('push', {}, inputs, context)).toEqual({
      kind: 'skip',
      reason: expect.stringMatching(/push event is not handled/)
    })
  })

  it('a manual run needs a ref to this repository and a message', () => {
    const dispatch = (issueRef: string, message: string) =>
      requestFromEvent(
        'workflow_dispatch',
        { sender: { login: 'carol' } },
        { ...inputs, issueRef, message },
        context
      )
    expect(dispatch('#70', 'go')).toMatchObject({
      kind: 'turn',
      ref: { number: 70 },
      author: 'carol',
      message: 'go'
    })
    expect(dispatch('shoko/kugetsu#70', 'go')).toMatchObject({ kind: 'turn', ref: { number: 70 } })
    expect(() => dispatch('', 'go')).toThrow(/needs the issue-ref/)
    expect(dispatch('#70', '  ')).toMatchObject({ kind: 'turn', message: '' })
    expect(() => dispatch('other/repo#1', 'go')).toThrow(/must name an issue of Shoko\/Kugetsu/)
    expect(() => dispatch('../../etc#1', 'go')).toThrow(/invalid issue ref/)
    expect(() => dispatch('#0', 'go')).toThrow(/invalid issue ref/)
    expect(() => dispatch('x'.repeat(10_000), 'go')).toThrow(/invalid issue ref/)
  })

  it('host keeps the port of GITHUB_SERVER_URL', () => {
    const ghes = repoContext('https://ghe.example.com:8443/', 'o/r')
    expect(ghes.host).toBe('ghe.example.com:8443')
  })

  it('commands', () => {
    expect(
      requestFromEvent('workflow_dispatch', {}, { ...inputs, command: 'list' }, context)
    ).toEqual({
      kind: 'command',
      command: 'list'
    })
    expect(
      requestFromEvent('schedule', {}, { ...inputs, command: 'destroy', issueRef: 'base' }, context)
    ).toEqual({
      kind: 'command',
      command: 'destroy',
      base: true
    })
    expect(() =>
      requestFromEvent('schedule', {}, { ...inputs, command: 'destroy' }, context)
    ).toThrow(/needs issue-ref/)
    expect(() =>
      requestFromEvent('schedule', {}, { ...inputs, command: 'explode' }, context)
    ).toThrow(/command must be one of/)
  })

  it('a closed issue is its own request', () => {
    const request = requestFromEvent(
      'issues',
      { action: 'closed', issue: { number: 5 } },
      inputs,
      context
    )
    expect(request).toMatchObject({ kind: 'closed', ref: { number: 5 }, closedBy: '' })
    const closed = requestFromEvent(
      'issues',
      { action: 'closed', issue: { number: 5 }, sender: { login: 'jane.doe', type: 'User' } },
      inputs,
      context
    )
    expect(closed).toMatchObject({ closedBy: 'jane.doe', closedByType: 'User' })
    expect(
      requestFromEvent('issues', { action: 'opened', issue: { number: 5 } }, inputs, context).kind
    ).toBe('skip')
  })
})
