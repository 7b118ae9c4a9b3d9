import { describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import {
  SNAPSHOT_FILE,
  catalogueOf,
  parseLiteral,
  pinnedBinary,
  pinnedVersion,
  snapshotText
} from '../scripts/opencode-models.mjs'

/** What the catalogue literal opens with in the pinned binary (MARKERS in the script). */
const MARKER = '=n.sync(()=>({deepinfra:{id:"deepinfra"'

/** A provider entry as models.dev writes it, minified. */
const provider = (id: string, idField = id): string =>
  `${JSON.stringify(id)}:{id:${JSON.stringify(idField)},env:["${id.toUpperCase()}_API_KEY"],npm:"@ai-sdk/${id}",models:{"${id}/m":{id:"${id}/m",tool_call:!0,cost:{input:1,output:2}}}}`

/** A binary: junk, the marker, the rest of a catalogue of `count` providers, more junk. */
function binaryWith(count: number, tamper?: (ids: string[]) => string[]): Buffer {
  const ids = Array.from({ length: count - 1 }, (_, n) => `p${n}`)
  const rest = (tamper ?? ((entries) => entries))(ids.map((id) => provider(id)))
  const literal = `${MARKER},env:["DEEPINFRA_API_KEY"],models:{}},${rest.join(',')}}))`
  const junk = Buffer.from(Array.from({ length: 4096 }, (_, n) => (n * 131) % 256))
  return Buffer.concat([junk, Buffer.from(`var q${literal};var r=1;`), junk])
}

describe('parseLiteral', () => {
  it('reads a minified literal as data, and says where it ends', () => {
    const text = `{a:{id:"a",env:["A_KEY"],models:{"x/y":{cost:{input:1.5,output:.5},tool_call:!0,reasoning:!1,limit:{context:2e5}}}}}`
    const { value, end } = parseLiteral(`xx${text};rest`, 2)
    expect(value).toEqual({
      a: {
        id: 'a',
        env: ['A_KEY'],
        models: {
          'x/y': {
            cost: { input: 1.5, output: 0.5 },
            tool_call: true,
            reasoning: false,
            limit: { context: 200000 }
          }
        }
      }
    })
    expect(end).toBe(2 + text.length)
  })

  it('reads the other data forms: quotes, numbers, keys, null, spaces', () => {
    const { value } = parseLiteral(
      `{ 'single': 'it\\'s', 42: -3, "k": [true, false, null, [], {}], x_$: -1.25e-2 }`
    )
    expect(value).toEqual({ single: "it's", 42: -3, k: [true, false, null, [], {}], x_$: -0.0125 })
  })

  it('decodes escapes', () => {
    const { value } = parseLiteral(String.raw`{s:"a\nb\tc\x41\u00e9\u{1F600}\"\\\/"}`)
    expect(value).toEqual({ s: 'a\nb\tcAé😀"\\/' })
  })

  it('keeps a key named __proto__ as data: the prototype is untouched', () => {
    const { value } = parseLiteral('{__proto__:{polluted:!0},"__proto__":{b:1},c:{__proto__:[]}}')
    const object = value as Record<string, unknown>
    expect(Object.getPrototypeOf(object)).toBe(Object.prototype)
    expect(Object.hasOwn(object, '__proto__')).toBe(true)
    expect(Object.getOwnPropertyDescriptor(object, '__proto__')?.value).toEqual({ b: 1 })
    expect((object as { polluted?: unknown }).polluted).toBeUndefined()
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined()
    const inner = object.c as object
    expect(Object.getPrototypeOf(inner)).toBe(Object.prototype)
    expect(Array.isArray(Object.getOwnPropertyDescriptor(inner, '__proto__')?.value)).toBe(true)
  })

  describe('rejects what is not data, naming the offset', () => {
    const deep = (levels: number): string => `${'{a:'.repeat(levels)}1${'}'.repeat(levels)}`
    it.each([
      ['an identifier as a value', '{a:b}'],
      ['a call', '{a:f()}'],
      ['a template string', '{a:`x${y}`}'],
      ['an expression', '{a:1+1}'],
      ['an unterminated string', '{a:"abc'],
      ['a line break in a string', '{a:"ab\ncd"}'],
      ['nesting past the bound', deep(1000)],
      ['no opening brace', '[1,2]'],
      ['a leading space', ' {a:1}'],
      ['void 0', '{a:void 0}'],
      ['a getter', '{get a(){return 1}}'],
      ['a method', '{a(){return 1}}'],
      ['a spread', '{...x}'],
      ['a computed key', '{[k]:1}'],
      ['a regular expression', '{a:/x/}'],
      ['a bad escape', '{a:"\\xZZ"}'],
      ['an unterminated code point escape', '{a:"\\u{41'],
      ['a code point past Unicode', '{a:"\\u{110000}"}'],
      ['a carriage return in a string', '{a:"ab\rcd"}'],
      ['an unterminated object', '{a:1'],
      ['an empty text', ''],
      ['a missing comma', '{a:1 b:2}']
    ])('%s', (_, text) => {
      expect(() => parseLiteral(text)).toThrow(/at offset \d+/)
    })

    it('names where the bad escape is, not the start of the text', () => {
      expect(() => parseLiteral('{a:"\\u{41')).toThrow(/bad escape at offset [1-9]/)
    })

    it('parses nesting up to the bound', () => {
      expect(() => parseLiteral(deep(16))).not.toThrow()
      expect(() => parseLiteral(deep(17))).toThrow(/nested too deep at offset \d+/)
    })

    it('never evaluates: an assignment is refused and has no effect', () => {
      const global = globalThis as { __pwned?: unknown }
      expect(() => parseLiteral('{a:globalThis.__pwned=1}')).toThrow(/at offset 3/)
      expect(() => parseLiteral('{a:(globalThis.__pwned=1)}')).toThrow(/at offset 3/)
      expect(() => parseLiteral('{a:1,b:globalThis.__pwned=1}')).toThrow(/at offset 7/)
      expect(global.__pwned).toBeUndefined()
    })
  })
})

describe('catalogueOf', () => {
  it('finds the catalogue after the marker among binary junk', () => {
    const catalogue = catalogueOf(binaryWith(12))
    expect(Object.keys(catalogue)).toHaveLength(12)
    expect(catalogue.deepinfra).toEqual({ id: 'deepinfra', env: ['DEEPINFRA_API_KEY'], models: {} })
    expect(catalogue.p3).toMatchObject({ id: 'p3', env: ['P3_API_KEY'] })
  })

  it('says to update MARKERS when the marker is not there', () => {
    const binary = Buffer.from(
      binaryWith(12).toString('latin1').replace('n.sync', 'm.sync'),
      'latin1'
    )
    expect(() => catalogueOf(binary)).toThrow(/MARKERS/)
  })

  it('refuses a catalogue of fewer than 10 providers', () => {
    expect(() => catalogueOf(binaryWith(9))).toThrow(/only 9 providers/)
  })

  it('refuses a provider whose id is not its key', () => {
    const binary = binaryWith(12, (entries) => [...entries, provider('evil', 'openai')])
    expect(() => catalogueOf(binary)).toThrow(/provider evil does not look like a models.dev entry/)
  })

  it('refuses a provider without models or env', () => {
    const noEnv = binaryWith(12, (entries) => [...entries, 'bare:{id:"bare",models:{}}'])
    expect(() => catalogueOf(noEnv)).toThrow(/provider bare/)
    const noModels = binaryWith(12, (entries) => [...entries, 'bare:{id:"bare",env:[]}'])
    expect(() => catalogueOf(noModels)).toThrow(/provider bare/)
  })

  it('refuses code in the catalogue', () => {
    const binary = binaryWith(12, (entries) => [...entries, 'bad:{id:"bad",env:process.env}'])
    expect(() => catalogueOf(binary)).toThrow(/not a data literal at offset/)
  })
})

describe('the committed snapshot', () => {
  const snapshot = readFileSync(SNAPSHOT_FILE, 'utf8')
  const lines = snapshot.trimEnd().split('\n')

  it('is of the pinned opencode, one provider a line, sorted by id', () => {
    const header = JSON.parse(lines[0]) as { opencode: string; providers: number }
    expect(header.opencode).toBe(pinnedVersion())
    expect(header.providers).toBe(lines.length - 1)
    const ids = lines.slice(1).map((line) => (JSON.parse(line.split('\t')[0]) as [string])[0])
    expect(ids.length).toBeGreaterThanOrEqual(10)
    expect(ids).toEqual([...ids].sort())
  })

  it('is what the pinned binary holds (run `node scripts/opencode-models.mjs` after a bump)', () => {
    const binary = pinnedBinary()
    expect(binary.version).toBe(pinnedVersion())
    const catalogue = catalogueOf(readFileSync(binary.file))
    expect(snapshotText(catalogue, pinnedVersion()) === snapshot).toBe(true)
  }, 60_000)
})
