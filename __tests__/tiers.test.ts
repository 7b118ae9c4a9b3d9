/**
 * The unit tier stays fast and independent of dist/: a suite that starts processes must be named
 * `*.e2e.test.ts`. Suites are read, not run, so this catches the usual ways in (child_process, the
 * action runner that runs dist/, the real opencode's environment), not every indirect one.
 */
import { describe, expect, it } from '@jest/globals'
import { readFileSync, readdirSync } from 'node:fs'
import { dirname, join, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const TESTS = dirname(fileURLToPath(import.meta.url))
const SRC = join(TESTS, '..', 'src')
const CHILD_PROCESS = /from '(node:)?child_process'|require\('(node:)?child_process'\)/

/** `../src/...js` specifiers of the modules that start processes themselves (the driver...). */
const srcStarters = (readdirSync(SRC, { recursive: true }) as string[])
  .filter(
    (file) => file.endsWith('.ts') && CHILD_PROCESS.test(readFileSync(join(SRC, file), 'utf8'))
  )
  .map((file) => `../src/${file.split(sep).join('/').replace(/\.ts$/, '.js')}`)

const PROCESS_STARTERS: Array<[(source: string) => boolean, string]> = [
  [(source) => CHILD_PROCESS.test(source), 'imports child_process'],
  [
    (source) => /from '\.\/support\/(action-runner|action-e2e|opencode-env)\.js'/.test(source),
    'uses a process-level helper'
  ],
  [
    // `import type` is erased: it loads nothing
    (source) =>
      srcStarters.some((specifier) =>
        source
          .split('\n')
          .some((line) => !line.startsWith('import type ') && line.includes(`from '${specifier}'`))
      ),
    'imports a module that starts processes'
  ]
]

const unitSuites = readdirSync(TESTS).filter(
  (name) => name.endsWith('.test.ts') && !name.endsWith('.e2e.test.ts')
)

describe('the unit tier', () => {
  it('has suites, and knows the modules that start processes', () => {
    expect(unitSuites).toContain('tiers.test.ts')
    expect(srcStarters).toContain('../src/opencode/launcher.js')
  })

  it.each(unitSuites)('%s starts no process (else name it *.e2e.test.ts)', (name) => {
    const source = readFileSync(join(TESTS, name), 'utf8')
    const found = PROCESS_STARTERS.filter(([starts]) => starts(source)).map(([, what]) => what)
    expect(found).toEqual([])
  })
})
