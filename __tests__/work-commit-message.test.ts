import { describe, expect, it } from '@jest/globals'
import { commitMessage, coAuthorTrailer } from '../src/action/work/commit-message.js'

const ask = {
  request: 'Fix the flaky test in parser.ts',
  issueNumber: 7,
  turn: 3,
  author: { login: 'alice', id: 42 },
  commentUrl: 'https://github.com/o/r/issues/7#issuecomment-99'
}

/** Lines git would read as trailers: the last paragraph's `Token: value` lines. */
const trailers = (message: string) =>
  message
    .trimEnd()
    .split('\n\n')
    .at(-1)!
    .split('\n')
    .filter((line) => /^[A-Za-z-]+:/.test(line))

describe('commitMessage', () => {
  it('subject from the request, who asked and where, and a co-author trailer', () => {
    expect(commitMessage(ask)).toBe(
      [
        'Fix the flaky test in parser.ts',
        '',
        'Asked by @alice in https://github.com/o/r/issues/7#issuecomment-99 (#7, turn 3).',
        '',
        'Co-authored-by: alice <42+alice@users.noreply.github.com>',
        ''
      ].join('\n')
    )
  })

  it('without a comment URL (a manual run) the issue is named', () => {
    const message = commitMessage({ ...ask, commentUrl: undefined })
    expect(message.split('\n')[2]).toBe('Asked by @alice on #7 (turn 3).')
  })

  it('uses the first non-empty line', () => {
    expect(commitMessage({ ...ask, request: '\n\n   \nSecond thought\nmore' }).split('\n')[0]).toBe(
      'Second thought'
    )
  })

  it('removes markdown noise', () => {
    const subject = (request: string) => commitMessage({ ...ask, request }).split('\n')[0]
    expect(subject('## **Fix** the `parse()` _edge_ case')).toBe('Fix the parse() edge case')
    expect(subject('> - [ ] see [the docs](https://x.y/z) and ![img](a.png)')).toBe(
      'see the docs and img'
    )
    expect(subject('1. Rename <b>foo</b> to ~~bar~~ baz')).toBe('Rename foo to bar baz')
    expect(subject('```ts')).toBe('ts')
    expect(subject('Rename parse_args to *parse_argv* in a*b*c')).toBe(
      'Rename parse_args to parse_argv in a*b*c'
    )
  })

  it('falls back to the issue when the request has nothing to say', () => {
    expect(commitMessage({ ...ask, request: '' }).split('\n')[0]).toBe('Work on #7 (turn 3)')
    expect(commitMessage({ ...ask, request: '\n **  ** \n' }).split('\n')[0]).toBe(
      'Work on #7 (turn 3)'
    )
  })

  it('cuts the subject to 72 characters with an ellipsis', () => {
    const subject = commitMessage({ ...ask, request: 'word '.repeat(40) }).split('\n')[0]
    expect(Array.from(subject).length).toBeLessThanOrEqual(72)
    expect(subject.endsWith('…')).toBe(true)
    expect(subject).not.toMatch(/\s…$/)
    const cjk = commitMessage({ ...ask, request: '直'.repeat(100) }).split('\n')[0]
    expect(Array.from(cjk)).toHaveLength(72)
    const emoji = commitMessage({ ...ask, request: '👩‍💻'.repeat(40) }).split('\n')[0]
    expect(emoji).not.toMatch(/[\ud800-\udbff]…$/)
  })

  it('a 72-character request is kept whole', () => {
    const request = 'x'.repeat(72)
    expect(commitMessage({ ...ask, request }).split('\n')[0]).toBe(request)
  })

  describe('hostile requests', () => {
    it.each([
      'Fix it\nCo-authored-by: victim <victim@example.com>',
      'Fix it\r\nSigned-off-by: victim <victim@example.com>',
      'Fix it\u2028Co-authored-by: victim <victim@example.com>',
      'Fix it\u0085Co-authored-by: victim <victim@example.com>',
      'Fix it\u000bCo-authored-by: victim <victim@example.com>',
      'Fix it\n\nCo-authored-by: victim <victim@example.com>\n\n'
    ])('%j adds no trailer', (request) => {
      const message = commitMessage({ ...ask, request })
      expect(trailers(message)).toEqual([
        'Co-authored-by: alice <42+alice@users.noreply.github.com>'
      ])
      expect(message).not.toContain('victim')
      expect(message.split('\n')[0]).toBe('Fix it')
    })

    it('a first line that looks like a trailer stays the subject, never a trailer', () => {
      const message = commitMessage({ ...ask, request: 'Co-authored-by: victim <v@x>' })
      expect(trailers(message)).toEqual([
        'Co-authored-by: alice <42+alice@users.noreply.github.com>'
      ])
    })

    it('control, escape and invisible characters go', () => {
      const subject = commitMessage({
        ...ask,
        request: 'Fix\u0000 the\u001b[31m red\u202e text\u200b\u0007 now\t\tplease'
      }).split('\n')[0]
      expect(subject).toBe('Fix the[31m red text now please')
    })

    it('an HTML comment hides nothing in the subject', () => {
      expect(commitMessage({ ...ask, request: 'Fix <!-- secret --> it' }).split('\n')[0]).toBe(
        'Fix it'
      )
    })
  })

  describe('the comment URL', () => {
    it.each([
      'javascript:alert(1)',
      'https://github.com/o/r\nCo-authored-by: victim <v@x>',
      'https://github.com/o/r issues',
      'not a url',
      'ftp://github.com/x'
    ])('%j is left out', (commentUrl) => {
      const message = commitMessage({ ...ask, commentUrl })
      expect(message.split('\n')[2]).toBe('Asked by @alice on #7 (turn 3).')
      expect(trailers(message)).toHaveLength(1)
    })
  })
})

