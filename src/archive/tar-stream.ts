/**
 * A streaming reader of tar archives (POSIX ustar and pax, old GNU with its long names) that
 * reports each member as GNU tar would name it, so what is checked is what tar would write.
 */

/** An archive kugetsu will not extract, and why. */
export class UnsafeArchiveError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UnsafeArchiveError'
  }
}

/** An archive cut short: damaged in storage or transit, not dangerous in itself. */
export class TruncatedArchiveError extends Error {
  constructor() {
    super('the tar archive is truncated')
    this.name = 'TruncatedArchiveError'
  }
}

export interface TarMember {
  /** The member's name as tar reads it (pax `path`, GNU long name, ustar prefix + name). */
  path: string
  /** Target of a symlink or hard link. */
  linkpath: string
  /** The typeflag: '0' file, '1' hard link, '2' symlink, '5' directory, ... */
  type: string
  size: number
  mode: number
}

export interface TarHandlers {
  /** A member's header; return true to get its data through `data`. */
  member(member: TarMember): boolean | void
  data?(chunk: Buffer): void
  /** The data of a member `member` asked for is complete. */
  end?(): void
}

const BLOCK = 512
/** Extended headers (pax, GNU long names) held in memory: far above any real one. */
const MAX_META = 1024 * 1024
const META_TYPES = new Set(['x', 'g', 'L', 'K'])

const field = (header: Buffer, start: number, length: number): string => {
  const raw = header.subarray(start, start + length)
  const nul = raw.indexOf(0)
  return raw.subarray(0, nul < 0 ? length : nul).toString('latin1')
}

/** A numeric header field: octal text, or GNU's base-256 (high bit of the first byte set). */
function numeric(header: Buffer, start: number, length: number, what: string): number {
  const raw = header.subarray(start, start + length)
  if (raw[0] & 0x80) {
    if (raw[0] !== 0x80) throw new UnsafeArchiveError(`negative or huge ${what} in a tar header`)
    let value = 0
    for (const byte of raw.subarray(1)) value = value * 256 + byte
    if (!Number.isSafeInteger(value)) throw new UnsafeArchiveError(`huge ${what} in a tar header`)
    return value
  }
  const text = field(header, start, length).trim()
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) throw new UnsafeArchiveError(`bad ${what} in a tar header`)
  return parseInt(text, 8)
}

function checksumOk(header: Buffer): boolean {
  const stored = numeric(header, 148, 8, 'checksum')
  let unsigned = 0
  let signed = 0
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : header[i]
    unsigned += byte
    signed += byte > 127 ? byte - 256 : byte
  }
  return stored === unsigned || stored === signed
}

/** `len key=value\n` records; values are kept byte for byte (latin1). */
function parsePax(data: Buffer): Map<string, string> {
  const records = new Map<string, string>()
  let offset = 0
  while (offset < data.length) {
    const space = data.indexOf(0x20, offset)
    const lengthText = space < 0 ? '' : data.subarray(offset, space).toString('latin1')
    const length = Number(lengthText)
    if (!/^[1-9][0-9]*$/.test(lengthText) || offset + length > data.length) {
      throw new UnsafeArchiveError('malformed pax header')
    }
    const record = data.subarray(space + 1, offset + length)
    const eq = record.indexOf(0x3d)
    if (record[record.length - 1] !== 0x0a || eq <= 0) {
      throw new UnsafeArchiveError('malformed pax header')
    }
    records.set(
      record.subarray(0, eq).toString('latin1'),
      record.subarray(eq + 1, record.length - 1).toString('latin1')
    )
    offset += length
  }
  return records
}

type State =
  | { kind: 'header' }
  | { kind: 'meta'; type: string; left: number; pad: number; parts: Buffer[] }
  | { kind: 'data'; left: number; pad: number; wanted: boolean }
  | { kind: 'end' }

/**
 * Feed it the decompressed bytes with `write`, then call `end`. Throws UnsafeArchiveError for
 * anything it cannot read exactly as GNU tar would: bad checksums, unknown header formats,
 * malformed or ambiguous extended headers, data after the end marker; TruncatedArchiveError for an
 * archive cut short.
 */
export class TarStream {
  private pending: Buffer = Buffer.alloc(0)
  private state: State = { kind: 'header' }
  private pax = new Map<string, string>()
  private longName: string | undefined
  private longLink: string | undefined

  constructor(private readonly handlers: TarHandlers) {}

