import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  SOURCE_HASH_FILE,
  assertDistFresh,
  sourceFiles,
  sourceHash
} from '../scripts/source-hash.mjs'

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
let root: string

function write(path: string, content: string, at = root): void {
  mkdirSync(dirname(join(at, path)), { recursive: true })
  writeFileSync(join(at, path), content)
}

/** A checkout with the inputs of a build and some files that are not. */
function checkout(at: string, order: 'forward' | 'backward' = 'forward'): void {
  const files: Array<[string, string]> = [
    ['src/index.ts', "export * from './a.js'\n"],
    ['src/a.ts', 'export const a = 1\n'],
    ['src/store/b.ts', 'export const b = 2\n'],
    ['package-lock.json', '{ "lockfileVersion": 3 }\n'],
    ['tsconfig.json', '{}\n'],
    ['scripts/package.mjs', '// build\n'],
    ['README.md', '# readme\n'],
    ['__tests__/a.test.ts', 'test\n']
  ]
  for (const [path, content] of order === 'forward' ? files : [...files].reverse()) {
    write(path, content, at)
  }
}

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'kugetsu-source-hash-'))
  checkout(root)
})

afterEach(() => rmSync(root, { recursive: true, force: true }))

describe('sourceHash', () => {
  it('changes when a source file changes, and comes back when it is reverted', () => {
    const before = sourceHash(root)
    write('src/store/b.ts', 'export const b = 3\n')
    expect(sourceHash(root)).not.toBe(before)
    write('src/store/b.ts', 'export const b = 2\n')
    expect(sourceHash(root)).toBe(before)
  })

  it.each(['package-lock.json', 'tsconfig.json', 'scripts/package.mjs'])(
    'changes when %s changes',
    (file) => {
      const before = sourceHash(root)
      write(file, '{ "changed": true }\n')
      expect(sourceHash(root)).not.toBe(before)
    }
  )

  it('changes when a source file is added, removed or renamed', () => {
    const before = sourceHash(root)
    write('src/new.ts', '')
    const added = sourceHash(root)
    expect(added).not.toBe(before)
    rmSync(join(root, 'src/new.ts'))
    expect(sourceHash(root)).toBe(before)
    rmSync(join(root, 'src/a.ts'))
    write('src/c.ts', 'export const a = 1\n')
    expect(sourceHash(root)).not.toBe(before)
  })

  it('ignores the optional (per-platform) packages npm install adds to the lockfile', () => {
    const lock = (packages: Record<string, unknown>) =>
      write('package-lock.json', JSON.stringify({ lockfileVersion: 3, packages }, null, 2))
    const linux = { 'node_modules/a': { version: '1.0.0' } }
    lock({ ...linux, 'node_modules/opencode-linux-x64': { version: '1', optional: true } })
    const before = sourceHash(root)
    lock({ ...linux, 'node_modules/opencode-darwin-arm64': { version: '1', optional: true } })
    expect(sourceHash(root)).toBe(before)
    lock({ 'node_modules/a': { version: '1.0.1' } })
    expect(sourceHash(root)).not.toBe(before)
  })

  it('hashes a lockfile that is not JSON, or is hostile JSON, as it is', () => {
    const before = sourceHash(root)
    write('package-lock.json', '{ not json')
    const broken = sourceHash(root)
    expect(broken).not.toBe(before)
    write('package-lock.json', '{ not json!')
    expect(sourceHash(root)).not.toBe(broken)
    for (const lock of [
      'null',
      '{"packages":null}',
      '{"packages":{"__proto__":{"optional":true}}}'
    ]) {
      write('package-lock.json', lock)
      expect(sourceHash(root)).toMatch(/^[0-9a-f]{64}$/)
    }
  })

  it('ignores files the build does not read: tests, docs, dist/, editor and OS litter', () => {
    const before = sourceHash(root)
    write('README.md', '# changed\n')
    write('__tests__/a.test.ts', 'changed\n')
    write('__tests__/new.test.ts', 'new\n')
    write('dist/index.js', 'bundle\n')
    write('scripts/demo.mjs', 'demo\n')
    write('src/.DS_Store', 'litter')
    write('src/.a.ts.swp', 'litter')
    write('src/a.ts~', 'litter')
    expect(sourceHash(root)).toBe(before)
  })

  it('is the same for CRLF and LF line endings', () => {
    const before = sourceHash(root)
    write('src/a.ts', 'export const a = 1\r\n')
    write('tsconfig.json', '{}\r\n')
    expect(sourceHash(root)).toBe(before)
  })

  it('does not depend on the order files were created in or the directory it is in', () => {
    const other = mkdtempSync(join(tmpdir(), 'kugetsu-source-hash-other-'))
    try {
      checkout(other, 'backward')
      expect(sourceHash(other)).toBe(sourceHash(root))
      expect(sourceFiles(other)).toEqual([
        'package-lock.json',
        'scripts/package.mjs',
        'src/a.ts',
        'src/index.ts',
        'src/store/b.ts',
        'tsconfig.json'
      ])
    } finally {
      rmSync(other, { recursive: true, force: true })
    }
  })

  it('tells bytes moved between files, or between a name and a content, apart', () => {
    write('src/a.ts', 'xy')
    write('src/b.ts', '')
    const moved = sourceHash(root)
    write('src/a.ts', 'x')
    write('src/b.ts', 'y')
    expect(sourceHash(root)).not.toBe(moved)
    // names and contents run together read the same: "src/a.ts" + "src/b.ts" both times
    write('src/a.ts', '')
    write('src/b.ts', '')
    const twoFiles = sourceHash(root)
    rmSync(join(root, 'src/b.ts'))
    write('src/a.ts', 'src/b.ts')
    expect(sourceHash(root)).not.toBe(twoFiles)
  })

  it('survives a dangling symlink and a symlink loop in src/, reading neither', () => {
    const before = sourceHash(root)
    symlinkSync(join(root, 'nowhere.ts'), join(root, 'src/dangling.ts'))
    symlinkSync('..', join(root, 'src/loop'))
    expect(sourceHash(root)).toBe(before)
  })

  it('hashes this repository’s sources', () => {
    const files = sourceFiles(REPO_ROOT)
    expect(files).toContain('src/index.ts')
    expect(files).toContain('package-lock.json')
    expect(files.some((file) => file.startsWith('dist/') || file.startsWith('__tests__/'))).toBe(
      false
    )
    expect(sourceHash(REPO_ROOT)).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('assertDistFresh', () => {
  const record = (hash: string) => write(`dist/${SOURCE_HASH_FILE}`, `${hash}\n`)

  it('passes when dist/ records the hash of the sources', () => {
    record(sourceHash(root))
    expect(() => assertDistFresh(root)).not.toThrow()
  })

  it('fails, saying to run npm run package, once a source changes', () => {
    record(sourceHash(root))
    write('src/a.ts', 'export const a = 2\n')
    expect(() => assertDistFresh(root)).toThrow(/^dist\/ is stale: run npm run package \(.*records/)
  })

  it('fails the same way when dist/ has no recorded hash', () => {
    expect(() => assertDistFresh(root)).toThrow(
      /^dist\/ is stale: run npm run package \(dist\/\.source-hash is missing/
    )
  })

  it('fails on a recorded hash that is garbage, without echoing it', () => {
    write(`dist/${SOURCE_HASH_FILE}`, 'not a hash\n\u001b[2J')
    let message = ''
    try {
      assertDistFresh(root)
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toMatch(
      /^dist\/ is stale: run npm run package \(dist\/\.source-hash holds no hash/
    )
    expect(message).not.toContain('not a hash')
    expect(message).not.toContain('\n')
    expect(message).not.toContain('\u001b')
  })
})
