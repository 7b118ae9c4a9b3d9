import { describe, expect, it } from '@jest/globals'
import { KugetsuError, isKugetsuError } from '../src/errors.js'
import {
  MAX_FILE_STEM_LENGTH,
  formatIssueRef,
  normalizeIssueRef,
  parseIssueRef,
  refFileStem,
  type IssueRef,
  type RefDefaults
} from '../src/refs.js'

const defaults = { host: 'github.com', owner: 'Shoko', repo: 'Kugetsu' }

function parseError(input: string, withDefaults: RefDefaults = defaults): KugetsuError {
  try {
    parseIssueRef(input, withDefaults)
  } catch (error) {
    expect(isKugetsuError(error, 'invalid-ref')).toBe(true)
    const message = (error as KugetsuError).message
    expect(message).not.toContain('\n')
    expect(message.length).toBeLessThan(400)
    return error as KugetsuError
  }
  throw new Error(`parseIssueRef accepted ${JSON.stringify(input)}`)
}

// A small deterministic generator (mulberry32), so failures reproduce.
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function generateRefs(count: number, seed: number): IssueRef[] {
  const next = random(seed)
  const pick = (chars: string, min: number, max: number) => {
    const length = min + Math.floor(next() * (max - min + 1))
    let text = ''
    for (let i = 0; i < length; i++) text += chars[Math.floor(next() * chars.length)]
    return text
  }
  // Small alphabets make near-collisions (shared prefixes, separators in odd places) likely.
  const alnum = 'aB0-'
  const refs: IssueRef[] = []
  while (refs.length < count) {
    const long = next() < 0.1
    const labels = Array.from({ length: 1 + Math.floor(next() * 3) }, () =>
      `a${pick('a0-', 0, long ? 60 : 3)}0`.replace(/-+$/, '')
    )
    const port = next() < 0.3 ? `:${1 + Math.floor(next() * 65535)}` : ''
    const owner = `${pick('aB0', 1, 1)}${pick(alnum, 0, long ? 37 : 4)}`
      .replace(/-+/g, '-')
      .replace(/-$/, '')
    const repo = pick('aB0._-', 1, long ? 100 : 5)
    const ref = {
      host: labels.join('.') + port,
      owner,
      repo,
      number: next() < 0.2 ? 2 ** 31 - 1 - Math.floor(next() * 3) : 1 + Math.floor(next() * 120)
    }
    try {
      refs.push(normalizeIssueRef(ref))
    } catch {
      // `.`/`..` repo names and the like: not refs, skip
    }
  }
  return refs
}

