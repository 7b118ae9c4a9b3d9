/**
 * Finding (and if need be installing) the opencode binary kugetsu drives.
 *
 * Order: an explicit path (option, or env `KUGETSU_OPENCODE_BIN`), used as given; an `opencode` on
 * PATH whose version (its npm package's, else what `--version` prints) is the wanted version; a
 * copy installed earlier in the tool dir; a fresh install into the tool dir.
 *
 * The npm package `opencode-ai` is a wrapper whose postinstall script copies in the binary of a
 * platform package (`opencode-linux-x64`, ...). kugetsu runs no install scripts: it fetches the
 * platform package's tarball with `npm pack`, checks it against the published integrity
 * (package-tarball.ts) and uses its binary directly. The wrapper is only a fallback for copies
 * installed by other means.
 *
 * Asking a binary its version (`opencode --version`) takes over a second, so a binary that belongs
 * to one of these npm packages is known by its package.json instead (see packageVersion); other
 * binaries are still asked.
 */
import { spawn } from 'node:child_process'
import {
  access,
  constants,
  mkdir,
  open,
  readFile,
  realpath,
  rename,
  rm,
  writeFile
} from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { KugetsuError } from '../errors.js'
import { packPackage, unpackVerified } from './package-tarball.js'
import { OPENCODE_VERSION } from './version.js'

export { OPENCODE_VERSION }

/** Env var naming an opencode binary to use as is. */
export const OPENCODE_BIN_ENV = 'KUGETSU_OPENCODE_BIN'

export interface ResolveBinaryOptions {
  /** Wanted version (default OPENCODE_VERSION). */
  version?: string
  /** Use this binary; no version check. Overrides `KUGETSU_OPENCODE_BIN`. */
  binaryPath?: string
  /** Where installed copies live (default: `$RUNNER_TOOL_CACHE/kugetsu` or `~/.cache/kugetsu/tools`). */
  toolDir?: string
  /** Environment to read PATH, KUGETSU_OPENCODE_BIN, etc. from (default process.env). */
  env?: NodeJS.ProcessEnv
  /** Look for `opencode` on PATH (default true). */
  searchPath?: boolean
  /** Install from the npm registry when nothing else fits (default true). */
  install?: boolean
  /** The npm command (default `npm`, `npm.cmd` on Windows). */
  npmCommand?: string
  /** Called with a line of progress for humans (e.g. "installing opencode-ai@1.18.33"). */
  log?: (line: string) => void
}

export interface ResolvedBinary {
  path: string
  /** The version it reported (undefined for an explicit path that was not probed). */
  version?: string
  source: 'explicit' | 'path' | 'tool-dir' | 'installed'
}

interface CommandOutput {
  code: number | null
  stdout: string
  stderr: string
  error?: NodeJS.ErrnoException
}

function runCommand(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}
): Promise<CommandOutput> {
  return new Promise((resolve) => {
    let stdout = ''
    let stderr = ''
    let settled = false
    const finish = (output: CommandOutput) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(output)
    }
    const child = spawn(command, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      shell: process.platform === 'win32' && /\.(cmd|bat)$/i.test(command)
    })
    const timer = options.timeoutMs
      ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs)
      : undefined
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', (error) => finish({ code: null, stdout, stderr, error }))
    child.on('close', (code) => finish({ code, stdout, stderr }))
  })
}

/** What `BINARY --version` prints (trimmed), or undefined when it cannot run. */
export async function probeVersion(
  binary: string,
  env?: NodeJS.ProcessEnv
): Promise<string | undefined> {
  const output = await runCommand(binary, ['--version'], { env, timeoutMs: 60_000 })
  if (output.error || output.code !== 0) return undefined
  const version = output.stdout.trim().split('\n').pop()?.trim()
  return version || undefined
}

/** Magic numbers of native executables: ELF, Mach-O (both byte orders, fat), PE. */
const NATIVE_MAGIC = [
  [0x7f, 0x45, 0x4c, 0x46],
  [0xcf, 0xfa, 0xed, 0xfe],
  [0xce, 0xfa, 0xed, 0xfe],
  [0xfe, 0xed, 0xfa, 0xcf],
  [0xfe, 0xed, 0xfa, 0xce],
  [0xca, 0xfe, 0xba, 0xbe],
  [0x4d, 0x5a]
]

async function isNativeExecutable(file: string): Promise<boolean> {
  const handle = await open(file, 'r').catch(() => undefined)
  if (!handle) return false
  try {
    const head = Buffer.alloc(4)
    const { bytesRead } = await handle.read(head, 0, 4, 0)
    return NATIVE_MAGIC.some(
      (magic) => bytesRead >= magic.length && magic.every((byte, i) => head[i] === byte)
    )
  } finally {
    await handle.close()
  }
}