  write(chunk: Buffer): void {
    let input = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk
    this.pending = Buffer.alloc(0)
    while (input.length > 0) {
      const state = this.state
      if (state.kind === 'end') {
        if (input.some((byte) => byte !== 0)) {
          throw new UnsafeArchiveError('data after the end of the tar archive')
        }
        return
      }
      if (state.kind === 'data') {
        if (state.left > 0) {
          const take = Math.min(state.left, input.length)
          if (state.wanted) this.handlers.data?.(input.subarray(0, take))
          state.left -= take
          input = input.subarray(take)
          if (state.left === 0 && state.wanted) this.handlers.end?.()
          continue
        }
        const skip = Math.min(state.pad, input.length)
        state.pad -= skip
        input = input.subarray(skip)
        if (state.pad === 0) this.state = { kind: 'header' }
        continue
      }
      if (state.kind === 'meta') {
        const take = Math.min(state.left + state.pad, input.length)
        const part = input.subarray(0, Math.min(take, state.left))
        if (part.length) state.parts.push(Buffer.from(part))
        const used = Math.min(take, state.left)
        state.left -= used
        state.pad -= take - used
        input = input.subarray(take)
        if (state.left === 0 && state.pad === 0) {
          this.meta(state.type, Buffer.concat(state.parts))
          this.state = { kind: 'header' }
        }
        continue
      }
      if (input.length < BLOCK) {
        this.pending = Buffer.from(input)
        return
      }
      this.header(input.subarray(0, BLOCK))
      input = input.subarray(BLOCK)
    }
  }

  end(): void {
    const state = this.state
    if (this.pending.length > 0 || state.kind === 'meta' || state.kind === 'data') {
      throw new TruncatedArchiveError()
    }
    if (this.pax.size > 0 || this.longName !== undefined || this.longLink !== undefined) {
      throw new UnsafeArchiveError('the tar archive ends with an extended header')
    }
  }

  private header(header: Buffer): void {
    if (header.every((byte) => byte === 0)) {
      if (this.pax.size > 0 || this.longName !== undefined || this.longLink !== undefined) {
        throw new UnsafeArchiveError('the tar archive ends with an extended header')
      }
      this.state = { kind: 'end' }
      return
    }
    const magic = header.subarray(257, 265).toString('latin1')
    const posix = magic === 'ustar\u000000'
    if (!posix && magic !== 'ustar  \u0000') {
      throw new UnsafeArchiveError('a tar header is neither POSIX ustar nor GNU')
    }
    if (!checksumOk(header)) throw new UnsafeArchiveError('bad checksum in a tar header')
    const type = header[156] === 0 ? '0' : String.fromCharCode(header[156])
    let size = numeric(header, 124, 12, 'size')
    const padOf = (n: number) => (BLOCK - (n % BLOCK)) % BLOCK

    if (META_TYPES.has(type)) {
      if (size > MAX_META) throw new UnsafeArchiveError('oversized extended tar header')
      this.state = { kind: 'meta', type, left: size, pad: padOf(size), parts: [] }
      if (size === 0) {
        this.meta(type, Buffer.alloc(0))
        this.state = { kind: 'header' }
      }
      return
    }

    const name = field(header, 0, 100)
    const prefix = posix ? field(header, 345, 155) : ''
    const fromHeader = prefix ? `${prefix}/${name}` : name
    const paxPath = this.pax.get('path')
    if (paxPath !== undefined && this.longName !== undefined) {
      throw new UnsafeArchiveError('a tar member has both a pax path and a GNU long name')
    }
    const paxLink = this.pax.get('linkpath')
    if (paxLink !== undefined && this.longLink !== undefined) {
      throw new UnsafeArchiveError('a tar member has both a pax linkpath and a GNU long link')
    }
    const paxSize = this.pax.get('size')
    if (paxSize !== undefined) {
      if (!/^[0-9]{1,15}$/.test(paxSize)) throw new UnsafeArchiveError('bad pax size')
      size = Number(paxSize)
    }
    const member: TarMember = {
      path: paxPath ?? this.longName ?? fromHeader,
      linkpath: paxLink ?? this.longLink ?? field(header, 157, 100),
      type,
      size,
      mode: numeric(header, 100, 8, 'mode')
    }
    this.pax = new Map()
    this.longName = undefined
    this.longLink = undefined
    // Readers differ on whether such members' data follows: none may have any.
    if (['1', '2', '3', '4', '5', '6'].includes(type) && size !== 0) {
      throw new UnsafeArchiveError('a link, directory or device tar member carries data')
    }
    const wanted = this.handlers.member(member) === true
    if (wanted && size === 0) this.handlers.end?.()
    this.state = { kind: 'data', left: size, pad: padOf(size), wanted }
  }

  private meta(type: string, data: Buffer): void {
    if (type === 'L' || type === 'K') {
      // GNU long names are NUL-terminated within their data.
      const nul = data.indexOf(0)
      const value = data.subarray(0, nul < 0 ? data.length : nul).toString('latin1')
      if (type === 'L') this.longName = value
      else this.longLink = value
      return
    }
    const records = parsePax(data)
    for (const key of records.keys()) {
      if (key.startsWith('GNU.sparse')) throw new UnsafeArchiveError('sparse tar members')
      if (type === 'g' && ['path', 'linkpath', 'size'].includes(key)) {
        throw new UnsafeArchiveError(`a global pax header sets ${key}`)
      }
    }
    if (type === 'x') for (const [key, value] of records) this.pax.set(key, value)
  }
}
