// Writes src/opencode/models-snapshot.jsonl: the models.dev catalogue built into the pinned
// opencode binary (225 providers, 8,261 models in 1.18.33), one provider per line. opencode
// processes the whole catalogue on its first provider lookup (some 1.2 s of every fresh run); the
// action gives it only the providers a run can use (src/opencode/model-catalogue.ts).
//
// The catalogue is a JavaScript object literal in the binary's bundled code; it is read with a
// parser for the literal's subset (keys, strings, numbers, !0/!1, null, arrays, objects), never
// evaluated. Run after changing src/opencode/version.ts: node scripts/opencode-models.mjs
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
export const SNAPSHOT_FILE = join(ROOT, 'src', 'opencode', 'models-snapshot.jsonl')

// What the catalogue literal opens with in opencode 1.18.33 (`ModelsDev`'s built-in snapshot,
// returned by a lazy thunk): the first provider of models.dev's sorted list.
const MARKERS = ['=n.sync(()=>({deepinfra:{id:"deepinfra"']
const MAX_DEPTH = 16

/** The pinned version (src/opencode/version.ts). */
export function pinnedVersion(root = ROOT) {
  const source = readFileSync(join(root, 'src', 'opencode', 'version.ts'), 'utf8')
  const match = /OPENCODE_VERSION = '([^']+)'/.exec(source)
  if (!match) throw new Error('no OPENCODE_VERSION in src/opencode/version.ts')
  return match[1]
}

/** The pinned binary of this machine's platform package, installed by `npm install`. */
export function pinnedBinary(root = ROOT) {
  const require = createRequire(join(root, 'package.json'))
  const name = `opencode-${process.platform === 'win32' ? 'windows' : process.platform}-${process.arch}`
  const manifest = require.resolve(`${name}/package.json`)
  const exe = process.platform === 'win32' ? 'opencode.exe' : 'opencode'
  return { file: join(dirname(manifest), 'bin', exe), version: require(manifest).version }
}

const ESCAPES = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', 0: '\0' }

/**
 * Parses the object literal starting at `text[start]` (`{`): JavaScript's literal syntax as a
 * minifier writes it, restricted to data. Anything else (an identifier as a value, a call, a
 * template) is an error naming its offset. Returns the value and where the literal ends.
 */
export function parseLiteral(text, start = 0) {
  let at = start
  const fail = (what) => {
    throw new Error(`${what} at offset ${at}: ${JSON.stringify(text.slice(at, at + 40))}`)
  }
  const skipSpace = () => {
    while (at < text.length && /\s/.test(text[at])) at++
  }
  const string = () => {
    const quote = text[at++]
    let out = ''
    for (;;) {
      if (at >= text.length) fail('unterminated string')
      const char = text[at++]
      if (char === quote) return out
      if (char === '\n' || char === '\r') fail('line break in a string')
      if (char !== '\\') {
        out += char
        continue
      }
      const next = text[at++]
      if (next === 'x' || next === 'u') {
        let hex
        if (next === 'u' && text[at] === '{') {
          const end = text.indexOf('}', at)
          if (end < 0) fail('bad escape')
          hex = text.slice(at + 1, end)
          at = end + 1
        } else {
          hex = text.slice(at, at + (next === 'x' ? 2 : 4))
          at += hex.length
        }
        const code = Number.parseInt(hex, 16)
        if (!/^[0-9a-fA-F]{1,6}$/.test(hex) || code > 0x10ffff) fail('bad escape')
        out += String.fromCodePoint(code)
      } else if (next === '\n') {
        // a line continuation adds nothing
      } else {
        out += ESCAPES[next] ?? next
      }
    }
  }
  const key = () => {
    if (text[at] === '"' || text[at] === "'") return string()
    const match = /^[A-Za-z_$][\w$]*|^\d+/.exec(text.slice(at, at + 256))
    if (!match) fail('expected a key')
    at += match[0].length
    return match[0]
  }
  const value = (depth) => {
    if (depth > MAX_DEPTH) fail('nested too deep')
    skipSpace()
    const char = text[at]
    if (char === '{') return object(depth)
    if (char === '[') return array(depth)
    if (char === '"' || char === "'") return string()
    const rest = text.slice(at, at + 64)
    for (const [word, result] of [
      ['!0', true],
      ['!1', false],
      ['true', true],
      ['false', false],
      ['null', null]
    ]) {
      if (rest.startsWith(word) && !/[\w$]/.test(rest[word.length] ?? '')) {
        at += word.length
        return result
      }
    }
    const number = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/.exec(rest)
    if (number && !/[\w$]/.test(rest[number[0].length] ?? '')) {
      at += number[0].length
      return Number(number[0])
    }
    return fail('not a data literal')
  }
  const list = (close, item) => {
    at++
    for (;;) {
      skipSpace()
      if (text[at] === close) {
        at++
        return
      }
      item()
      skipSpace()
      if (text[at] === ',') at++
      else if (text[at] !== close) fail(`expected , or ${close}`)
    }
  }
  const object = (depth) => {
    const out = {}
    list('}', () => {
      const name = key()
      skipSpace()
      if (text[at++] !== ':') fail('expected :')
      // defineProperty: a key named __proto__ is data here, not the prototype
      Object.defineProperty(out, name, {
        value: value(depth + 1),
        enumerable: true,
        writable: true,
        configurable: true
      })
    })
    return out
  }
  const array = (depth) => {
    const out = []
    list(']', () => out.push(value(depth + 1)))
    return out
  }
  if (text[at] !== '{') fail('expected {')
  const result = object(0)
  return { value: result, end: at }
}

/** The models.dev catalogue in an opencode binary's code, or an error saying it was not found. */
export function catalogueOf(binary) {
  for (const marker of MARKERS) {
    const at = binary.indexOf(Buffer.from(marker))
    if (at < 0) continue
    const start = at + marker.indexOf('({') + 1
    // the literal is a few MB of ASCII-safe UTF-8: decode a window generous enough for it
    const text = binary.subarray(start, start + 64 * 1024 * 1024).toString('utf8')
    const { value } = parseLiteral(text)
    const providers = Object.keys(value)
    if (providers.length < 10) throw new Error(`only ${providers.length} providers found`)
    for (const id of providers) {
      const entry = value[id]
      if (entry?.id !== id || typeof entry.models !== 'object' || !Array.isArray(entry.env)) {
        throw new Error(`provider ${id} does not look like a models.dev entry`)
      }
    }
    return value
  }
  throw new Error(
    'the models.dev catalogue was not found in the opencode binary: its bundled code changed; update MARKERS in scripts/opencode-models.mjs'
  )
}

/**
 * The file's text: a header line, then per provider (sorted) `[id, env names]` TAB entry, so the
 * action reads a line's id and keys without parsing the rest.
 */
export function snapshotText(catalogue, version) {
  const ids = Object.keys(catalogue).sort()
  const lines = [JSON.stringify({ opencode: version, providers: ids.length })]
  for (const id of ids) {
    const entry = catalogue[id]
    lines.push(`${JSON.stringify([id, entry.env])}\t${JSON.stringify(entry)}`)
  }
  return `${lines.join('\n')}\n`
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const version = pinnedVersion()
  const binary = pinnedBinary()
  if (binary.version !== version) {
    throw new Error(
      `installed ${binary.file} is ${binary.version}, pinned is ${version}: npm install`
    )
  }
  const catalogue = catalogueOf(readFileSync(binary.file))
  writeFileSync(SNAPSHOT_FILE, snapshotText(catalogue, version))
  console.log(`${SNAPSHOT_FILE}: ${Object.keys(catalogue).length} providers of opencode ${version}`)
}
