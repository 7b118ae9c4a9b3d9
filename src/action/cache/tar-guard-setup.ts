/**
 * Puts the tar guard (tar-guard.ts) in front of the `tar` that `@actions/cache` finds on PATH, for
 * the length of one cache call: a private dir of wrapper scripts, to be put first on PATH.
 */
import { constants } from 'node:fs'
import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ArchiveLimits } from '../../archive/tar-check.js'
import type { TarGuardConfig } from './tar-guard.js'

export interface TarGuard {
  /** The dir of wrappers to put first on PATH. */
  dir: string
  /** Why the guard stopped an extraction, if it did (`refused`: the archive, else an error). */
  outcome(): Promise<{ refused: boolean; reason: string } | undefined>
  remove(): Promise<void>
}

const isExecutable = (file: string) =>
  access(file, constants.X_OK).then(
    () => true,
    () => false
  )

async function which(name: string, path: string): Promise<string | undefined> {
  for (const dir of path.split(delimiter)) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name)
  }
  return undefined
}

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`

/**
 * The guard script of the bundle this code runs in (dist/tar-guard/index.js, built from
 * src/tar-guard-index.ts), or undefined when there is none (e.g. running from source).
 */
export async function bundledGuardScript(): Promise<string | undefined> {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const candidate of [
    join(here, 'tar-guard', 'index.js'),
    join(here, '..', 'tar-guard', 'index.js')
  ]) {
    if (
      await access(candidate).then(
        () => true,
        () => false
      )
    )
      return candidate
  }
  return undefined
}

/**
 * Writes the wrappers: `tar` and, on macOS where `@actions/cache` prefers it, `gtar` when there is
 * a real one. Each runs `node <guardScript>` with the real program it stands for. On Windows
 * `@actions/cache` runs tar from fixed paths, so no wrapper can stand in: undefined.
 */
export async function installTarGuard(
  limits: ArchiveLimits,
  options: { guardScript: string; path: string; tempDir?: string }
): Promise<TarGuard | undefined> {
  if (process.platform === 'win32') return undefined
  const names = process.platform === 'darwin' ? ['gtar', 'tar'] : ['tar']
  const found = await Promise.all(names.map((name) => which(name, options.path)))
  const dir = await mkdtemp(join(options.tempDir || tmpdir(), 'kugetsu-tar-'))
  const report = join(dir, 'report.json')
  const config: TarGuardConfig = { ...limits, report }
  await writeFile(join(dir, 'config.json'), JSON.stringify(config))
  for (const [i, name] of names.entries()) {
    const real = found[i]
    if (!real) continue
    const wrapper = join(dir, name)
    const command = [process.execPath, options.guardScript, '--config', join(dir, 'config.json')]
    await writeFile(
      wrapper,
      `#!/bin/sh\nexec ${[...command, '--real', real].map(quote).join(' ')} "$@"\n`
    )
    await chmod(wrapper, 0o755)
  }
  return {
    dir,
    outcome: async () => {
      const text = await readFile(report, 'utf8').catch(() => undefined)
      return text === undefined
        ? undefined
        : (JSON.parse(text) as { refused: boolean; reason: string })
    },
    remove: () => rm(dir, { recursive: true, force: true })
  }
}