describe('parseIssueRef', () => {
  it('parses the full form and lowercases it', () => {
    expect(parseIssueRef('GitHub.com/Shoko/Kugetsu#12')).toEqual({
      host: 'github.com',
      owner: 'shoko',
      repo: 'kugetsu',
      number: 12
    })
    expect(parseIssueRef('git.example.org:3000/a-b/c.d_e-f#2147483647')).toEqual({
      host: 'git.example.org:3000',
      owner: 'a-b',
      repo: 'c.d_e-f',
      number: 2147483647
    })
    expect(parseIssueRef('localhost/o/r#1').host).toBe('localhost')
    expect(parseIssueRef('127.0.0.1:8080/o/r#1').host).toBe('127.0.0.1:8080')
  })

  it('resolves short forms against the defaults', () => {
    const full = { host: 'github.com', owner: 'shoko', repo: 'kugetsu', number: 7 }
    expect(parseIssueRef('#7', defaults)).toEqual(full)
    expect(parseIssueRef('7', defaults)).toEqual(full)
    expect(parseIssueRef('Shoko/Kugetsu#7', { host: 'github.com' })).toEqual(full)
    expect(parseIssueRef('other/thing#7', defaults)).toEqual({
      ...full,
      owner: 'other',
      repo: 'thing'
    })
    expect(parseIssueRef('example.com/o/r#7', defaults).host).toBe('example.com')
  })

  it('trims surrounding whitespace only', () => {
    expect(formatIssueRef(parseIssueRef(' \t#3\r\n', defaults))).toBe('github.com/shoko/kugetsu#3')
    parseError('# 3')
    parseError('o/ r#3')
    parseError('o/r #3')
    parseError('\u00a0#3') // no-break space is not trimmed
    parseError('#3\u200b')
  })

  it('accepts issue and pull request URLs', () => {
    const ref = { host: 'github.com', owner: 'o', repo: 'r', number: 1 }
    expect(parseIssueRef('https://github.com/o/r/issues/1')).toEqual(ref)
    expect(parseIssueRef('https://GitHub.com/O/R/pull/1')).toEqual(ref)
    expect(parseIssueRef('http://git.local:3000/o/r/pulls/1')).toEqual({
      ...ref,
      host: 'git.local:3000'
    })
    for (const url of [
      'https://github.com/o/r/issues/1/',
      'https://github.com/o/r/issues/1#issuecomment-5',
      'https://github.com/o/r/issues/1?x=y',
      'https://github.com/o/r/issues/01',
      'https://github.com/o/r/commit/1',
      'https://github.com/o/r/issues',
      'https://user@github.com/o/r/issues/1',
      'https://github.com/o/r/x/issues/1',
      'ftp://github.com/o/r/issues/1',
      'file:///etc/passwd',
      'javascript:alert(1)#1',
      'https://github.com/../r/issues/1'
    ]) {
      parseError(url)
    }
  })

  it('names what is missing when a default is needed', () => {
    expect(parseError('#4', { host: 'github.com' }).message).toMatch(
      /no default owner.*owner\/repo#N/
    )
    expect(parseError('4', {}).message).toMatch(/no default/)
    expect(parseError('o/r#4', {}).message).toMatch(/no default host/)
    expect(() => parseIssueRef('#4')).toThrow(/no default/)
    expect(parseError('#4', { ...defaults, owner: 'bad owner' }).message).toMatch(
      /invalid default owner/
    )
    expect(parseError('o/r#4', { ...defaults, host: 'bad/host' }).message).toMatch(
      /invalid default host/
    )
  })

  it.each([
    ['', /empty/],
    ['   ', /empty/],
    ['../../etc#1', /host/],
    ['../etc#1', /owner/],
    ['../etc/passwd#1', /host/],
    ['o/..#1', /repository name/],
    ['o/.#1', /repository name/],
    ['owner/repo#abc', /issue number/],
    ['owner/repo#', /issue number/],
    ['#0', /issue number/],
    ['#-1', /issue number/],
    ['#+1', /issue number/],
    ['#01', /issue number/],
    ['#1.0', /issue number/],
    ['#1e3', /issue number/],
    ['#0x10', /issue number/],
    ['#2147483648', /issue number/],
    ['#99999999999999999999', /issue number/],
    ['-1', /issue number/],
    ['01', /issue number/],
    ['abc', /expected/],
    ['o/r', /expected/],
    ['a/b/c/d#1', /expected/],
    ['/o/r#1', /host is empty/],
    ['h//r#1', /owner is empty/],
    ['h/o/#1', /repository name is empty/],
    ['/r#1', /owner is empty/],
    ['o/r#1#2', /issue number/],
    ['-o/r#1', /owner/],
    ['o-/r#1', /owner/],
    ['o--p/r#1', /owner/],
    ['o_p/r#1', /owner/],
    ['o.p/r#1', /owner/],
    [`${'a'.repeat(40)}/r#1`, /owner/],
    [`o/${'r'.repeat(101)}#1`, /repository name/],
    ['o/r~x#1', /repository name/],
    ['o/r+x#1', /repository name/],
    ['o/r:x#1', /repository name/],
    ['o/r\\x#1', /repository name/],
    ['h_x/o/r#1', /host/],
    ['-h/o/r#1', /host/],
    ['h-/o/r#1', /host/],
    ['h..x/o/r#1', /host/],
    ['h./o/r#1', /host/],
    ['.h/o/r#1', /host/],
    [`${'a'.repeat(64)}/o/r#1`, /host/],
    [`${Array(64).fill('abc').join('.')}/o/r#1`, /longer than 253/],
    ['h:0/o/r#1', /port/],
    ['h:65536/o/r#1', /port/],
    ['h:080/o/r#1', /port/],
    ['h:/o/r#1', /port/],
    ['h:1:2/o/r#1', /port/],
    ['[::1]/o/r#1', /host/],
    ['o/r#1\u0000', /non-ASCII|control/],
    ['o/r\u0000#1', /non-ASCII|control/],
    ['o/r#1\nrm -rf', /non-ASCII|control/],
    ['o/r\n#1', /non-ASCII|control/],
    ['\u0455hoko/r#1', /non-ASCII/], // Cyrillic dze, looks like s
    ['o/r#\uff11', /non-ASCII/], // fullwidth digit one
    ['o/r#\u0661', /non-ASCII/], // Arabic-Indic digit one
    ['gith\u0075\u0308b.com/o/r#1', /non-ASCII/],
    ['\u212augetsu/r#1', /non-ASCII/], // Kelvin sign lowercases to k
    ['\u0130stanbul/r#1', /non-ASCII/], // dotted capital I lowercases to i + combining dot
    ['o/r#1\u202e', /non-ASCII/]
  ])('rejects %j', (input, reason) => {
    expect(parseError(input).message).toMatch(reason)
  })

  it('keeps the message short and printable for long or hostile input', () => {
    const long = parseError(`owner/repo#${'9'.repeat(10_000)}`)
    expect(long.message.length).toBeLessThan(200)
    expect(long.message).toMatch(/10011 characters/)
    const tooLong = parseError(`${'a'.repeat(10_000)}/r#1`)
    expect(tooLong.message.length).toBeLessThan(200)
    const control = parseError('o/r#1\u0000\u001b[31m\u2028x')
    expect(control.message).toMatch(/^[\x20-\x7e…]*$/)
    expect(control.message).toContain('\\u0000')
    expect(control.message).toContain('\\u2028')
    const near = parseError(`${'x'.repeat(480)}/r#1`)
    expect(near.message.length).toBeLessThan(300)
  })

  it('rejects what is not a string', () => {
    expect(() => parseIssueRef(42 as unknown as string)).toThrow(KugetsuError)
    expect(() => parseIssueRef(undefined as unknown as string)).toThrow(/expected a string/)
  })

  it('round-trips through formatIssueRef for generated refs', () => {
    for (const ref of generateRefs(2000, 1)) {
      const text = formatIssueRef(ref)
      expect(parseIssueRef(text)).toEqual(ref)
      expect(parseIssueRef(text.toUpperCase())).toEqual(ref)
      expect(parseIssueRef(`#${ref.number}`, ref)).toEqual(ref)
    }
  })
})

