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
    'nothing here',
    // Indented code blocks: four spaces or a tab after a blank line (or at the start).
    '    /kugetsu in indented code',
    'look:\n\n    /kugetsu run\n    more code',
    'look:\n\n\t/kugetsu run',
    'look:\n\n    code\n\n    /kugetsu still code',
    // HTML blocks that show code.
    '<pre>\n/kugetsu in pre\n</pre>',
    '<pre><code>/kugetsu</code></pre>',
    'see <code>/kugetsu run</code> here',
    '<PRE class="x">\n/kugetsu\n</PRE>',
    '<pre>\nnever closed\n/kugetsu',
    // Quotes inside list items, and nested quotes.
    '- > /kugetsu quoted in a list',
    '* > /kugetsu',
    '+ > /kugetsu',
    '1. > /kugetsu quoted in a numbered list',
    '2) > /kugetsu',
    '- - > /kugetsu',
    '> > /kugetsu nested',
    '  - > /kugetsu indented list',
    // Link targets and labels, autolinks, reference definitions, images.
    '[x](/kugetsu)',
    '[x]( /kugetsu )',
    '[/kugetsu](https://x.test)',
    '[x](/kugetsu "title")',
    '![alt](/kugetsu)',
    '<https://x.test/kugetsu>',
    '<https://x.test/ /kugetsu>',
    '[x]: /kugetsu',
    '   [x]: https://x.test "/kugetsu"',
    '[/kugetsu][ref]'
  ])('ignores %j', (body) => {
    expect(findTrigger(body, '/kugetsu')).toBeUndefined()
  })

  it('finds the trigger after a quote or code block, and keeps them in the message', () => {
    const body = '> earlier words\n```\ncode\n```\n/kugetsu what about this?'
    expect(findTrigger(body, '/kugetsu')?.message).toBe(
      '> earlier words\n```\ncode\n```\n what about this?'
    )
  })

  it('still acts on prose next to the regions it ignores', () => {
    expect(findTrigger('text\n    /kugetsu continues the paragraph', '/kugetsu')).toEqual({
      message: 'text\n     continues the paragraph'
    })
    expect(findTrigger('- /kugetsu in a list item', '/kugetsu')).toEqual({
      message: '-  in a list item'
    })
    expect(findTrigger('1. /kugetsu first', '/kugetsu')).toEqual({ message: '1.  first' })
    expect(findTrigger('see [docs](https://x.test) /kugetsu go', '/kugetsu')).toEqual({
      message: 'see [docs](https://x.test)  go'
    })
    expect(findTrigger('<pre>x</pre>\n/kugetsu after', '/kugetsu')).toEqual({
      message: '<pre>x</pre>\n after'
    })
    expect(findTrigger('    code\n/kugetsu after the code', '/kugetsu')).toEqual({
      message: 'code\n after the code'
    })
  })

  it('treats the trigger literally (no regular expression)', () => {
    expect(findTrigger('@bot+ do it', '@bot+')).toEqual({ message: 'do it' })
    expect(findTrigger('@bottt do it', '@bot+')).toBeUndefined()
  })

  it('handles CRLF line endings', () => {
    expect(findTrigger('/kugetsu hi\r\nthere', '/kugetsu')).toEqual({ message: 'hi\nthere' })
  })
})
