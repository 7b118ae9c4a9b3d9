// The test suite's stand-ins (__tests__/support/*.ts: model server, Actions cache and GitHub REST
// stand-ins, action runner helpers) as plain ESM JavaScript, so scripts run with plain `node` can
// use them. Types are stripped with the TypeScript compiler, not checked.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { register } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const SUPPORT_SRC = join(ROOT, '__tests__', 'support')
const COMPILER_OPTIONS = {
  module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2022,
  isolatedModules: true,
  sourceMap: false
}

// Some dependencies of the stand-ins (@actions/workflow-parser) import JSON files without the
// `with { type: 'json' }` attribute plain node wants (jest does not mind): add it for them.
const JSON_IMPORTS = `export async function load(url, context, next) {
  if (url.endsWith('.json') && !context.importAttributes?.type) {
    return next(url, { ...context, importAttributes: { ...context.importAttributes, type: 'json' } })
  }
  return next(url, context)
}`
let hooked = false

/** Transpiles every __tests__/support/*.ts into `outDir` (e.g. build/demo/support). */
export function buildStandIns(outDir) {
  mkdirSync(outDir, { recursive: true })
  for (const name of readdirSync(SUPPORT_SRC).filter((file) => file.endsWith('.ts'))) {
    const source = readFileSync(join(SUPPORT_SRC, name), 'utf8')
    const { outputText } = ts.transpileModule(source, {
      fileName: name,
      compilerOptions: COMPILER_OPTIONS
    })
    writeFileSync(join(outDir, name.replace(/\.ts$/, '.js')), outputText)
  }
  if (!hooked) {
    register(`data:text/javascript,${encodeURIComponent(JSON_IMPORTS)}`)
    hooked = true
  }
  /** Imports one transpiled stand-in by its base name (`model-server`, ...). */
  return async function standIn(name) {
    const file = join(outDir, `${name}.js`)
    if (!existsSync(file)) throw new Error(`__tests__/support/${name}.ts is missing`)
    return import(pathToFileURL(file).href)
  }
}

/**
 * Transpiles every src/**\/*.ts (or those of `srcDir`, e.g. another commit's) into `outDir`
 * (e.g. build/bench/src), so a script can time kugetsu's own modules (the sandbox, the key proxy)
 * without the bundle; returns an importer.
 */
export function buildSources(outDir, srcDir = join(ROOT, 'src')) {
  for (const entry of readdirSync(srcDir, { recursive: true })) {
    const name = String(entry)
    if (!name.endsWith('.ts') || name.endsWith('.d.ts')) continue
    const { outputText } = ts.transpileModule(readFileSync(join(srcDir, name), 'utf8'), {
      fileName: name,
      compilerOptions: COMPILER_OPTIONS
    })
    const out = join(outDir, name.replace(/\.ts$/, '.js'))
    mkdirSync(dirname(out), { recursive: true })
    writeFileSync(out, outputText)
  }
  /** Imports one transpiled module by its path below src/ (`sandbox/sandbox`, ...). */
  return (name) => import(pathToFileURL(join(outDir, `${name}.js`)).href)
}