describe('formatIssueRef', () => {
  it('gives the canonical lowercase form', () => {
    expect(formatIssueRef({ host: 'GitHub.com', owner: 'A', repo: 'B.c', number: 3 })).toBe(
      'github.com/a/b.c#3'
    )
  })

  it('refuses an invalid ref built by hand', () => {
    const bad: IssueRef[] = [
      { host: 'github.com', owner: '..', repo: 'r', number: 1 },
      { host: 'github.com', owner: 'o', repo: 'r/../x', number: 1 },
      { host: 'github.com', owner: 'o', repo: 'r', number: 0 },
      { host: 'github.com', owner: 'o', repo: 'r', number: 1.5 },
      { host: 'github.com', owner: 'o', repo: 'r', number: Number.NaN },
      { host: 'github.com', owner: 'o', repo: 'r', number: 2 ** 31 },
      { host: 'git hub', owner: 'o', repo: 'r', number: 1 },
      { host: 'github.com', owner: '\u212a', repo: 'r', number: 1 },
      { host: 'github.com', owner: 'o', repo: 5 as unknown as string, number: 1 }
    ]
    for (const ref of bad) {
      expect(() => formatIssueRef(ref)).toThrow(KugetsuError)
      expect(() => refFileStem(ref)).toThrow(KugetsuError)
    }
  })
})

describe('refFileStem', () => {
  it('is readable for ordinary refs', () => {
    expect(refFileStem(parseIssueRef('GitHub.com/Shoko/Kugetsu#12'))).toBe(
      'github.com~shoko~kugetsu~12'
    )
    expect(refFileStem(parseIssueRef('git.local:3000/o/r#1'))).toBe('git.local+3000~o~r~1')
  })

  it('falls back to a hash when the readable form is too long', () => {
    const ref = parseIssueRef(`${'h'.repeat(60)}.${'h'.repeat(60)}/o/${'r'.repeat(100)}#1`)
    expect(refFileStem(ref)).toMatch(/^_[0-9a-f]{64}$/)
  })

  it('is safe and injective over many generated refs', () => {
    const refs = generateRefs(5000, 2)
    const seen = new Map<string, string>()
    let hashed = 0
    for (const ref of refs) {
      const stem = refFileStem(ref)
      expect(stem).toMatch(/^[a-z0-9._~+-]+$/)
      expect(stem.length).toBeLessThanOrEqual(MAX_FILE_STEM_LENGTH)
      expect(stem).not.toMatch(/[/\\\0]/)
      expect(stem === '.' || stem === '..').toBe(false)
      expect(refFileStem({ ...ref, owner: ref.owner.toUpperCase() })).toBe(stem)
      if (stem.startsWith('_')) hashed++
      const canonical = formatIssueRef(ref)
      const before = seen.get(stem)
      if (before !== undefined) expect(before).toBe(canonical)
      seen.set(stem, canonical)
    }
    expect(hashed).toBeGreaterThan(0)
    expect(new Set(refs.map(formatIssueRef)).size).toBe(seen.size)
  })

  it('keeps near-identical refs apart', () => {
    const texts = [
      'a/b/c#1',
      'a/b/c#11',
      'a:1/b/c#1',
      'a/b1/c#1',
      'a.b/c/d#1',
      'a/b/c_d#1',
      'a/b/c.d#1',
      'a/b/c-d#1',
      'a/b-c/d#1',
      'a-b/c/d#1'
    ]
    const stems = texts.map((text) => refFileStem(parseIssueRef(text)))
    expect(new Set(stems).size).toBe(texts.length)
  })
})
