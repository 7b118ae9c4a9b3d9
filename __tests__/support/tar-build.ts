/**
 * Hand-built tar archives for the archive checks: ustar headers with exact checksums, pax and GNU
 * long-name extended headers, and any type or name a hostile archive could carry.
 */
import { spawnSync } from 'node:child_process'
import { gzipSync } from 'node:zlib'

export interface TarSpec {
  path: string
  /** '0' file (default), '1' hard link, '2' symlink, '3' char device, '5' directory, '6' fifo... */
  type?: string
  data?: string | Buffer
  linkpath?: string
  /** Name carried in a pax `path` record (the header gets a short stand-in). */
  pax?: boolean
  /** Name carried in a GNU `L` long-name header. */
  gnuLong?: boolean
  /** Size field override (e.g. to announce more than is there). */
  size?: number
  mode?: number
}

const BLOCK = 512

function header(
  fields: { name: string; type: string; size: number; linkname?: string; mode?: number },
  gnu = false
): Buffer {
  const block = Buffer.alloc(BLOCK)
  const put = (text: string, offset: number, length: number) =>
    block.write(text.slice(0, length), offset, length, 'latin1')
  const octal = (value: number, offset: number, length: number) =>
    put(value.toString(8).padStart(length - 1, '0') + '\0', offset, length)
  put(fields.name, 0, 100)
  octal(fields.mode ?? 0o644, 100, 8)
  octal(0, 108, 8)
  octal(0, 116, 8)
  octal(fields.size, 124, 12)
  octal(0, 136, 12)
  put(fields.type, 156, 1)
  put(fields.linkname ?? '', 157, 100)
  put(gnu ? 'ustar  \0' : 'ustar\u000000', 257, 8)
  block.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8)
  return block
}

const padded = (data: Buffer) =>
  Buffer.concat([data, Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK)])

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`
  let length = body.length + 1
  while (String(length).length + body.length !== length) length++
  return `${length}${body}`
}

/** A plain tar archive of the given members, ended by two zero blocks. */
export function tarArchive(specs: TarSpec[]): Buffer {
  const parts: Buffer[] = []
  for (const spec of specs) {
    const data = Buffer.from(spec.data ?? '')
    const type = spec.type ?? '0'
    if (spec.pax) {
      const records = Buffer.from(
        paxRecord('path', spec.path) + (spec.linkpath ? paxRecord('linkpath', spec.linkpath) : ''),
        'latin1'
      )
      parts.push(header({ name: 'PaxHeaders/x', type: 'x', size: records.length }), padded(records))
    }
    if (spec.gnuLong) {
      const name = Buffer.from(`${spec.path}\0`, 'latin1')
      parts.push(
        header({ name: '././@LongLink', type: 'L', size: name.length }, true),
        padded(name)
      )
    }
    const shortName = spec.pax || spec.gnuLong ? 'stand-in' : spec.path
    parts.push(
      header(
        {
          name: shortName,
          type,
          size: spec.size ?? data.length,
          linkname: spec.pax ? 'stand-in' : spec.linkpath,
          mode: spec.mode
        },
        spec.gnuLong
      ),
      padded(data)
    )
  }
  parts.push(Buffer.alloc(BLOCK * 2))
  return Buffer.concat(parts)
}

export const gzipped = (tar: Buffer) => gzipSync(tar)

/** zstd-compressed, as @actions/cache stores archives when zstd is there. */
export function zstdCompressed(tar: Buffer): Buffer {
  const out = spawnSync('zstd', ['-q', '-c'], { input: tar, maxBuffer: 1 << 30 })
  if (out.status !== 0) throw new Error(`zstd failed: ${out.stderr}`)
  return out.stdout
}