/**
 * The version of the npm package a binary was installed from, read from its package.json, or
 * undefined when that cannot be told without running it. Recognised (after resolving symlinks,
 * such as `node_modules/.bin/opencode`):
 *
 * - `<pkg>/bin/opencode` of one of this machine's platform packages (`opencode-linux-x64`, ...);
 * - `<pkg>/bin/opencode.exe` of `opencode-ai`, only once its postinstall has replaced the
 *   placeholder script there with the platform binary (which the postinstall checks runs).
 *
 * Either must be a native executable (not a script) whose package.json names the package.
 */
export async function packageVersion(binary: string): Promise<string | undefined> {
  try {
    const file = await realpath(binary)
    const binDir = path.dirname(file)
    if (path.basename(binDir) !== 'bin') return undefined
    const packageDir = path.dirname(binDir)
    const manifest = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as {
      name?: unknown
      version?: unknown
    }
    if (typeof manifest.version !== 'string' || !manifest.version) return undefined
    const exe = process.platform === 'win32' ? 'opencode.exe' : 'opencode'
    const known =
      (manifest.name === 'opencode-ai' && path.basename(file) === 'opencode.exe') ||
      (typeof manifest.name === 'string' &&
        platformPackages().includes(manifest.name) &&
        path.basename(file) === exe)
    if (!known || !(await isNativeExecutable(file))) return undefined
    return manifest.version
  } catch {
    return undefined
  }
}

/** The binary's version: from its npm package when it has one, else by asking it (probeVersion). */
export async function binaryVersion(
  binary: string,
  env?: NodeJS.ProcessEnv
): Promise<string | undefined> {
  return (await packageVersion(binary)) ?? (await probeVersion(binary, env))
}

async function isExecutable(file: string): Promise<boolean> {
  try {
    await access(file, process.platform === 'win32' ? constants.F_OK : constants.X_OK)
    return true
  } catch {
    return false
  }
}

/** Every `opencode` executable on PATH, in PATH order. */
export async function findOnPath(env: NodeJS.ProcessEnv = process.env): Promise<string[]> {
  const pathValue = env.PATH ?? env.Path ?? ''
  const names =
    process.platform === 'win32' ? ['opencode.exe', 'opencode.cmd', 'opencode'] : ['opencode']
  const found: string[] = []
  for (const dir of pathValue.split(path.delimiter)) {
    if (!dir) continue
    for (const name of names) {
      const candidate = path.join(dir, name)
      if (!found.includes(candidate) && (await isExecutable(candidate))) found.push(candidate)
    }
  }
  return found
}

export function defaultToolDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.RUNNER_TOOL_CACHE) return path.join(env.RUNNER_TOOL_CACHE, 'kugetsu')
  const cache = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache')
  return path.join(cache, 'kugetsu', 'tools')
}

/** Directory of one installed version: `<toolDir>/opencode-ai/<version>`. */
export function installDir(toolDir: string, version: string): string {
  return path.join(toolDir, 'opencode-ai', version)
}

/** Platform packages of opencode-ai for this machine, best first (mirrors its postinstall). */
export function platformPackages(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch
): string[] {
  const os = platform === 'win32' ? 'windows' : platform
  const base = `opencode-${os}-${arch}`
  if (platform === 'linux') {
    if (arch === 'x64') {
      return [base, `${base}-baseline`, `${base}-musl`, `${base}-baseline-musl`]
    }
    return [base, `${base}-musl`]
  }
  if (arch === 'x64') return [base, `${base}-baseline`]
  return [base]
}

/** Binaries an install dir may hold, best first. */
export function installedCandidates(dir: string): string[] {
  const exe = process.platform === 'win32' ? 'opencode.exe' : 'opencode'
  const modules = path.join(dir, 'node_modules')
  return [
    ...platformPackages().map((name) => path.join(modules, name, 'bin', exe)),
    path.join(modules, 'opencode-ai', 'bin', 'opencode.exe')
  ]
}

const MARKER = 'kugetsu-opencode.json'

