/**
 * The tar guard as plain JavaScript for tests that run the cache client from source (the action
 * runs the ncc bundle dist/tar-guard/index.js): its modules transpiled, types stripped.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import ts from 'typescript'
import { REPO_ROOT } from './action-runner.js'

const SOURCES = [
  'src/tar-guard-index.ts',
  'src/action/cache/tar-guard.ts',
  'src/archive/tar-check.ts',
  'src/archive/tar-stream.ts'
]

/** Writes the guard under `outDir`; returns the path of its entry script. */
export function buildTarGuard(outDir: string): string {
  for (const source of SOURCES) {
    const { outputText } = ts.transpileModule(readFileSync(join(REPO_ROOT, source), 'utf8'), {
      fileName: source,
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        isolatedModules: true
      }
    })
    const out = join(outDir, source.replace(/\.ts$/, '.js'))
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, outputText)
  }
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n')
  return join(outDir, 'src', 'tar-guard-index.js')
}
