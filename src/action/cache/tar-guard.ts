/**
 * The `tar` that `@actions/cache` runs while kugetsu restores an entry (see tar-guard-setup.ts):
 * an extraction is checked member by member before anything is written, then handed to the real
 * tar without `-P` (which would let `/x` and `../x` members through); anything else passes through.
 */
import { spawn } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { open, readFile, writeFile } from 'node:fs/promises'
import { createGunzip } from 'node:zlib'
import { ArchiveChecker, UnsafeArchiveError, type ArchiveLimits } from '../../archive/tar-check.js'

/** What a wrapper passes the guard (as JSON in a file of the private dir). */
export interface TarGuardConfig extends ArchiveLimits {
  /** Where a refusal's reason is written for the cache client. */
  report: string
}

function run(command: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit' })
    child.on('error', (error) => {
      process.stderr.write(`${command}: ${error.message}\n`)
      resolve(127)
    })
    child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1)))
  })
}

/** The archive `-xf ARCHIVE` (in one cluster, as @actions/cache writes it) names; else undefined. */
function extractedArchive(args: string[]): string | undefined | null {
  const index = args.findIndex((arg) => /^-[A-Za-z]*x[A-Za-z]*$/.test(arg) || arg === '--extract')
  if (index < 0) return undefined
  const cluster = args[index]
  return cluster.endsWith('f') && index + 1 < args.length ? args[index + 1] : null
}

async function magic(file: string): Promise<Buffer> {
  const handle = await open(file, 'r')
  try {
    const head = Buffer.alloc(4)
    const { bytesRead } = await handle.read(head, 0, 4, 0)
    return head.subarray(0, bytesRead)
  } finally {
    await handle.close()
  }
}

/** Feeds the decompressed archive to the checker; throws UnsafeArchiveError on a refusal. */
export async function checkArchiveFile(archive: string, limits: ArchiveLimits): Promise<void> {
  const checker = new ArchiveChecker(limits)
  const head = await magic(archive)
  const chunkSize = 1 << 20
  if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) {
    // node has no zstd: the zstd binary @actions/cache itself needs, bounded like its own.
    const child = spawn('zstd', ['-d', '-c', '-q', '--long=30', '--', archive], {
      stdio: ['ignore', 'pipe', 'pipe']
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text))
    const exited = new Promise<number | null>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', resolve)
    })
    try {
      for await (const chunk of child.stdout) checker.write(chunk as Buffer)
    } catch (error) {
      child.kill('SIGKILL')
      throw error
    }
    const code = await exited
    if (code !== 0) throw new Error(`zstd failed (${code}): ${stderr.trim().slice(0, 300)}`)
  } else {
    const input = createReadStream(archive, { highWaterMark: chunkSize })
    const source =
      head[0] === 0x1f && head[1] === 0x8b ? input.pipe(createGunzip({ chunkSize })) : input
    try {
      for await (const chunk of source) checker.write(chunk as Buffer)
    } finally {
      input.destroy()
    }
  }
  checker.end()
}

/**
 * Runs as the guard: `args` are `--config FILE --real TAR` and then tar's own arguments. The exit
 * code is tar's, or 2 for a refused archive (its reason in the config's report file).
 */
export async function runTarGuard(args: string[]): Promise<number> {
  if (args[0] !== '--config' || args[2] !== '--real' || args.length < 4) {
    process.stderr.write('kugetsu tar guard: bad arguments\n')
    return 2
  }
  const config = JSON.parse(await readFile(args[1], 'utf8')) as TarGuardConfig
  const realTar = args[3]
  const tarArgs = args.slice(4)
  const archive = extractedArchive(tarArgs)
  if (archive === undefined) return run(realTar, tarArgs)
  try {
    if (archive === null) throw new UnsafeArchiveError('unexpected tar command line')
    await checkArchiveFile(archive, config)
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error)
    const refused = error instanceof UnsafeArchiveError
    await writeFile(config.report, JSON.stringify({ refused, reason }) + '\n')
    process.stderr.write(`kugetsu refused the cache archive: ${reason}\n`)
    return 2
  }
  // The members were checked; tar's own defences stay on as a second line.
  return run(realTar, [...tarArgs.filter((arg) => arg !== '-P'), '--no-same-owner'])
}