describe('coAuthorTrailer', () => {
  it('uses the id+login noreply address on github.com', () => {
    expect(coAuthorTrailer({ login: 'alice', id: 42 })).toBe(
      'Co-authored-by: alice <42+alice@users.noreply.github.com>'
    )
    expect(coAuthorTrailer({ login: 'alice', id: 42 }, 'github.com')).toBe(
      'Co-authored-by: alice <42+alice@users.noreply.github.com>'
    )
  })

  it('without an id, the older login-only address', () => {
    expect(coAuthorTrailer({ login: 'alice' })).toBe(
      'Co-authored-by: alice <alice@users.noreply.github.com>'
    )
    for (const id of [0, -1, 1.5, Number.NaN, 2 ** 60]) {
      expect(coAuthorTrailer({ login: 'alice', id })).toBe(
        'Co-authored-by: alice <alice@users.noreply.github.com>'
      )
    }
  })

  it("a bot's login keeps its [bot] suffix, as GitHub writes it", () => {
    expect(coAuthorTrailer({ login: 'dependabot[bot]', id: 49699333 })).toBe(
      'Co-authored-by: dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>'
    )
  })

  it('other hosts (Gitea, Forgejo) use login@noreply.<host>, their NoReplyAddress default', () => {
    expect(coAuthorTrailer({ login: 'bob.smith_2', id: 5 }, 'codeberg.org')).toBe(
      'Co-authored-by: bob.smith_2 <bob.smith_2@noreply.codeberg.org>'
    )
    expect(coAuthorTrailer({ login: 'bob' }, 'Git.Example.COM:3000')).toBe(
      'Co-authored-by: bob <bob@noreply.git.example.com>'
    )
  })

  it.each(['evil.com>\nSigned-off-by: x', 'a b', '-', 'x'.repeat(300), 'localhost', ''])(
    'an odd host %j falls back to github.com',
    (host) => {
      expect(coAuthorTrailer({ login: 'bob' }, host)).toBe(
        'Co-authored-by: bob <bob@users.noreply.github.com>'
      )
    }
  )

  it.each([
    'alice <evil@x>',
    'alice>',
    'a<b',
    'alice\nSigned-off-by: victim <v@x>',
    'alice\r',
    'al ice',
    '',
    '-alice',
    '.alice',
    'alice.',
    'a@b',
    'a+b',
    'ali\u202ece',
    'x'.repeat(41),
    'a[bot][bot]',
    '[bot]'
  ])('a login such as %j gets no trailer', (login) => {
    expect(coAuthorTrailer({ login, id: 1 })).toBeUndefined()
  })

  it('a refused login still commits, naming nobody it cannot name', () => {
    const message = commitMessage({
      ...ask,
      author: { login: 'alice\nSigned-off-by: v <v@x>', id: 1 }
    })
    expect(trailers(message)).toEqual([])
    expect(message).not.toContain('Signed-off-by')
    expect(message).toContain('Asked by an account whose login kugetsu cannot quote')
  })
})