async function fromInstallDir(
  dir: string,
  version: string,
  env: NodeJS.ProcessEnv
): Promise<string | undefined> {
  // The marker names the binary that worked last time (it was run then): read its package.json
  // rather than run it again. Without a marker, each candidate is run, best first: the first
  // platform package may not run on this machine (no AVX2, musl), while its package.json would
  // still claim the right version.
  try {
    const marker = JSON.parse(await readFile(path.join(dir, MARKER), 'utf8')) as {
      binary?: string
      version?: string
    }
    if (
      marker.version === version &&
      marker.binary &&
      (await isExecutable(marker.binary)) &&
      (await binaryVersion(marker.binary, env)) === version
    ) {
      return marker.binary
    }
  } catch {
    // no marker yet
  }
  for (const candidate of installedCandidates(dir)) {
    if (!(await isExecutable(candidate))) continue
    if ((await probeVersion(candidate, env)) === version) {
      await writeMarker(dir, candidate, version)
      return candidate
    }
  }
  return undefined
}

/** Where an install keeps the npm tarball its binary came from (what the action caches). */
export function tarballDir(toolDir: string, version: string): string {
  return path.join(installDir(toolDir, version), TARBALLS)
}

const TARBALLS = 'npm-pack'

/** Records the binary that was checked and ran, so later runs read its package.json instead. */
export async function writeMarker(dir: string, binary: string, version: string): Promise<void> {
  await writeFile(path.join(dir, MARKER), JSON.stringify({ binary, version }) + '\n').catch(
    () => undefined
  )
}

/**
 * Installs opencode `version` into `<toolDir>/opencode-ai/<version>`: the tarball of the first
 * platform package of this machine whose binary runs (`npm pack`, so install scripts never run),
 * checked against its published integrity, then unpacked. Works in a temp dir next to the target,
 * so a failed install leaves nothing half-done behind.
 */
export async function installOpencode(
  toolDir: string,
  version: string,
  options: { env?: NodeJS.ProcessEnv; npmCommand?: string; log?: (line: string) => void } = {}
): Promise<string> {
  const env = options.env ?? process.env
  const npm = { npm: options.npmCommand ?? (process.platform === 'win32' ? 'npm.cmd' : 'npm'), env }
  const target = installDir(toolDir, version)
  const staging = `${target}.tmp-${process.pid}-${Date.now()}`
  await mkdir(path.dirname(target), { recursive: true })
  await rm(staging, { recursive: true, force: true })
  options.log?.(`installing opencode ${version} into ${target}`)
  let reason = 'no platform package fits this machine'
  try {
    for (const name of platformPackages()) {
      const packed = await packPackage(name, version, path.join(staging, TARBALLS), npm)
      if ('error' in packed) {
        reason = `${name}@${version}: ${packed.error}`
        continue
      }
      const binary = await unpackVerified(packed.file, name, version, staging, npm)
      if ((await probeVersion(binary, env)) === version) {
        await rm(target, { recursive: true, force: true })
        await rename(staging, target)
        const installed = path.join(target, path.relative(staging, binary))
        await writeMarker(target, installed, version)
        return installed
      }
      // Built for another CPU level or libc than this machine's: try the next one.
      reason = `${name}@${version} does not run here`
      await rm(packed.file, { force: true })
      await rm(path.join(staging, 'node_modules', name), { recursive: true, force: true })
    }
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
  throw new KugetsuError('binary-missing', `could not install opencode ${version}: ${reason}`)
}

/** Finds the opencode binary to drive (see the module comment for the order). */
export async function resolveOpencodeBinary(
  options: ResolveBinaryOptions = {}
): Promise<ResolvedBinary> {
  const env = options.env ?? process.env
  const version = options.version ?? OPENCODE_VERSION
  const explicit = options.binaryPath ?? env[OPENCODE_BIN_ENV]
  if (explicit) {
    if (!(await isExecutable(explicit))) {
      throw new KugetsuError(
        'binary-missing',
        `opencode binary ${explicit} does not exist or is not executable`
      )
    }
    return { path: explicit, source: 'explicit' }
  }

  if (options.searchPath !== false) {
    for (const candidate of await findOnPath(env)) {
      if ((await binaryVersion(candidate, env)) === version) {
        return { path: candidate, version, source: 'path' }
      }
    }
  }

  const toolDir = options.toolDir ?? defaultToolDir(env)
  const installed = await fromInstallDir(installDir(toolDir, version), version, env)
  if (installed) return { path: installed, version, source: 'tool-dir' }

  if (options.install === false) {
    throw new KugetsuError(
      'binary-missing',
      `opencode ${version} not found (not on PATH, not in ${installDir(toolDir, version)})`
    )
  }
  const binary = await installOpencode(toolDir, version, {
    env,
    npmCommand: options.npmCommand,
    log: options.log
  })
  return { path: binary, version, source: 'installed' }
}
