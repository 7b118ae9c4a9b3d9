/**
 * opencode's platform packages as npm tarballs: fetched with `npm pack` (so the user's registry
 * config applies), checked against an integrity no cache writer can choose, then unpacked. The
 * tarball is what the action caches; the binary is only ever unpacked from a checked one.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs'
import { chmod, mkdir, readdir, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Writable } from 'node:stream'
import { createGunzip } from 'node:zlib'
import { TarStream } from '../archive/tar-stream.js'
import { KugetsuError } from '../errors.js'
import { PACKAGE_INTEGRITY } from './digests.js'

export interface NpmOptions {
  npm: string
  env: NodeJS.ProcessEnv
}

interface Output {
  code: number | null
  stdout: string
  stderr: string
  error?: NodeJS.ErrnoException
}

export function runNpm(args: string[], options: NpmOptions & { cwd?: string }): Promise<Output> {
  return new Promise((resolve) => {
    let stdout = ''
    let stderr = ''
    const child = spawn(options.npm, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32' && /\.(cmd|bat)$/i.test(options.npm)
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), 15 * 60_000)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', (error) => {
      clearTimeout(timer)
      resolve({ code: null, stdout, stderr, error })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

export const tarballName = (name: string, version: string) => `${name}-${version}.tgz`

/** The npm integrity string (`sha512-<base64>`) of a file. */
export async function integrityOf(file: string): Promise<string> {
  const hash = createHash('sha512')
  await pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), hash)
  return `sha512-${hash.digest('base64')}`
}

/**
 * The integrity `name@version` must have: shipped with kugetsu for the pinned release, else the
 * one the npm registry publishes (asked through npm). Undefined when the registry cannot tell.
 */
export async function expectedIntegrity(
  name: string,
  version: string,
  options: NpmOptions
): Promise<string | undefined> {
  const shipped = PACKAGE_INTEGRITY[`${name}@${version}`]
  if (shipped) return shipped
  const output = await runNpm(
    ['view', `${name}@${version}`, 'dist.integrity', '--loglevel=error'],
    options
  )
  const integrity = output.stdout.trim()
  return output.code === 0 && /^sha512-[A-Za-z0-9+/]+=*$/.test(integrity) ? integrity : undefined
}

/** Downloads `name@version`'s tarball into `dir` with `npm pack`; npm's last error line on failure. */
export async function packPackage(
  name: string,
  version: string,
  dir: string,
  options: NpmOptions
): Promise<{ file: string } | { error: string }> {
  await mkdir(dir, { recursive: true })
  const output = await runNpm(
    ['pack', `${name}@${version}`, '--pack-destination', dir, '--loglevel=error'],
    { ...options, cwd: dir }
  )
  const failure = npmFailure(output, options)
  if (failure) return { error: failure }
  return { file: path.join(dir, tarballName(name, version)) }
}

/** What an npm command's failure says in a line (npm missing, its first error line), if it failed. */
export function npmFailure(output: Output, options: Pick<NpmOptions, 'npm'>): string | undefined {
  if (!output.error && output.code === 0) return undefined
  if (output.error) {
    return `${options.npm}: ${output.error.code === 'ENOENT' ? 'not found' : output.error.message}`
  }
  const lines = output.stderr.trim().split('\n')
  return (
    (lines.find((line) => /^npm (error|ERR!) (?!code\b)\S/.test(line)) ?? lines.at(-1)) ||
    `npm exited with ${output.code}`
  )
}

/** The one tarball of one of `names` at `version` in `dir`, if there is exactly one. */
export async function findTarball(
  dir: string,
  names: string[],
  version: string
): Promise<{ name: string; file: string } | undefined> {
  const files = await readdir(dir).catch(() => [] as string[])
  const found = names.filter((name) => files.includes(tarballName(name, version)))
  if (found.length !== 1 || files.length !== 1) return undefined
  return { name: found[0], file: path.join(dir, tarballName(found[0], version)) }
}

/**
 * Unpacks a checked tarball's `package/package.json` and `package/bin/<exe>` into `packageDir`
 * (and nothing else: the paths written are kugetsu's, not the archive's).
 */
export async function unpackBinary(
  tarball: string,
  packageDir: string,
  exe: string
): Promise<string> {
  const staging = `${packageDir}.tmp-${process.pid}`
  await rm(staging, { recursive: true, force: true })
  await mkdir(path.join(staging, 'bin'), { recursive: true })
  const wanted = new Map([
    ['package/package.json', path.join(staging, 'package.json')],
    [`package/bin/${exe}`, path.join(staging, 'bin', exe)]
  ])
  const closed: Promise<unknown>[] = []
  let out: WriteStream | undefined
  const reader = new TarStream({
    member: (member) => {
      const target = wanted.get(member.path)
      if (!target || member.type !== '0') return false
      wanted.delete(member.path)
      out = createWriteStream(target)
      closed.push(once(out, 'close'))
      return true
    },
    data: (chunk) => void out?.write(chunk),
    end: () => out?.end()
  })
  const chunkSize = 1 << 20
  try {
    await pipeline(
      createReadStream(tarball, { highWaterMark: chunkSize }),
      createGunzip({ chunkSize }),
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          try {
            reader.write(chunk)
          } catch (error) {
            callback(error as Error)
            return
          }
          if (out?.writableNeedDrain) out.once('drain', () => callback())
          else callback()
        },
        final(callback) {
          try {
            reader.end()
            callback()
          } catch (error) {
            callback(error as Error)
          }
        }
      })
    )
    await Promise.all(closed)
  } catch (error) {
    out?.destroy()
    await rm(staging, { recursive: true, force: true })
    throw new KugetsuError(
      'binary-missing',
      `could not unpack ${path.basename(tarball)}: ${(error as Error).message}`
    )
  }
  if (wanted.size > 0) {
    await rm(staging, { recursive: true, force: true })
    throw new KugetsuError(
      'binary-missing',
      `${path.basename(tarball)} holds no ${[...wanted.keys()].join(' or ')}`
    )
  }
  await chmod(path.join(staging, 'bin', exe), 0o755)
  await rm(packageDir, { recursive: true, force: true })
  await rename(staging, packageDir)
  return path.join(packageDir, 'bin', exe)
}

/**
 * Checks `tarball` against the integrity `name@version` must have, then unpacks its binary into
 * `<dir>/node_modules/<name>`. Throws `unverified-binary` (nothing unpacked) on a mismatch.
 */
export async function unpackVerified(
  tarball: string,
  name: string,
  version: string,
  dir: string,
  options: NpmOptions
): Promise<string> {
  const file = path.basename(tarball)
  const expected = await expectedIntegrity(name, version, options)
  if (!expected) {
    throw new KugetsuError(
      'unverified-binary',
      `the npm registry gives no integrity for ${name}@${version}, so ${file} cannot be checked; it was not unpacked or run`
    )
  }
  const actual = await integrityOf(tarball)
  if (actual !== expected) {
    throw new KugetsuError(
      'unverified-binary',
      `${file} is not ${name}@${version} as published (its sha512 is ${actual.slice(7, 23)}…, the registry's ${expected.slice(7, 23)}…); it was not unpacked or run`
    )
  }
  const exe = process.platform === 'win32' ? 'opencode.exe' : 'opencode'
  return unpackBinary(tarball, path.join(dir, 'node_modules', name), exe)
}
